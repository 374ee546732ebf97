"""Public checks of exercise 3 against right and deliberately wrong MLPs.

`make_student(*mistakes)` builds an MLP written differently from the reference (a loop over
the examples, sigmoid through tanh, softmax through logsumexp, normal Xavier weights, the cache
a plain dict); each mistake switches in one known slip. The hidden checks' tests use it too.
"""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import grader.checks.ex3_mlp_backprop as public
import grader.checks.hidden.ex3_mlp_backprop  # noqa: F401 - registers the hidden checks
from grader.authoring.check_groups import CHECK_GROUPS, group_of
from grader.checks.base import REGISTRY, ok
from grader.rubric import load_rubric
from reference import mlp as reference_mlp

STEM = "ex3_mlp_backprop"
PUBLIC = [name for name, c in REGISTRY[STEM].items() if c.run.__module__ == public.__name__]
HIDDEN = [name for name in REGISTRY[STEM] if name not in PUBLIC]
SOLUTION = Path(__file__).resolve().parents[3] / "solutions" / f"{STEM}.py"

MISTAKES = {
    "he_init", "global_seed", "bias_init", "init_transposed",
    "softmax_axis0", "softmax_naive", "output_uses_hidden", "activation_twice", "mutate_X",
    "sign_flipped", "mean_twice", "batch_sum", "transposed", "reversed_order", "mse_ce_delta",
    "missing_derivative", "activation_instead", "derivative_of_A", "a_form_on_Z", "relu_constant",
    "mutate_cache", "mutate_params",
}


def make_student(*mistakes: str) -> dict:
    """init_params, forward and backward written apart from the reference, with `mistakes` switched in."""
    unknown = set(mistakes) - MISTAKES
    if unknown:
        raise ValueError(f"unknown mistakes {unknown}")
    m = set(mistakes)

    def sigmoid(z):
        return 0.5 * (1.0 + np.tanh(0.5 * z))

    def softmax(z):
        if "softmax_naive" in m:
            with np.errstate(all="ignore"):
                e = np.exp(z)
                return e / e.sum(axis=1, keepdims=True)
        if "softmax_axis0" in m:
            return np.exp(z - np.logaddexp.reduce(z, axis=0, keepdims=True))
        return np.exp(z - np.logaddexp.reduce(z, axis=1, keepdims=True))

    act = {"identity": lambda z: z + 0.0, "sigmoid": sigmoid, "tanh": np.tanh,
           "relu": lambda z: np.where(z > 0, z, 0.0), "softmax": softmax}
    slope = {"identity": lambda z: np.ones_like(z), "sigmoid": lambda z: sigmoid(z) * sigmoid(-z),
             "tanh": lambda z: 1.0 / np.cosh(z) ** 2, "relu": lambda z: np.where(z > 0, 1.0, 0.0)}

    def init_params(layer_sizes, seed=0):
        rng = np.random.default_rng(seed)
        params = []
        for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
            std = math.sqrt(2.0 / n_in) if "he_init" in m else math.sqrt(2.0 / (n_in + n_out))
            shape = (n_out, n_in) if "init_transposed" in m else (n_in, n_out)
            W = np.random.standard_normal(shape) * std if "global_seed" in m else rng.normal(0.0, std, shape)
            params.append((W, np.full(n_out, 0.1 if "bias_init" in m else 0.0)))
        return params

    def forward(params, X, hidden="sigmoid", output="softmax"):
        A, cache = X, {"A": [X.copy()], "Z": [], "hidden": hidden, "output": output}
        for index, (W, b) in enumerate(params):
            Z = np.array([row @ W for row in A]) + b  # one example at a time
            last = index == len(params) - 1
            A = act[hidden if not last or "output_uses_hidden" in m else output](Z)
            if last and "activation_twice" in m:  # the hidden activation, then the output's on top
                A = act[output](act[hidden](Z))
            cache["Z"].append(Z)
            cache["A"].append(A)
        if "mutate_X" in m:
            X *= 2.0
        return A, cache

    def output_delta(Y_hat, Y, loss, output):
        B, C = Y.shape
        diff = Y - Y_hat if "sign_flipped" in m else Y_hat - Y
        per_row = "batch_sum" in m
        if loss == "cce":
            return diff if per_row else diff / B
        if loss == "bce":
            return diff / C if per_row else diff / (B * C)
        if "mse_ce_delta" in m:
            return diff / B
        return 2.0 * diff / C if per_row else 2.0 * diff / (B * C)

    def factor(hidden, Z, A):
        if "relu_constant" in m and hidden == "relu":
            return np.ones_like(Z)
        if "missing_derivative" in m:
            return 1.0
        if "activation_instead" in m:
            return A
        if "derivative_of_A" in m:
            return slope[hidden](A)
        if "a_form_on_Z" in m and hidden in ("sigmoid", "tanh"):
            return Z * (1.0 - Z) if hidden == "sigmoid" else 1.0 - Z ** 2
        return slope[hidden](Z)

    def backward(params, cache, Y, loss="cce"):
        A, Z = cache["A"], cache["Z"]
        B = Y.shape[0]
        if "mutate_cache" in m:  # right numbers, but written into the cache's Y_hat
            delta = A[-1]
            delta -= Y
            delta *= output_delta(np.ones_like(Y), np.zeros_like(Y), loss, cache["output"])  # the 1/count
        else:
            delta = output_delta(A[-1], Y, loss, cache["output"])
        grads = []
        for layer in range(len(params) - 1, -1, -1):
            dW = delta.T @ A[layer] if "transposed" in m else A[layer].T @ delta
            db = delta.sum(axis=0)
            if "mean_twice" in m:
                dW, db = dW / B, db / B
            grads.append((dW, db))
            if layer > 0:
                delta = (delta @ params[layer][0].T) * factor(cache["hidden"], Z[layer - 1], A[layer])
        if "mutate_params" in m:
            for (W, b), (dW, db) in zip(params, grads[::-1]):
                if W.shape == dW.shape:
                    W -= 0.1 * dW
        return grads if "reversed_order" in m else grads[::-1]

    return {"init_params": init_params, "forward": forward, "backward": backward}


