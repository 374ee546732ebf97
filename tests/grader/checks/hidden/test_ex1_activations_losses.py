"""Hidden checks of exercise 1: random inputs, extreme inputs and purity, on correct and broken code."""
from __future__ import annotations

import re

import numpy as np
import pytest

import grader.checks.hidden.ex1_activations_losses as hidden
from grader.checks.base import REGISTRY
from grader.rubric import load_rubric
from reference import activations as ref_act
from reference import losses as ref_loss
from tests.grader.checks.test_ex1_activations_losses import ALTERNATIVE, REFERENCE, correct_namespaces

STEM = hidden.STEM
HIDDEN = sorted(name for name, item in load_rubric(STEM).tests.items() if item.visibility == "hidden")


def _unguarded(fn):
    def run(*args):
        with np.errstate(all="ignore"):
            return fn(*args)
    return run


def _softmax_in_place(z):
    z -= np.max(z, axis=-1, keepdims=True)
    np.exp(z, out=z)
    return z / z.sum(axis=-1, keepdims=True)


def _relu_in_place(z):
    z[z < 0] = 0.0
    return z.copy()


def _mse_grad_in_place(y_hat, y):
    y_hat -= y
    return 2.0 * y_hat / y_hat.size


def _delta_in_place(z, y):
    z -= np.max(z, axis=-1, keepdims=True)
    return ref_loss.softmax_cce_delta(z, y)


def _softmax_axis1(z):
    e = np.exp(z - np.max(z, axis=min(1, np.ndim(z) - 1), keepdims=True))
    return e / e.sum(axis=min(1, np.ndim(z) - 1), keepdims=True)


def _naive_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _rows(a):
    return np.size(a) // np.shape(a)[-1]


BROKEN = [
    ("softmax shifts z in place", {"softmax": _softmax_in_place}, "softmax.no_mutation", "mutates_input"),
    ("relu zeroes z in place", {"relu": _relu_in_place}, "relu.no_mutation", "mutates_input"),
    ("mse' subtracts in place", {"mse_grad": _mse_grad_in_place}, "mse_grad.no_mutation", "mutates_input"),
    ("delta shifts z in place", {"softmax_cce_delta": _delta_in_place}, "softmax_cce_delta.no_mutation", "mutates_input"),
    ("sigmoid' of the activation", {"sigmoid_grad": lambda z: z * (1 - z)}, "sigmoid_grad.random",
     "derivative_of_wrong_input"),
    ("relu' is 1 everywhere", {"relu_grad": lambda z: np.ones_like(z)}, "relu_grad.random", "relu_derivative_constant"),
    ("softmax over axis 1", {"softmax": _softmax_axis1}, "softmax.random", "softmax_wrong_axis"),
    ("jacobian without - s s^T", {"softmax_jacobian": lambda z: ref_act.softmax(z)[..., None] * np.eye(np.shape(z)[-1])},
     "softmax_jacobian.random", None),
    ("mse summed", {"mse": lambda y_hat, y: float(np.sum((y_hat - y) ** 2))}, "mse.random", "batch_sum_not_mean"),
    ("cce in log2", {"cce": lambda y_hat, y: ref_loss.cce(y_hat, y) / np.log(2)}, "cce.random", "log_base_2"),
    ("mae' sign", {"mae_grad": lambda y_hat, y: -ref_loss.mae_grad(y_hat, y)}, "mae_grad.random", "sign_flipped"),
    ("bce' transposed", {"bce_grad": lambda y_hat, y: ref_loss.bce_grad(y_hat, y).T}, "bce_grad.random", "transposed"),
    ("cce' over every element", {"cce_grad": lambda y_hat, y: -y / y_hat / np.size(y)}, "cce_grad.random", None),
    ("sigmoid-bce delta over rows only", {"sigmoid_bce_delta": lambda z, y: (ref_act.sigmoid(z) - y) / _rows(z)},
     "sigmoid_bce_delta.random", None),
    ("softmax-cce delta summed", {"softmax_cce_delta": lambda z, y: ref_act.softmax(z) - y},
     "softmax_cce_delta.random", "batch_sum_not_mean"),
    ("tanh' of 1-D input fails", {"tanh_grad": lambda z: ref_act.tanh_grad(z) if np.ndim(z) == 2 else np.zeros(3)},
     "tanh_grad.random", None),
    ("sigmoid via e^z / (1 + e^z)", {"sigmoid": _unguarded(lambda z: np.exp(z) / (1 + np.exp(z)))}, "sigmoid.robust", None),
    ("softmax without the max", {"softmax": _unguarded(_naive_softmax)}, "softmax.robust", "softmax_unstable"),
    ("bce not clipped", {"bce": _unguarded(lambda y_hat, y: float(-np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))))},
     "bce.robust", "log_of_zero"),
    ("cce not clipped", {"cce": _unguarded(lambda y_hat, y: float(-np.sum(y * np.log(y_hat)) / _rows(y)))},
     "cce.robust", "log_of_zero"),
    ("bce' not clipped", {"bce_grad": _unguarded(lambda y_hat, y: (-y / y_hat + (1 - y) / (1 - y_hat)) / np.size(y))},
     "bce_grad.robust", "log_of_zero"),
    ("cce' not clipped", {"cce_grad": _unguarded(lambda y_hat, y: -y / y_hat / _rows(y))}, "cce_grad.robust",
     "log_of_zero"),
    ("bce' clipped far too hard", {"bce_grad": lambda y_hat, y: ref_loss.bce_grad(np.clip(y_hat, 0.05, 0.95), y)},
     "bce_grad.robust", None),
    ("sigmoid-bce delta in two steps",
     {"sigmoid_bce_delta": _unguarded(lambda z, y: ref_loss.bce_grad(ref_act.sigmoid(z), y) * ref_act.sigmoid_grad(z))},
     "sigmoid_bce_delta.robust", None),
    ("softmax-cce delta without the max", {"softmax_cce_delta": _unguarded(lambda z, y: (_naive_softmax(z) - y) / _rows(z))},
     "softmax_cce_delta.robust", "softmax_unstable"),
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("namespace", correct_namespaces())
def test_correct_implementations_pass_every_hidden_check(namespace, seed, run_check):
    with np.errstate(all="ignore"):
        outcomes = {name: run_check(STEM, name, namespace, seed=seed) for name in HIDDEN}
    assert {name: o.feedback for name, o in outcomes.items() if o.status != "passed"} == {}


