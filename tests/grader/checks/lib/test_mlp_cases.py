"""MLP cases: shapes that cannot hide a transpose, and the flat per-tensor order."""
from __future__ import annotations

import numpy as np
import pytest

from grader.checks.lib.mlp_cases import case_from_data, distinct_shapes, flat_params, random_case, tensor_name, unflatten


@pytest.mark.parametrize("seed", range(5))
def test_random_cases_have_every_size_different_and_targets_of_their_loss(seed):
    rng = np.random.default_rng(seed)
    sizes, batch = distinct_shapes(rng, 3)
    assert len(set(sizes)) == 4 and batch not in sizes and sizes[-1] >= 3
    case = random_case(rng, 2, "tanh", "softmax", "cce")
    assert case.depth == 2 and case.Y.shape == (case.batch, case.sizes[-1])
    assert np.array_equal(case.Y.sum(axis=1), np.ones(case.batch))  # one-hot rows for cce


def test_flat_params_and_unflatten_are_inverse_and_named_by_layer():
    case = random_case(np.random.default_rng(0), 2, "relu", "identity", "mse")
    flat = flat_params(case.params)
    assert [t.shape for t in flat] == [p.shape for layer in case.params for p in layer]
    assert all(np.array_equal(a, b) for a, b in zip(flat_params(unflatten(flat)), flat))
    assert [tensor_name(i) for i in range(3)] == ["dW[0] (layer 1)", "db[0] (layer 1)", "dW[1] (layer 2)"]


def test_a_case_from_fixture_data_keeps_its_arrays():
    case = random_case(np.random.default_rng(1), 1, "sigmoid", "sigmoid", "bce")
    data = {"params": [list(p) for p in case.params], "X": case.X, "Y": case.Y, "hidden": "sigmoid",
            "output": "sigmoid", "loss": "bce"}
    again = case_from_data(data)
    assert again.label() == case.label() and np.array_equal(again.X, case.X)