def reference_student() -> dict:
    return {"init_params": reference_mlp.init_params, "forward": reference_mlp.forward,
            "backward": reference_mlp.backward}


def solution_student() -> dict:
    spec = importlib.util.spec_from_file_location(f"solution_{STEM}", SOLUTION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: getattr(module, name) for name in ("init_params", "forward", "backward")}


CORRECT = {"reference": reference_student, "rewritten": make_student}
if SOLUTION.exists():
    CORRECT["solution"] = solution_student




def test_rubric_and_registry_name_the_same_tests():
    rubric = load_rubric(STEM)
    assert set(rubric.tests) == set(REGISTRY[STEM])
    assert rubric.max_score == 25.0
    for name in REGISTRY[STEM]:
        assert group_of(STEM, name) in CHECK_GROUPS[STEM], name
        assert rubric.tests[name].visibility == ("visible" if name in PUBLIC else "hidden"), name


def test_every_group_has_a_public_check():
    assert {group_of(STEM, name) for name in PUBLIC} == set(CHECK_GROUPS[STEM])


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("student", sorted(CORRECT))
def test_correct_implementations_pass_every_public_check(run_check, student, seed):
    namespace = CORRECT[student]()
    for name in PUBLIC:
        outcome = run_check(STEM, name, namespace, seed=seed)
        assert outcome.status == "passed", (name, outcome.feedback)
        assert outcome.diagnosis is None


GRADCHECKS = [f"backward.gradcheck.{h}" for h in public.HIDDEN_ACTIVATIONS]
BACKWARD_VALUES = ["backward.values", *GRADCHECKS]

