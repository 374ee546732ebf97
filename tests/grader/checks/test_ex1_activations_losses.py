"""Public checks of exercise 1 against correct implementations and against one broken one per mistake."""
from __future__ import annotations

import math

import numpy as np
import pytest

import grader.checks.ex1_activations_losses as ex1
from grader.checks.base import REGISTRY
from grader.checks.fixtures import BUILDERS
from grader.rubric import load_rubric
from reference import activations as ref_act
from reference import losses as ref_loss
from tests.grader.checks.conftest import load_solution

STEM = ex1.STEM
FUNCTIONS = (ex1.ACTIVATIONS + ex1.DERIVATIVES + ("softmax_jacobian",) + ex1.LOSSES + ex1.LOSS_GRADS + ex1.DELTAS)
PUBLIC = sorted(name for name, item in load_rubric(STEM).tests.items() if item.visibility == "visible")
GROUPS = set(FUNCTIONS)

REFERENCE = {name: getattr(ref_act, name, None) or getattr(ref_loss, name) for name in FUNCTIONS}


# ---------------------------------------------------------------- a correct implementation written differently

def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def _tanh(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-2.0 * np.abs(z))
    return np.sign(z) * (1.0 - e) / (1.0 + e)


def _logsumexp(z):
    m = np.max(z, axis=-1, keepdims=True)
    return m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))


def _softmax(z):
    z = np.asarray(z, dtype=float)
    return np.exp(z - _logsumexp(z))


def _jacobian_loops(z):
    z = np.asarray(z, dtype=float)
    rows = z.reshape(-1, z.shape[-1])
    C = z.shape[-1]
    out = np.zeros((rows.shape[0], C, C))
    for r in range(rows.shape[0]):
        s = _softmax(rows[r])
        for i in range(C):
            for j in range(C):
                out[r, i, j] = s[i] * ((1.0 if i == j else 0.0) - s[j])
    return out.reshape(z.shape + (C,))


def _clip(p, eps=1e-7):
    return np.clip(np.asarray(p, dtype=float), eps, 1.0 - eps)


def _rows(y):
    return np.asarray(y).size // np.asarray(y).shape[-1]


ALTERNATIVE = {
    "identity": lambda z: np.asarray(z, dtype=float) * 1.0,
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "relu": lambda z: np.asarray(z, dtype=float) * (np.asarray(z) > 0),
    "softmax": _softmax,
    "identity_grad": lambda z: np.full(np.shape(z), 1.0),
    "sigmoid_grad": lambda z: _sigmoid(z) * _sigmoid(-np.asarray(z, dtype=float)),
    "tanh_grad": lambda z: 1.0 / np.cosh(np.clip(z, -300, 300)) ** 2,
    "relu_grad": lambda z: np.heaviside(np.asarray(z, dtype=float), 0.0),
    "softmax_jacobian": _jacobian_loops,
    "mse": lambda y_hat, y: float(np.sum((np.asarray(y) - y_hat) ** 2) / np.size(y)),
    "mae": lambda y_hat, y: np.abs(np.asarray(y) - y_hat).sum() / np.size(y),
    "bce": lambda y_hat, y: float(-np.mean(y * np.log(_clip(y_hat)) + (1 - np.asarray(y)) * np.log(1 - _clip(y_hat)))),
    "cce": lambda y_hat, y: -np.sum(y * np.log(_clip(y_hat))) / _rows(y),
    "mse_grad": lambda y_hat, y: (2.0 / np.size(y)) * (np.asarray(y_hat) - y),
    "mae_grad": lambda y_hat, y: np.sign(np.asarray(y_hat) - y) / np.size(y),
    "bce_grad": lambda y_hat, y: (-np.asarray(y) / _clip(y_hat) + (1 - np.asarray(y)) / (1 - _clip(y_hat))) / np.size(y),
    "cce_grad": lambda y_hat, y: -np.asarray(y) / _clip(y_hat) / _rows(y),
    "sigmoid_bce_delta": lambda z, y: (_sigmoid(z) - y) / np.size(z),
    "softmax_cce_delta": lambda z, y: (_softmax(z) - y) / _rows(z),
}


