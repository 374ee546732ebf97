"""Hidden checks of exercise 5 against right and deliberately wrong engines (see make_tensor_engine)."""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import grader.checks.hidden.ex5_autograd_tensor as hidden
from tests.grader.checks.test_ex5_autograd_tensor import CORRECT, HIDDEN, STEM, make_tensor_engine


@pytest.mark.parametrize("seed", [0, 9])
@pytest.mark.parametrize("student", sorted(CORRECT))
def test_correct_engines_pass_every_hidden_check(run_check, student, seed):
    namespace = CORRECT[student]()
    for name in HIDDEN:
        outcome = run_check(STEM, name, namespace, seed=seed)
        assert outcome.status == "passed", (name, outcome.feedback)
        assert outcome.diagnosis is None


# mistake -> {hidden check: (status, diagnosis)}
BROKEN = {
    "no_unbroadcast": {"Tensor.random_broadcasting": ("failed", "broadcast_grad_not_reduced")},
    "overwrite": {"Tensor.random_graphs": ("failed", "gradient_overwritten")},
    "relu_inplace": {"Tensor.no_mutation": ("failed", "mutates_input"),
                     "Tensor.random_ops": ("failed", "mutates_input")},
    "naive_ce": {"cross_entropy.reference": ("failed", "softmax_unstable")},
    "ce_sum": {"cross_entropy.reference": ("failed", "batch_sum_not_mean")},
    "matmul_transposed": {"Tensor.random_ops": ("failed", "transposed")},
    "mean_no_divide": {"Tensor.random_reductions": ("failed", None), "mse_loss.reference": ("failed", None)},
    "tanh_of_input": {"Tensor.random_ops": ("failed", "derivative_of_wrong_input")},
    "div_sign": {"Tensor.random_ops": ("failed", "sign_flipped"),
                 "Tensor.random_broadcasting": ("failed", "sign_flipped")},
    "ce_axis0": {"cross_entropy.reference": ("failed", "softmax_wrong_axis")},
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the naive softmax overflows, as it should
@pytest.mark.parametrize("mistake", sorted(BROKEN))
def test_each_mistake_fails_its_hidden_checks_with_its_diagnosis(run_check, mistake):
    namespace = make_tensor_engine(mistake)
    for name, (status, diagnosis) in BROKEN[mistake].items():
        outcome = run_check(STEM, name, namespace)
        assert (outcome.status, outcome.diagnosis) == (status, diagnosis), (name, outcome.feedback)


@pytest.mark.parametrize("mistake", ["overwrite", "tanh_of_input", "div_sign", "mean_no_divide"])
def test_hidden_feedback_shows_no_values(run_check, mistake):
    namespace = make_tensor_engine(mistake)
    failed = [o for o in (run_check(STEM, name, namespace) for name in HIDDEN) if o.status == "failed"]
    assert failed
    for outcome in failed:
        assert not re.search(r"\d\.\d", outcome.feedback), outcome.feedback


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_graphs_reach_every_leaf_and_stay_moderate(seed):
    case, result = hidden.random_graph(np.random.default_rng(seed))
    assert all(np.all(np.abs(d) < 1e3) for d in result["data"])
    assert result["grad"][0] is not None  # the (B, C) leaf always feeds the final product
    assert len(case.names) == len(case.spec["nodes"])


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(hidden.OPERATIONS))
def test_operation_cases_are_in_their_domains_and_non_square(seed, name):
    case = hidden.operation_case(np.random.default_rng(seed), name)
    result = hidden.run_reference(case.spec)
    assert all(np.all(np.isfinite(d)) for d in result["data"])
    first = case.spec["nodes"][0][1]
    assert first.ndim == 2 and first.shape[0] != first.shape[1]


def test_every_broadcast_pattern_gives_a_batch_by_class_result():
    rng = np.random.default_rng(4)
    for pattern in hidden.PATTERNS:
        case = hidden.broadcast_case(rng, "mul", pattern)
        shapes = [np.shape(n[1]) for n in case.spec["nodes"][:2]]
        assert np.broadcast_shapes(*shapes) == np.shape(case.spec["backward"][0][1])