# mistake -> {check: diagnosis it must carry (None: must fail without one)}
BROKEN = {
    "he_init": {"init_params.scale": None},
    "bias_init": {"init_params.scale": None},
    "global_seed": {"init_params.seed": None},
    "init_transposed": {"init_params.shapes": None, "init_params.scale": None},
    "softmax_axis0": {"forward.values": "softmax_wrong_axis", "forward.properties": "softmax_wrong_axis"},
    "output_uses_hidden": {"forward.values": None, "backward.values": None},
    "sign_flipped": {"backward.lecture": "sign_flipped", **{c: "sign_flipped" for c in BACKWARD_VALUES}},
    "mean_twice": {c: "batch_mean_twice" for c in BACKWARD_VALUES},
    "batch_sum": {c: "batch_sum_not_mean" for c in BACKWARD_VALUES},
    "transposed": {"backward.lecture": "transposed", "backward.shapes": "transposed",
                   **{c: "transposed" for c in BACKWARD_VALUES}},
    "reversed_order": {"backward.lecture": "layer_order_reversed", "backward.shapes": "layer_order_reversed",
                       **{c: "layer_order_reversed" for c in BACKWARD_VALUES}},
    "mse_ce_delta": {c: "mse_with_ce_delta" for c in BACKWARD_VALUES},
    "missing_derivative": {"backward.lecture": "missing_activation_derivative",
                           "backward.values": "missing_activation_derivative",
                           "backward.gradcheck.sigmoid": "missing_activation_derivative",
                           "backward.gradcheck.tanh": "missing_activation_derivative",
                           "backward.gradcheck.relu": "relu_derivative_constant"},  # the same numbers for ReLU
    "activation_instead": {c: "activation_instead_of_derivative" for c in ["backward.lecture", *BACKWARD_VALUES]},
    "derivative_of_A": {"backward.lecture": "derivative_of_wrong_input", "backward.values": "derivative_of_wrong_input",
                        "backward.gradcheck.sigmoid": "derivative_of_wrong_input",
                        "backward.gradcheck.tanh": "derivative_of_wrong_input"},
    "a_form_on_Z": {"backward.values": "derivative_of_wrong_input",
                    "backward.gradcheck.sigmoid": "derivative_of_wrong_input",
                    "backward.gradcheck.tanh": "derivative_of_wrong_input"},
    "relu_constant": {"backward.values": "relu_derivative_constant", "backward.gradcheck.relu": "relu_derivative_constant"},
    "activation_twice": {"forward.values": "activation_applied_twice", "backward.values": None},
}
# Mistakes only the hidden checks see: every public check passes.
PUBLIC_BLIND = ["softmax_naive", "mutate_X", "mutate_cache", "mutate_params"]


@pytest.mark.parametrize("mistake", sorted(BROKEN))
def test_each_mistake_fails_its_checks_with_its_diagnosis(run_check, mistake):
    namespace = make_student(mistake)
    expected = BROKEN[mistake]
    for name, diagnosis in expected.items():
        outcome = run_check(STEM, name, namespace)
        assert outcome.status == "failed", (name, outcome.status, outcome.feedback)
        assert outcome.diagnosis == diagnosis, (name, outcome.feedback)
        assert outcome.feedback
    # A mistake in one function leaves the other functions' checks passing.
    group = {group_of(STEM, name) for name in expected}
    for name in PUBLIC:
        if group_of(STEM, name) not in group and not (group == {"forward"} and name.startswith("backward")):
            assert run_check(STEM, name, namespace).status == "passed", name


@pytest.mark.parametrize("mistake", PUBLIC_BLIND)
def test_mistakes_for_the_hidden_checks_pass_the_public_ones(run_check, mistake):
    namespace = make_student(mistake)
    for name in PUBLIC:
        assert run_check(STEM, name, namespace).status == "passed", name


def test_missing_functions_give_status_missing(run_check):
    outcome = run_check(STEM, "backward.values", {"forward": make_student()["forward"]})
    assert outcome.status == "missing"


def test_a_raising_backward_gives_status_error(run_check):
    def backward(params, cache, Y, loss="cce"):
        raise ValueError("not yet")

    outcome = run_check(STEM, "backward.gradcheck.tanh", {**make_student(), "backward": backward})
    assert outcome.status == "error"


@pytest.mark.parametrize("returned, words", [
    (lambda p, c, Y, loss: None, "list of (dW, db)"),
    (lambda p, c, Y, loss: [(np.zeros(1), np.zeros(1))], "item(s)"),
    (lambda p, c, Y, loss: [("a", "b") for _ in p], "should be an array"),
])
def test_wrong_return_types_fail_with_a_message(run_check, returned, words):
    outcome = run_check(STEM, "backward.values", {**make_student(), "backward": returned})
    assert outcome.status == "failed" and words in outcome.feedback


def test_forward_returning_only_y_hat_fails_with_a_message(run_check):
    student = make_student()
    outcome = run_check(STEM, "forward.values", {"forward": lambda *a, **k: student["forward"](*a, **k)[0]})
    assert outcome.status == "failed" and "(Y_hat, cache)" in outcome.feedback


def test_lecture_feedback_quotes_the_lecture(run_check):
    outcome = run_check(STEM, "forward.lecture", make_student("output_uses_hidden"))
    assert outcome.status == "passed"  # sigmoid everywhere: the lecture's network cannot tell
    outcome = run_check(STEM, "backward.lecture", make_student("derivative_of_A"))
    printed = public.build_lecture()["printed"]
    assert f"delta_out = {printed['delta_out']:.3f}" in outcome.feedback
    assert f"{printed['grad_w'][0]:.3f}" in outcome.feedback