def correct_namespaces():
    namespaces = [pytest.param(REFERENCE, id="reference"), pytest.param(ALTERNATIVE, id="alternative")]
    solution = load_solution(STEM)
    if solution is not None:
        namespaces.append(pytest.param(solution, id="solution"))
    return namespaces


# ---------------------------------------------------------------- broken implementations, one per mistake

def _naive_softmax(z, axis=-1):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum(axis=axis, keepdims=True)


def _naive_bce(y_hat, y):
    y_hat, y = np.asarray(y_hat, dtype=float), np.asarray(y, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(-np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))


def _naive_cce(y_hat, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(-np.sum(np.asarray(y) * np.log(y_hat)) / _rows(y))


def _exp_sigmoid(z):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(np.asarray(z, dtype=float))
        return e / (1.0 + e)


def _whole_array_softmax(z):
    e = np.exp(np.asarray(z, dtype=float) - np.max(z))
    return e / e.sum()


def _softmax_axis0(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _log2_bce(y_hat, y):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log2(p) + (1 - np.asarray(y)) * np.log2(1 - p)))


def _delta_naive_softmax(z, y):
    with np.errstate(over="ignore", invalid="ignore"):
        return (_naive_softmax(z) - y) / _rows(z)


N_REGRESSION = 6  # the public regression and binary cases are (3, 2)