def test_pytorch_style_bce_gradient_at_exact_probabilities_is_accepted(run_check):
    def floored(y_hat, y):  # PyTorch: (y_hat - y) / max(y_hat (1 - y_hat), eps), so 0 where y_hat == y
        return (y_hat - y) / np.maximum(y_hat * (1 - y_hat), 1e-12) / np.size(y)

    assert run_check(STEM, "bce_grad.robust", {**REFERENCE, "bce_grad": floored}).status == "passed"


@pytest.mark.parametrize("label, overrides, name, diagnosis", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_implementation_fails_with_diagnosis(label, overrides, name, diagnosis, run_check):
    outcome = run_check(STEM, name, {**REFERENCE, **overrides})
    assert outcome.status == "failed", outcome.feedback
    assert outcome.diagnosis == diagnosis, outcome.feedback
    # Hidden feedback says what and where, never the numbers: no long decimals.
    assert not re.search(r"\d\.\d{4,}", outcome.feedback), outcome.feedback


def test_feedback_names_the_formula_not_the_expected_value(run_check):
    outcome = run_check(STEM, "sigmoid.random", {**REFERENCE, "sigmoid": lambda z: np.full(np.shape(z), 0.5)})
    assert outcome.status == "failed"
    assert "sigma(z) = 1 / (1 + exp(-z))" in outcome.feedback


def test_random_inputs_depend_on_the_seed_and_have_distinct_dimensions(run_check, transport_factory):
    from grader.checks.base import CheckContext
    shapes = set()
    for seed in range(5):
        transport = transport_factory(ALTERNATIVE, STEM)
        ctx = CheckContext(exercise=STEM, transport=transport, seed=seed, test_name="softmax.random",
                           settings=load_rubric(STEM).settings)
        assert REGISTRY[STEM]["softmax.random"].run(ctx).passed
        cube = transport.requests[-1]["args"][0]
        assert cube.ndim == 3 and len(set(cube.shape)) == 3
        shapes.add(cube.shape)
    assert len(shapes) > 1


def test_robust_inputs_reach_the_extremes():
    from grader.checks.base import CheckContext
    ctx = CheckContext(exercise=STEM, transport=None, seed=3, test_name="bce.robust",
                       settings=load_rubric(STEM).settings)
    y_hat, y = hidden.robust_arguments(ctx, "bce")
    assert np.any(y_hat == 0.0) or np.any(y_hat == 1.0)
    (z,) = hidden.robust_arguments(ctx, "softmax")
    assert np.max(np.abs(z)) == 1000.0