# The statistical test of init_params.scale, run many times.

def test_xavier_scale_accepts_uniform_and_normal_over_many_draws(run_check):
    for seed in range(60):
        for student in (reference_student(), make_student()):
            assert run_check(STEM, "init_params.scale", student, seed=seed).status == "passed", seed


@pytest.mark.parametrize("variance", [
    lambda n_in, n_out: 1.0 / n_in,  # LeCun
    lambda n_in, n_out: 2.0 / n_in,  # He
    lambda n_in, n_out: 1.0 / (n_in + n_out),  # half of Xavier
])
def test_xavier_scale_rejects_other_variances(run_check, variance):
    def init_params(layer_sizes, seed=0):
        rng = np.random.default_rng(seed)
        return [(rng.normal(0.0, math.sqrt(variance(a, b)), (a, b)), np.zeros(b))
                for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]

    for seed in range(5):
        assert run_check(STEM, "init_params.scale", {"init_params": init_params}, seed=seed).status == "failed"


# Helpers, alone.

@given(st.integers(3, 50), st.sampled_from(["cce", "bce", "mse"]), st.integers(1, 9))
def test_scale_mistake_names_the_factors(batch, loss, classes):
    def name(f):
        return public.scale_mistake(f, batch=batch, classes=classes, loss=loss, rtol=1e-4)

    # For mse, n_L / 2 or B n_L / 2 can equal B: then the factor names nothing.
    mse_clash = loss == "mse" and batch in (classes / 2.0, batch * classes / 2.0)
    assert name(-1.0) == "sign_flipped"
    assert name(1.0) is None
    assert name(float(batch)) == (None if mse_clash else "batch_sum_not_mean")
    assert name(1.0 / batch) == "batch_mean_twice"
    assert name(1.0 + 1e-3) is None
    if loss == "mse" and classes > 2 and not mse_clash:
        assert name(classes / 2.0) == "mse_with_ce_delta"
        assert name(batch * classes / 2.0) == "mse_with_ce_delta"
    if loss != "mse":
        assert name(classes / 2.0) in (None, "batch_sum_not_mean", "batch_mean_twice", "sign_flipped")


@settings(max_examples=50)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.booleans())
def test_distinct_shapes_are_all_different(seed, depth, batch_one):
    sizes, batch = public.distinct_shapes(np.random.default_rng(seed), depth, batch_one)
    assert len(set(sizes)) == depth + 1 and sizes[-1] >= 3
    assert batch == 1 if batch_one else (batch >= 3 and batch not in sizes and batch != sizes[-1] / 2)


@pytest.mark.parametrize("analytic, numeric, agrees", [
    (1.0, 1.0 + 1e-7, True), (1.0, 1.01, False), (0.0, 1e-12, True), (-1.0, 1.0, False),
])
def test_slope_agreement(analytic, numeric, agrees):
    assert public.Slope(0, analytic, numeric).agrees(1e-5, 1e-9) is agrees


def test_retried_passes_when_a_later_draw_passes_and_keeps_the_first_failure():
    draws = iter([public.fail("first"), ok()])
    assert public.retried(3, lambda: next(draws)).passed
    failures = iter([public.fail("first"), public.fail("second"), public.fail("third")])
    assert public.retried(3, lambda: next(failures)).feedback == "first"


def test_layout_candidates_undo_transposes_and_reversal():
    rng = np.random.default_rng(0)
    case = public.random_case(rng, 2, "tanh", "softmax", "cce")
    right = [rng.standard_normal(p.shape) for p in public.flat_params(case.params)]
    transposed = [t.T if t.ndim == 2 else t for t in right]
    reversed_ = public.flat_params(public.unflatten(right)[::-1])
    for mistake, answer in (("transposed", transposed), ("layer_order_reversed", reversed_)):
        fixed = public.layout_candidates(answer, case.params)[mistake]
        assert all(np.array_equal(a, b) for a, b in zip(fixed, right))