# (id, overrides of the reference, failing check, diagnosis or None)
BROKEN = [
    ("sigmoid via e^z / (1 + e^z)", {"sigmoid": _exp_sigmoid}, "sigmoid.stable", None),
    ("softmax without the max", {"softmax": lambda z: _delta_free_naive(z)}, "softmax.stable", "softmax_unstable"),
    ("softmax over axis 0", {"softmax": _softmax_axis0}, "softmax.values", "softmax_wrong_axis"),
    ("softmax over the whole array", {"softmax": _whole_array_softmax}, "softmax.values", "softmax_wrong_axis"),
    ("softmax over axis 1", {"softmax": lambda z: _softmax_over(z, 1)}, "softmax.values", "softmax_wrong_axis"),
    ("relu off by 0.1", {"relu": lambda z: np.maximum(z, 0.1)}, "relu.values", None),
    ("tanh returns sigmoid", {"tanh": ref_act.sigmoid}, "tanh.values", None),
    ("identity returns None", {"identity": lambda z: None}, "identity.values", None),
    ("relu' is 1 everywhere", {"relu_grad": lambda z: np.ones_like(z)}, "relu_grad.values", "relu_derivative_constant"),
    ("relu' is 1 everywhere (numerical)", {"relu_grad": lambda z: np.ones_like(z)}, "relu_grad.numerical",
     "relu_derivative_constant"),
    ("relu'(0) = 1", {"relu_grad": lambda z: (np.asarray(z) >= 0).astype(float)}, "relu_grad.values", None),
    ("relu' returns relu", {"relu_grad": ref_act.relu}, "relu_grad.values", "activation_instead_of_derivative"),
    ("sigmoid' of the activation", {"sigmoid_grad": lambda z: z * (1 - z)}, "sigmoid_grad.values",
     "derivative_of_wrong_input"),
    ("sigmoid' of the activation (numerical)", {"sigmoid_grad": lambda z: z * (1 - z)}, "sigmoid_grad.numerical",
     "derivative_of_wrong_input"),
    ("tanh' of the activation", {"tanh_grad": lambda z: 1 - z ** 2}, "tanh_grad.values", "derivative_of_wrong_input"),
    ("tanh' returns tanh", {"tanh_grad": np.tanh}, "tanh_grad.values", "activation_instead_of_derivative"),
    ("sigmoid' sign", {"sigmoid_grad": lambda z: -ref_act.sigmoid_grad(z)}, "sigmoid_grad.values", "sign_flipped"),
    ("tanh' sign (numerical)", {"tanh_grad": lambda z: -ref_act.tanh_grad(z)}, "tanh_grad.numerical", "sign_flipped"),
    ("identity' is 0", {"identity_grad": np.zeros_like}, "identity_grad.numerical", None),
    ("sigmoid' right, sigmoid wrong", {"sigmoid": lambda z: ref_act.sigmoid(2 * np.asarray(z))},
     "sigmoid_grad.numerical", None),
    ("jacobian without - s s^T", {"softmax_jacobian": lambda z: ref_act.softmax(z)[..., None] * np.eye(np.shape(z)[-1])},
     "softmax_jacobian.values", None),
    ("jacobian without - s s^T (numerical)",
     {"softmax_jacobian": lambda z: ref_act.softmax(z)[..., None] * np.eye(np.shape(z)[-1])},
     "softmax_jacobian.numerical", None),
    ("jacobian of the first row only", {"softmax_jacobian": lambda z: ref_act.softmax_jacobian(np.atleast_2d(z)[0])},
     "softmax_jacobian.values", None),
    ("jacobian sign", {"softmax_jacobian": lambda z: -ref_act.softmax_jacobian(z)}, "softmax_jacobian.numerical",
     "sign_flipped"),
    ("mse summed", {"mse": lambda y_hat, y: float(np.sum((y_hat - y) ** 2))}, "mse.values", "batch_sum_not_mean"),
    ("mse per row", {"mse": lambda y_hat, y: np.mean((y_hat - y) ** 2, axis=-1)}, "mse.values", None),
    ("mae squared", {"mae": ref_loss.mse}, "mae.values", None),
    ("bce in log2", {"bce": _log2_bce}, "bce.values", "log_base_2"),
    ("bce in log2, grad right", {"bce": _log2_bce}, "bce_grad.numerical", "log_base_2"),
    ("cce averaged over every element", {"cce": lambda y_hat, y: ref_loss.cce(y_hat, y) / np.shape(y)[-1]},
     "cce.values", None),
    ("bce not clipped", {"bce": _naive_bce}, "bce.stable", "log_of_zero"),
    ("cce not clipped", {"cce": _naive_cce}, "cce.stable", "log_of_zero"),
    ("mse' summed", {"mse_grad": lambda y_hat, y: 2.0 * (y_hat - y)}, "mse_grad.values", "batch_sum_not_mean"),
    ("mse' summed (numerical)", {"mse_grad": lambda y_hat, y: 2.0 * (y_hat - y)}, "mse_grad.numerical",
     "batch_sum_not_mean"),
    ("mse' mean twice", {"mse_grad": lambda y_hat, y: ref_loss.mse_grad(y_hat, y) / np.size(y)}, "mse_grad.values",
     "batch_mean_twice"),
    ("mse' sign", {"mse_grad": lambda y_hat, y: 2.0 * (y - y_hat) / np.size(y)}, "mse_grad.values", "sign_flipped"),
    ("mse' without the 2", {"mse_grad": lambda y_hat, y: (y_hat - y) / np.size(y)}, "mse_grad.numerical",
     "mse_with_ce_delta"),
    ("mse' is y_hat - y", {"mse_grad": lambda y_hat, y: y_hat - y}, "mse_grad.values", "mse_with_ce_delta"),
    ("mse mean taken twice", {"mse": lambda y_hat, y: ref_loss.mse(y_hat, y) / np.size(y)}, "mse.values",
     "batch_mean_twice"),
    ("cce in log2", {"cce": lambda y_hat, y: ref_loss.cce(y_hat, y) / math.log(2)}, "cce.values", "log_base_2"),
    ("sigmoid' of sigmoid(z)", {"sigmoid_grad": lambda z: ref_act.sigmoid_grad(ref_act.sigmoid(z))},
     "sigmoid_grad.values", "derivative_of_wrong_input"),
    ("softmax over axis 0 at large logits", {"softmax": _softmax_axis0}, "softmax.stable", "softmax_wrong_axis"),
    ("mae'(tie) = 1/N", {"mae_grad": lambda y_hat, y: np.where(y_hat >= y, 1.0, -1.0) / np.size(y)},
     "mae_grad.values", None),
    ("mae' sign (numerical)", {"mae_grad": lambda y_hat, y: -ref_loss.mae_grad(y_hat, y)}, "mae_grad.numerical",
     "sign_flipped"),
    ("bce' transposed", {"bce_grad": lambda y_hat, y: ref_loss.bce_grad(y_hat, y).T}, "bce_grad.values", "transposed"),
    ("bce' in log2", {"bce_grad": lambda y_hat, y: ref_loss.bce_grad(y_hat, y) / math.log(2)}, "bce_grad.values",
     "log_base_2"),
    ("cce' summed", {"cce_grad": lambda y_hat, y: -y / y_hat}, "cce_grad.values", "batch_sum_not_mean"),
    ("cce' summed (numerical)", {"cce_grad": lambda y_hat, y: -y / y_hat}, "cce_grad.numerical", "batch_sum_not_mean"),
    ("cce' averaged over every element", {"cce_grad": lambda y_hat, y: -y / y_hat / np.size(y)}, "cce_grad.values", None),
    ("sigmoid-bce delta summed", {"sigmoid_bce_delta": lambda z, y: ref_act.sigmoid(z) - y}, "sigmoid_bce_delta.values",
     "batch_sum_not_mean"),
    ("sigmoid-bce delta through 1/(y(1-y))",
     {"sigmoid_bce_delta": lambda z, y: _two_step_delta(z, y)}, "sigmoid_bce_delta.stable", None),
    ("softmax-cce delta sign", {"softmax_cce_delta": lambda z, y: (y - ref_act.softmax(z)) / _rows(z)},
     "softmax_cce_delta.values", "sign_flipped"),
    ("softmax-cce delta unstable", {"softmax_cce_delta": _delta_naive_softmax}, "softmax_cce_delta.stable",
     "softmax_unstable"),
]


