"""Layout evidence: transposed weight gradients and layers in reverse order."""
from __future__ import annotations

import numpy as np
import pytest

from grader.diagnosis.layout import layout_candidates, reversed_layers, transposed_back, transposed_code

M = np.arange(6.0).reshape(3, 2)


@pytest.mark.parametrize("got, expected, code", [
    (M.T, M, "transposed"),
    (M, M, None),
    (np.array([[1.0, 2.0], [2.0, 1.0]]),) * 2 + (None,),  # symmetric: nothing to say
    (M.T + 0.1, M, None),
    (np.arange(6.0), M, None),
    (np.stack([M.T, 2 * M.T]), np.stack([M, 2 * M]), "transposed"),  # the last two axes of a stack
    (np.array([[np.nan, 1.0, 2.0], [3.0, 4.0, 5.0]]), M, None),
])
def test_transposed_code(got, expected, code):
    assert transposed_code(got, expected, 1e-9) == code


def test_transposed_back_turns_only_what_then_fits():
    tensors = [M.T, np.ones(2), np.ones((2, 2))]
    fixed = transposed_back(tensors, [(3, 2), (2,), (2, 2)])
    assert fixed[0].shape == (3, 2) and fixed[1].shape == (2,)
    assert np.array_equal(fixed[2], np.ones((2, 2)))


def test_reversed_layers_keeps_pairs_together():
    assert reversed_layers(["W1", "b1", "W2", "b2", "W3", "b3"]) == ["W3", "b3", "W2", "b2", "W1", "b1"]
    assert reversed_layers(["L1", "L2"], per_layer=1) == ["L2", "L1"]


def test_layout_candidates_undo_each_slip_and_drop_what_does_not_fit():
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (3,), (3, 2), (2,)]
    right = [rng.normal(size=s) for s in shapes]
    transposed = [t.T if t.ndim == 2 else t for t in right]
    reversed_ = reversed_layers(right)
    # Shapes decide, not values: a right answer is its own 'transposed' candidate (nothing turns).
    assert set(layout_candidates(right, shapes)) == {"transposed"}
    fixed = layout_candidates(transposed, shapes)["transposed"]
    assert all(np.array_equal(a, b) for a, b in zip(fixed, right))
    assert "layer_order_reversed" not in layout_candidates(transposed, shapes)
    back = layout_candidates(reversed_, shapes)["layer_order_reversed"]
    assert all(np.array_equal(a, b) for a, b in zip(back, right))
    assert "transposed" not in layout_candidates(reversed_, shapes)