def test_mean_loss_follows_the_contract():
    Y_hat = np.array([[0.2, 0.8], [0.6, 0.4]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    for loss in ("mse", "bce", "cce"):
        assert math.isclose(public.mean_loss(Y_hat, Y, loss), reference_mlp.loss_value(Y_hat, Y, loss),
                            rel_tol=1e-12)


def test_public_checks_run_from_release_data_without_the_reference(run_check, monkeypatch):
    """As in the student release: fixtures come from the shipped JSON and reference is absent."""
    import json
    import sys

    from grader.checks import fixtures

    shipped = json.loads(json.dumps(fixtures.build_all(STEM)))
    monkeypatch.setattr(fixtures, "_CACHE", {})
    monkeypatch.setattr(fixtures, "_shipped", lambda exercise: shipped if exercise == STEM else None)
    monkeypatch.setitem(sys.modules, "reference", None)
    namespace = make_student()
    for name in PUBLIC:
        assert run_check(STEM, name, namespace).status == "passed", name
    # Mistakes are still named from the shipped variants; where only the reference could tell
    # (a fresh random case), nothing is named instead of a crash.
    broken = make_student("missing_derivative")
    assert run_check(STEM, "backward.values", broken).diagnosis == "missing_activation_derivative"
    outcome = run_check(STEM, "backward.gradcheck.tanh", broken)
    assert (outcome.status, outcome.diagnosis) == ("failed", None)
    assert run_check(STEM, "forward.values", make_student("activation_twice")).diagnosis == "activation_applied_twice"


# ---------------------------------------------------------------- no evidence, no points

def constant_student() -> dict:
    """A forward that ignores params and X, and a backward of zeros: both slopes are 0."""
    return {"forward": lambda params, X, hidden="sigmoid", output="softmax": (
                np.full((np.shape(X)[0], np.shape(params[-1][0])[1]), 0.5), {}),
            "backward": lambda params, cache, Y, loss="cce": [(np.zeros(np.shape(W)), np.zeros(np.shape(b)))
                                                              for W, b in params]}


@pytest.mark.parametrize("name", GRADCHECKS)
def test_gradcheck_fails_when_every_slope_is_zero(run_check, name):
    outcome = run_check(STEM, name, constant_student())
    assert outcome.status == "failed"
    assert "does not change when the parameters move" in outcome.feedback


def test_degenerate_slopes_are_those_all_near_zero():
    flat = [public.Slope(0, 0.0, 0.0), public.Slope(1, 0.0, 1e-9)]
    assert public.degenerate(flat, 1e-6)
    assert not public.degenerate(flat + [public.Slope(2, 0.1, 0.1)], 1e-6)


@pytest.mark.parametrize("forward_s, backward_s, flagged", [
    (0.001, 0.002, False),   # backpropagation: about a forward
    (0.001, 0.030, False),   # 30 forwards, but a loop over entries takes milliseconds: under the floor
    (0.020, 0.400, False),   # slow forward, slow backward: a busy machine, ratio 20
    (0.001, 0.500, True),    # hundreds of forwards and half a second: finite differences
])
def test_numerical_differentiation_needs_both_the_ratio_and_the_floor(forward_s, backward_s, flagged):
    cost = public.CostMeasurement(5146, (96, 48, 10), forward_s, backward_s)
    assert public.numerical_differentiation(cost, 60.0, 0.05) is flagged


def test_backpropagation_check_passes_honest_code_in_process(run_check):
    for student in (reference_student(), make_student()):
        outcome = run_check(STEM, "backward.backpropagation", student)
        assert outcome.status == "passed", outcome.feedback


def finite_difference_backward(params, cache, Y, loss="cce"):
    """Central differences of the reference's forward, one entry at a time (the cache holds X)."""
    X, hidden, output = cache.activations[0], cache.hidden, cache.output
    work = [(np.array(W), np.array(b)) for W, b in params]
    grads = []
    for W, b in work:
        pair = []
        for array in (W, b):
            grad = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                kept = array[index]
                slopes = []
                for moved in (kept + 1e-5, kept - 1e-5):
                    array[index] = moved
                    slopes.append(public.mean_loss(reference_mlp.forward(work, X, hidden, output)[0], Y, loss))
                array[index] = kept
                grad[index] = (slopes[0] - slopes[1]) / 2e-5
            pair.append(grad)
        grads.append(tuple(pair))
    return grads


def test_backpropagation_check_names_finite_differences(run_check):
    outcome = run_check(STEM, "backward.backpropagation", {**reference_student(), "backward": finite_difference_backward})
    assert outcome.status == "failed"
    assert outcome.feedback.startswith("backward calls forward per parameter: this is numerical differentiation")