def _delta_free_naive(z):
    with np.errstate(over="ignore", invalid="ignore"):
        return _naive_softmax(z)


def _softmax_over(z, axis):
    z = np.asarray(z, dtype=float)
    if z.ndim <= axis:
        return ref_act.softmax(z)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _two_step_delta(z, y):
    s = ref_act.sigmoid(z)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (s - y) / (s * (1 - s)) * ref_act.sigmoid_grad(z) / np.size(z)


# ---------------------------------------------------------------- tests

@pytest.mark.parametrize("namespace", correct_namespaces())
def test_correct_implementations_pass_every_public_check(namespace, run_check):
    with np.errstate(all="ignore"):
        outcomes = {name: run_check(STEM, name, namespace) for name in PUBLIC}
    failed = {name: o.feedback for name, o in outcomes.items() if o.status != "passed"}
    assert failed == {}
    assert all(o.diagnosis is None for o in outcomes.values())


@pytest.mark.parametrize("label, overrides, name, diagnosis", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_implementation_fails_with_diagnosis(label, overrides, name, diagnosis, run_check):
    with np.errstate(all="ignore"):
        outcome = run_check(STEM, name, {**REFERENCE, **overrides})
    assert outcome.status == "failed", outcome.feedback
    assert outcome.diagnosis == diagnosis, outcome.feedback
    assert outcome.feedback


def test_a_broken_function_fails_only_its_own_group(run_check):
    namespace = {**REFERENCE, "mse_grad": lambda y_hat, y: 2.0 * (y_hat - y)}
    failed = {name for name in PUBLIC if run_check(STEM, name, namespace).status != "passed"}
    assert failed == {"mse_grad.values", "mse_grad.numerical"}


def test_missing_and_raising_functions_give_statuses(run_check):
    namespace = {k: v for k, v in REFERENCE.items() if k != "softmax"}
    assert run_check(STEM, "softmax.values", namespace).status == "missing"
    assert run_check(STEM, "softmax_jacobian.numerical", namespace).status == "missing"

    def boom(z):
        raise ValueError("not yet")

    assert run_check(STEM, "relu.values", {**REFERENCE, "relu": boom}).status == "error"


def test_loss_returning_an_array_is_told_to_return_one_number(run_check):
    outcome = run_check(STEM, "mse.values", {**REFERENCE, "mse": lambda y_hat, y: (y_hat - y) ** 2 / np.size(y)})
    assert outcome.status == "failed"
    assert "single number" in outcome.feedback


def test_public_fixtures_are_plain_data_built_by_the_reference():
    from grader.checks.fixtures import from_json, to_json
    for name, build in BUILDERS[STEM].items():
        data = build()
        assert from_json(to_json(data)).keys() == data.keys()
    acts = ex1.build_activations()
    np.testing.assert_allclose(acts["expected"]["sigmoid"]["mat"], ref_act.sigmoid(acts["inputs"]["mat"]))
    assert np.min(np.abs(acts["inputs"]["mat"])) >= 0.1  # central differences stay off the ReLU kink
    assert 0.0 in acts["inputs"]["vec"]  # relu'(0) = 0 is checked


def test_public_module_does_not_import_the_reference_at_module_level():
    import ast
    import inspect
    tree = ast.parse(inspect.getsource(ex1))
    top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    names = [getattr(node, "module", None) or node.names[0].name for node in top_level]
    assert not any(name.startswith("reference") for name in names)


def test_rubric_and_registered_checks_name_the_same_tests():
    import grader.checks.hidden.ex1_activations_losses  # noqa: F401 - registers the hidden checks
    rubric = load_rubric(STEM)
    assert set(rubric.tests) == set(REGISTRY[STEM])
    assert all(name.split(".", 1)[0] in GROUPS for name in rubric.tests)
    assert math.isclose(rubric.max_score, 20.0)
    hidden_module_checks = {name for name, c in REGISTRY[STEM].items() if "hidden" in c.run.__module__}
    assert {n for n, item in rubric.tests.items() if item.visibility == "hidden"} == hidden_module_checks


# ---------------------------------------------------------------- evidence helpers

@pytest.mark.parametrize("name, factor, code", [
    ("mse", 6.0, "batch_sum_not_mean"), ("mse", 1 / 6, "batch_mean_twice"), ("bce", 1 / math.log(2), "log_base_2"),
    ("mse", 1 / math.log(2), None), ("cce", 1 / 3, "batch_mean_twice"), ("bce", -1.0, None), ("mae", 1.01, None),
])
def test_loss_value_factors_name_only_known_factors(name, factor, code):
    n = 3 if name == "cce" else 6
    assert ex1.scale_code(np.array(factor * 0.7), np.array(0.7), ex1.loss_value_factors(name, n), 1e-4) == code


@pytest.mark.parametrize("name, shape, count", [("mse_grad", (3, 2), 6), ("cce_grad", (4, 3), 4),
                                                ("softmax_cce_delta", (5, 2), 5), ("sigmoid_bce_delta", (5, 2), 10)])
def test_mean_count_is_what_the_mean_divides_by(name, shape, count):
    assert ex1.mean_count(name, np.zeros(shape)) == count


def test_explain_keeps_a_passing_verdict_and_names_the_first_supported_mistake():
    assert ex1.explain(ex1.ok(), lambda: "sign_flipped").diagnosis is None
    verdict = ex1.explain(ex1.fail("wrong."), lambda: None, lambda: "log_base_2", lambda: "sign_flipped")
    assert verdict.diagnosis == "log_base_2" and verdict.feedback.startswith("wrong. ")
