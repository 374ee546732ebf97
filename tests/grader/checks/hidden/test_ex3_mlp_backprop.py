"""Hidden checks of exercise 3 against right and deliberately wrong MLPs (see make_student)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import grader.checks.hidden.ex3_mlp_backprop as hidden
from grader.checks.base import REGISTRY
from reference import mlp as reference_mlp
from tests.grader.checks.test_ex3_mlp_backprop import CORRECT, HIDDEN, STEM, make_student

BACKWARD_REFERENCE = [f"backward.reference.{h}" for h in ("identity", "sigmoid", "tanh", "relu")]
FORWARD_REFERENCE = [f"forward.reference.{h}" for h in ("identity", "sigmoid", "tanh", "relu")]
GRADCHECKS = ["backward.gradcheck.random", "backward.gradcheck.large"]


def test_hidden_module_registers_only_hidden_tests():
    assert set(HIDDEN) == {n for n, c in REGISTRY[STEM].items() if c.run.__module__ == hidden.__name__}
    assert {"forward.stability", "forward.no_mutation", "backward.no_mutation", *GRADCHECKS} <= set(HIDDEN)


@pytest.mark.parametrize("seed", [0, 11])
@pytest.mark.parametrize("student", sorted(CORRECT))
def test_correct_implementations_pass_every_hidden_check(run_check, student, seed):
    namespace = CORRECT[student]()
    for name in HIDDEN:
        outcome = run_check(STEM, name, namespace, seed=seed)
        assert outcome.status == "passed", (name, outcome.feedback)
        assert outcome.diagnosis is None


def everywhere(code, checks=(*BACKWARD_REFERENCE, *GRADCHECKS)):
    return {name: code for name in checks}


# mistake -> {hidden check: diagnosis it must carry (None: must fail without one)}
BROKEN = {
    "softmax_axis0": everywhere("softmax_wrong_axis", FORWARD_REFERENCE),
    "softmax_naive": {"forward.stability": "softmax_unstable"},
    "mutate_X": {"forward.no_mutation": "mutates_input"},
    "mutate_cache": {"backward.no_mutation": "mutates_input"},
    "mutate_params": {"backward.no_mutation": "mutates_input"},
    "sign_flipped": everywhere("sign_flipped"),
    "mean_twice": everywhere("batch_mean_twice"),
    "batch_sum": everywhere("batch_sum_not_mean"),
    "transposed": everywhere("transposed"),
    "reversed_order": everywhere("layer_order_reversed"),
    "mse_ce_delta": everywhere("mse_with_ce_delta", BACKWARD_REFERENCE),
    "missing_derivative": {"backward.reference.sigmoid": "missing_activation_derivative",
                           "backward.reference.tanh": "missing_activation_derivative",
                           "backward.reference.relu": "relu_derivative_constant",
                           "backward.gradcheck.random": "missing_activation_derivative",
                           "backward.gradcheck.large": "relu_derivative_constant"},
    "activation_instead": everywhere("activation_instead_of_derivative", BACKWARD_REFERENCE),
    "derivative_of_A": {"backward.reference.sigmoid": "derivative_of_wrong_input",
                        "backward.reference.tanh": "derivative_of_wrong_input"},
    "a_form_on_Z": {"backward.reference.sigmoid": "derivative_of_wrong_input",
                    "backward.reference.tanh": "derivative_of_wrong_input"},
    "relu_constant": {"backward.reference.relu": "relu_derivative_constant",
                      "backward.gradcheck.large": "relu_derivative_constant"},
    "activation_twice": {**everywhere("activation_applied_twice", FORWARD_REFERENCE[1:]),
                         "backward.reference.tanh": None},
}
# Mistakes a variant of the reference cannot be told from the right answer for these activations.
STILL_PASSING = {
    "missing_derivative": ["backward.reference.identity"],
    "derivative_of_A": ["backward.reference.identity", "backward.reference.relu"],
    "a_form_on_Z": ["backward.reference.identity", "backward.reference.relu"],
    "relu_constant": ["backward.reference.identity", "backward.reference.sigmoid", "backward.reference.tanh"],
    "softmax_naive": [*FORWARD_REFERENCE, *BACKWARD_REFERENCE],
    "activation_twice": ["forward.reference.identity"],  # identity(Z) = Z: nothing applied twice
}


@pytest.mark.parametrize("mistake", sorted(BROKEN))
def test_each_mistake_fails_its_hidden_checks_with_its_diagnosis(run_check, mistake):
    namespace = make_student(mistake)
    for name, diagnosis in BROKEN[mistake].items():
        outcome = run_check(STEM, name, namespace)
        assert outcome.status == "failed", (name, outcome.status, outcome.feedback)
        assert outcome.diagnosis == diagnosis, (name, outcome.feedback)
    for name in STILL_PASSING.get(mistake, []):
        assert run_check(STEM, name, namespace).status == "passed", name


def test_a_wrong_forward_is_named_before_backward(run_check):
    outcome = run_check(STEM, "backward.reference.tanh", make_student("output_uses_hidden"))
    assert outcome.status == "failed" and "fix forward first" in outcome.feedback


def test_a_handle_cache_counts_as_unchanged(run_check):
    # The reference's cache is a dataclass: it stays in the worker, and backward leaves it alone.
    outcome = run_check(STEM, "backward.no_mutation", {"forward": reference_mlp.forward,
                                                       "backward": reference_mlp.backward})
    assert outcome.status == "passed"


@pytest.mark.parametrize("mistake", ["sign_flipped", "missing_derivative", "transposed", "softmax_axis0"])
def test_hidden_feedback_shows_errors_and_shapes_but_no_values(run_check, mistake):
    """The only decimals in hidden feedback are norm-relative errors like 1.21e-02."""
    namespace = make_student(mistake)
    failed = 0
    for name in [*BACKWARD_REFERENCE, *FORWARD_REFERENCE, "backward.gradcheck.random"]:
        outcome = run_check(STEM, name, namespace)
        if outcome.status == "failed":
            failed += 1
            decimals = re.findall(r"-?\d+\.\d+(?:e[+-]\d+)?", outcome.feedback)
            assert all(re.fullmatch(r"\d\.\d\de[+-]\d\d", d) for d in decimals), (name, decimals)
    assert failed


def test_safe_case_keeps_relu_away_from_the_kink():
    rng = np.random.default_rng(5)
    for _ in range(5):
        case = hidden.safe_case(rng, 3, "relu", "softmax", "cce", margin=1e-2)
        _, cache = reference_mlp.forward(case.params, case.X, hidden="relu", output="softmax")
        assert min(np.min(np.abs(Z)) for Z in cache.pre_activations[:-1]) > 1e-2


@pytest.mark.parametrize("sent, after, changed", [
    ([np.zeros(2), (np.ones(2),)], [np.zeros(2), (np.ones(2),)], None),
    ([np.zeros(2), (np.ones(2),)], [np.zeros(2), (np.array([1.0, 2.0]),)], "x[1][0]"),
    ({"A": [np.zeros((2, 2))]}, {"A": [np.zeros((2, 2)), np.zeros(1)]}, "x['A']"),
    ({"__handle__": 1, "type": "Cache"}, {"__handle__": 2, "type": "Cache"}, None),
    (3.0, 4.0, "x"),
])
def test_changed_argument_names_the_changed_part(sent, after, changed):
    assert hidden.changed_argument(sent, after, "x") == changed
