"""Public checks for exercise 1: activations, their derivatives, losses, their gradients, fused deltas.

They use only the student's answers, fixtures built by the reference (shipped as data with the
release), properties of the answers, and derivative checks of the student's functions against
central differences of the student's own activations and losses (the arithmetic happens here,
on returned values).

The judgements and their diagnoses are `grader.checks.lib.activations_losses`, shared with the
hidden checks.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional, Sequence

import numpy as np

from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.compare import relative_error
from grader.checks.fixtures import fixture_builder
from grader.checks.lib.activations_losses import (
    ACTIVATIONS, DELTAS, DERIVATIVES, ELEMENTWISE, FORMULA, LOSSES, STEM, explain, judge_activation, judge_gradient,
    judge_loss, judge_stable, mean_count, shape_text, with_formula,
)
from grader.checks.lib.activations_losses import LOSS_GRADS, loss_value_factors  # noqa: F401 - read here by its tests
from grader.checks.lib.answers import answer_array, answer_scalar, register
from grader.checks.lib.central_differences import degenerate_slope
from grader.checks.lib.evidence import scale_code
from grader.diagnosis.scale import SIGN, Factor, loss_gradient_factors
from grader.diagnosis.variants import derivative_variants, matching_variant

# Which fixture input each loss is evaluated on.
LOSS_CASE = {"mse": "regression", "mae": "regression", "bce": "binary", "cce": "classes"}
DELTA_CASE = {"sigmoid_bce_delta": "binary_logits", "softmax_cce_delta": "class_logits"}


# ---------------------------------------------------------------- derivatives against the student's own slopes

def numerical_verdict(ctx: CheckContext, name: str, got: Any, numerical: np.ndarray, what: str,
                      own: str, factors: Sequence[Factor] = (), z: Optional[np.ndarray] = None,
                      own_verdict: Optional[Verdict] = None,
                      reference: Optional[np.ndarray] = None) -> Verdict:
    """An analytic derivative against central differences of the student's own function `own`.

    `own_verdict`: how `own` itself fares against the right values. When it is wrong, the two
    disagree because of it: its mistake (if named) is the diagnosis, and nothing is said about
    the derivative, which may well be right. `reference`: the true derivative on the same input;
    when the student's slopes are degenerate against it, agreement proves nothing and fails.
    """
    tol = ctx.settings["fd_tol"]
    arr = answer_array(got, what, shape=numerical.shape)
    if reference is not None:
        reason = degenerate_slope(numerical, reference, ctx.settings.get("fd_degenerate", 1e-3))
        if reason is not None:
            return fail(f"Central differences of your own {own} {reason}, so they cannot confirm {what}: "
                        f"make {own} compute its values first.")
    err = relative_error(arr, numerical)
    if err <= tol:
        return ok()
    verdict = fail(f"{what} disagrees with central differences of your own {own}: "
                   f"norm-relative error {err:.2e} (allowed {tol:.0e}).")
    if own_verdict is not None and not own_verdict.passed:
        return replace(verdict, diagnosis=own_verdict.diagnosis,
                       feedback=f"{verdict.feedback} Your {own} itself is wrong: {own_verdict.feedback}")
    dtol = ctx.settings["diagnosis_tol"]
    evidence = [lambda: scale_code(arr, numerical, factors, dtol)]
    if z is not None:
        evidence.append(lambda: matching_variant(arr, derivative_variants(name, z), dtol, right=numerical))
    return explain(verdict, *evidence)


# ---------------------------------------------------------------- central differences of the student's functions

def elementwise_slope(ctx: CheckContext, name: str, z: np.ndarray) -> np.ndarray:
    """(f(z + h) - f(z - h)) / 2h for the student's elementwise `name`, one call pair for all of z."""
    h = ctx.settings["fd_step"]
    up, down = ctx.call_all([(name, (z + h,), {}), (name, (z - h,), {})])
    up = answer_array(up.get(), f"{name}(z + h)", shape=z.shape)
    down = answer_array(down.get(), f"{name}(z - h)", shape=z.shape)
    return (up - down) / (2.0 * h)


def softmax_jacobian_numerical(ctx: CheckContext, z: np.ndarray) -> np.ndarray:
    """J[..., i, k] = d softmax(z)_i / d z_k from the student's softmax, one 1-D call per perturbation.

    1-D calls keep the axis of normalisation out of it: this checks the Jacobian, not softmax.
    """
    h = ctx.settings["fd_step"]
    rows = z.reshape(-1, z.shape[-1])
    C = z.shape[-1]
    J = np.empty((rows.shape[0], C, C))
    steps = h * np.eye(C)
    outcomes = iter(ctx.call_all([("softmax", (row + sign * steps[k],), {})  # independent: sent together
                                  for row in rows for k in range(C) for sign in (1.0, -1.0)]))
    for r in range(rows.shape[0]):
        for k in range(C):
            up = answer_array(next(outcomes).get(), "softmax(z + h e_k)", shape=(C,))
            down = answer_array(next(outcomes).get(), "softmax(z - h e_k)", shape=(C,))
            J[r, :, k] = (up - down) / (2.0 * h)
    return J.reshape(z.shape + (C,))


def loss_gradient_numerical(ctx: CheckContext, name: str, y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/dy_hat by central differences of the student's loss `name`, one element at a time."""
    h = ctx.settings["fd_step"]
    grad = np.empty_like(y_hat)
    steps = {}
    for index in np.ndindex(y_hat.shape):
        steps[index] = np.zeros_like(y_hat)
        steps[index][index] = h
    outcomes = iter(ctx.call_all([(name, (y_hat + sign * step, y), {})  # independent: sent together
                                  for step in steps.values() for sign in (1.0, -1.0)]))
    for index in steps:
        up = answer_scalar(next(outcomes).get(), f"{name}(y_hat + h e_k, y)")
        down = answer_scalar(next(outcomes).get(), f"{name}(y_hat - h e_k, y)")
        grad[index] = (up - down) / (2.0 * h)
    return grad


# ---------------------------------------------------------------- public data

def signed_magnitudes(rng: np.random.Generator, shape: tuple[int, ...], low: float, high: float) -> np.ndarray:
    """Random signs times magnitudes in [low, high]: values at least `low` away from 0."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def drawn_vector_with_zero(rng: np.random.Generator) -> np.ndarray:
    """Five sorted values: two negative, an exact 0, two positive (relu'(0) = 0 is in the
    contract, and both signs keep "1 at 0" apart from "1 everywhere")."""
    values = np.array([-1.0, -1.0, 1.0, 1.0]) * rng.uniform(0.1, 3.0, size=4)
    return np.sort(np.append(values, 0.0))


def drawn_large(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Logits of size about 1000 with mixed signs, a 0 and ties at the largest value."""
    z = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(900.0, 1000.0, size=shape)
    z.flat[0], z.flat[-1] = 0.0, -1000.0
    if z.ndim == 2:  # a row whose entries all underflow after exp without the max trick
        z[-1] = -1000.0 - rng.uniform(0.0, 2.0, size=z.shape[1])
    return z


@fixture_builder(STEM, "activations", draws=True)
def build_activations(rng: Optional[np.random.Generator] = None) -> dict:
    """Inputs for activations and derivatives, and the reference's answers on them.

    Without `rng`: the published inputs. With it (grading): every input drawn from it, with
    the same shapes and properties (off the ReLU kink, an exact 0, |z| up to 1000).
    """
    from reference import activations as ref

    published = rng is None
    rng = np.random.default_rng(2024_0201) if published else rng
    # Central differences of relu need inputs off its kink; "vec" keeps an exact 0 for relu'(0) = 0.
    inputs = {"vec": np.array([-2.5, -0.7, 0.0, 0.4, 1.9]) if published else drawn_vector_with_zero(rng),
              "mat": signed_magnitudes(rng, (3, 4), 0.1, 3.0), "cube": signed_magnitudes(rng, (2, 3, 4), 0.1, 3.0)}
    large = {"vec": np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]),
             "mat": np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, -1000.0], [-1000.0, -999.0, -1000.0]])} \
        if published else {"vec": np.sort(drawn_large(rng, (5,))), "mat": drawn_large(rng, (3, 3))}
    expected = {name: {case: getattr(ref, name)(z) for case, z in inputs.items()}
                for name in ACTIVATIONS + DERIVATIVES}
    expected["softmax_jacobian"] = {case: ref.softmax_jacobian(inputs[case]) for case in ("vec", "mat")}
    stable = {"sigmoid": ref.sigmoid(large["vec"]), "softmax": ref.softmax(large["mat"]),
              "softmax_vec": ref.softmax(large["vec"])}
    return {"inputs": inputs, "large": large, "expected": expected, "stable": stable}


def drawn_tie(rng: np.random.Generator) -> dict:
    """A (2, 2) regression case where half the predictions equal their targets (mae' = 0 there)."""
    y = rng.normal(size=(2, 2))
    y_hat = y + signed_magnitudes(rng, (2, 2), 0.1, 1.0)
    y_hat[[0, 1], [0, 1]] = y[[0, 1], [0, 1]]
    return {"y_hat": y_hat, "y": y}


def drawn_edges(rng: np.random.Generator) -> tuple[dict, dict]:
    """BCE and CCE cases with predictions exactly 0 and 1, right and wrong."""
    y = rng.integers(0, 2, size=(3, 2)).astype(np.float64)
    y_hat = np.where(rng.uniform(size=(3, 2)) < 0.5, y, rng.uniform(0.05, 0.95, size=(3, 2)))
    y_hat[0] = y[0]  # exactly right where the target is 0 and where it is 1
    y_hat[0, 0], y[0, 0], y_hat[0, 1], y[0, 1] = 0.0, 0.0, 1.0, 1.0
    classes = np.eye(3)[rng.permutation(3)]
    probabilities = classes.copy()
    middle = rng.uniform(0.1, 0.9)
    probabilities[1] = np.roll([middle, 1.0 - middle, 0.0], int(np.argmax(classes[1])))
    return {"y_hat": y_hat, "y": y}, {"y_hat": probabilities, "y": classes}


@fixture_builder(STEM, "losses", draws=True)
def build_losses(rng: Optional[np.random.Generator] = None) -> dict:
    """(y_hat, y) pairs for each loss, edge cases with probabilities exactly 0 and 1, and answers.

    Without `rng`: the published cases; with it (grading): all drawn from it, same properties.
    """
    from reference import activations as act
    from reference import losses as ref

    published = rng is None
    rng = np.random.default_rng(2024_0202) if published else rng
    y_hat = rng.normal(size=(3, 2))
    # Every |y_hat - y| >= 0.1 keeps mae off its kink for central differences.
    regression = {"y_hat": y_hat, "y": y_hat + rng.choice([-1.0, 1.0], size=(3, 2)) * rng.uniform(0.1, 1.0, (3, 2))}
    tie = {"y_hat": np.array([[0.5, -1.0], [2.0, 0.0]]), "y": np.array([[0.5, 1.0], [1.0, 0.0]])} \
        if published else drawn_tie(rng)
    binary = {"y_hat": rng.uniform(0.05, 0.95, size=(3, 2)),
              "y": np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]) if published
              else rng.integers(0, 2, size=(3, 2)).astype(np.float64)}
    classes = {"y_hat": act.softmax(rng.normal(size=(4, 3))),
               "y": np.eye(3)[[0, 2, 1, 2] if published else rng.integers(0, 3, size=4)]}
    if published:
        binary_edge = {"y_hat": np.array([[0.0, 1.0], [0.3, 1.0], [0.0, 0.7]]),
                       "y": np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])}
        classes_edge = {"y_hat": np.array([[1.0, 0.0, 0.0], [0.2, 0.8, 0.0], [0.0, 0.0, 1.0]]), "y": np.eye(3)}
    else:
        binary_edge, classes_edge = drawn_edges(rng)
    cases = {"regression": regression, "tie": tie, "binary": binary, "classes": classes,
             "binary_edge": binary_edge, "classes_edge": classes_edge}
    expected = {}
    for name in LOSSES:
        case = cases[LOSS_CASE[name]]
        expected[name] = getattr(ref, name)(case["y_hat"], case["y"])
        expected[f"{name}_grad"] = getattr(ref, f"{name}_grad")(case["y_hat"], case["y"])
    expected["mae_grad_tie"] = ref.mae_grad(tie["y_hat"], tie["y"])
    expected["bce_edge"] = ref.bce(cases["binary_edge"]["y_hat"], cases["binary_edge"]["y"])
    expected["cce_edge"] = ref.cce(cases["classes_edge"]["y_hat"], cases["classes_edge"]["y"])
    return {"cases": cases, "expected": expected}


@fixture_builder(STEM, "deltas", draws=True)
def build_deltas(rng: Optional[np.random.Generator] = None) -> dict:
    """Logits and targets for the fused deltas, ordinary and with |z| = 1000, and answers.

    Without `rng`: the published cases; with it (grading): all drawn from it, same properties.
    """
    from reference import losses as ref

    published = rng is None
    rng = np.random.default_rng(2024_0203) if published else rng
    if published:
        binary_y, class_rows = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]), [1, 0, 2, 1]
    else:
        binary_y, class_rows = rng.integers(0, 2, size=(3, 2)).astype(np.float64), rng.integers(0, 3, size=4)
    cases = {"binary_logits": {"z": 2.0 * rng.normal(size=(3, 2)), "y": binary_y},
             "class_logits": {"z": 2.0 * rng.normal(size=(4, 3)), "y": np.eye(3)[class_rows]}}
    if published:
        cases["binary_large"] = {"z": np.array([[1000.0, -1000.0], [-1000.0, 1000.0], [3.0, -2.0]]),
                                 "y": np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])}
        cases["class_large"] = {"z": np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 999.0],
                                               [-1000.0, -1000.0, -1000.0]]),
                                "y": np.eye(3)[[0, 2, 1]]}
    else:
        binary_z = drawn_large(rng, (3, 2))
        binary_z[-1] = 3.0 * rng.normal(size=2)  # one ordinary row beside the extreme ones
        cases["binary_large"] = {"z": binary_z, "y": rng.integers(0, 2, size=(3, 2)).astype(np.float64)}
        cases["class_large"] = {"z": drawn_large(rng, (3, 3)), "y": np.eye(3)[rng.permutation(3)]}
    expected = {"sigmoid_bce_delta": ref.sigmoid_bce_delta(**cases["binary_logits"]),
                "softmax_cce_delta": ref.softmax_cce_delta(**cases["class_logits"]),
                "sigmoid_bce_delta_large": ref.sigmoid_bce_delta(**cases["binary_large"]),
                "softmax_cce_delta_large": ref.softmax_cce_delta(**cases["class_large"])}
    return {"cases": cases, "expected": expected}


# ---------------------------------------------------------------- activations and their derivatives

def _register_values(name: str, cases: tuple[str, ...]) -> None:
    @register(STEM, f"{name}.values", needs=(name,), hint=f"{name} should compute {FORMULA[name]}.")
    def values(ctx: CheckContext) -> Verdict:
        data = ctx.fixture("activations")
        answers = ctx.call_all([(name, (data["inputs"][case],), {}) for case in cases])  # independent calls
        for case, answer in zip(cases, answers):
            z = data["inputs"][case]
            got = answer.get()
            verdict = judge_activation(ctx, name, z, got, data["expected"][name][case],
                                       f"{name}(z) for z of {shape_text(z)}")
            if not verdict.passed:
                return with_formula(verdict, name)
        return ok()


def _register_numerical(activation: str) -> None:
    name = f"{activation}_grad"

    @register(STEM, f"{name}.numerical", needs=(name, activation),
              hint=f"{name}(z) should be the slope of your {activation}: {FORMULA[name]}.")
    def numerical(ctx: CheckContext) -> Verdict:
        data = ctx.fixture("activations")
        z = data["inputs"]["mat"]
        slope = elementwise_slope(ctx, activation, z)
        got, own_value = (answer.get() for answer in ctx.call_all([(name, (z,), {}), (activation, (z,), {})]))
        own = judge_activation(ctx, activation, z, own_value, data["expected"][activation]["mat"],
                               f"{activation}(z) for z of {shape_text(z)}")
        return numerical_verdict(ctx, name, got, slope, f"{name}(z) for z of {shape_text(z)}",
                                 activation, [SIGN], z=z, own_verdict=own, reference=data["expected"][name]["mat"])


for _name in ELEMENTWISE:
    _register_values(_name, ("vec", "mat", "cube"))
    _register_values(f"{_name}_grad", ("vec", "mat", "cube"))
    _register_numerical(_name)
_register_values("softmax", ("vec", "mat", "cube"))
_register_values("softmax_jacobian", ("vec", "mat"))


@register(STEM, "sigmoid.stable", needs=("sigmoid",),
          hint="For z = -1000, exp(-z) overflows: use exp(-|z|) and pick the form by the sign of z.")
def sigmoid_stable(ctx: CheckContext) -> Verdict:
    data = ctx.fixture("activations")
    got = ctx.call("sigmoid", data["large"]["vec"])
    return judge_stable(ctx, got, data["stable"]["sigmoid"], "sigmoid(z) for |z| up to 1000", None)


@register(STEM, "softmax.stable", needs=("softmax",),
          hint="Subtract each row's maximum before exp: softmax(z) = softmax(z - max(z)).")
def softmax_stable(ctx: CheckContext) -> Verdict:
    data = ctx.fixture("activations")
    for case, key in (("vec", "softmax_vec"), ("mat", "softmax")):
        z = data["large"][case]
        got = ctx.call("softmax", z)
        what = f"softmax(z) for z of {shape_text(z)} with |z| up to 1000"
        verdict = judge_stable(ctx, got, data["stable"][key], what, "softmax_unstable", z=z)
        if not verdict.passed:
            return verdict
    return ok()


@register(STEM, "softmax_jacobian.numerical", needs=("softmax_jacobian", "softmax"),
          hint="J[i, j] = d s_i / d z_j = s_i (delta_ij - s_j); for (B, C) input return one (C, C) matrix per row.")
def softmax_jacobian_numerical_check(ctx: CheckContext) -> Verdict:
    data = ctx.fixture("activations")
    for case in ("vec", "mat"):
        z = data["inputs"][case]
        numerical = softmax_jacobian_numerical(ctx, z)
        got = ctx.call("softmax_jacobian", z)
        verdict = numerical_verdict(ctx, "softmax_jacobian", got, numerical,
                                    f"softmax_jacobian(z) for z of {shape_text(z)}", "softmax",
                                    [SIGN], reference=data["expected"]["softmax_jacobian"][case])
        if not verdict.passed:
            return verdict
    return ok()


# ---------------------------------------------------------------- losses and their gradients

def _register_loss(name: str) -> None:
    case_name = LOSS_CASE[name]

    @register(STEM, f"{name}.values", needs=(name,), hint=f"{name}(y_hat, y) should compute {FORMULA[name]}.")
    def values(ctx: CheckContext) -> Verdict:
        data = ctx.fixture("losses")
        case = data["cases"][case_name]
        got = ctx.call(name, case["y_hat"], case["y"])
        n = mean_count(name, case["y_hat"])
        verdict = judge_loss(ctx, name, got, data["expected"][name], n,
                             f"{name}(y_hat, y) for y_hat of {shape_text(case['y_hat'])}")
        return with_formula(verdict, name)

    grad = f"{name}_grad"

    @register(STEM, f"{grad}.values", needs=(grad,), hint=f"{grad}(y_hat, y) should compute {FORMULA[grad]}.")
    def grad_values(ctx: CheckContext) -> Verdict:
        data = ctx.fixture("losses")
        checks = [(data["cases"][case_name], data["expected"][grad])]
        if name == "mae":
            checks.append((data["cases"]["tie"], data["expected"]["mae_grad_tie"]))
        for case, expected in checks:
            got = ctx.call(grad, case["y_hat"], case["y"])
            verdict = judge_gradient(ctx, grad, got, expected, mean_count(name, case["y_hat"]),
                                     f"{grad}(y_hat, y) for y_hat of {shape_text(case['y_hat'])}")
            if not verdict.passed:
                return with_formula(verdict, grad)
        return ok()

    @register(STEM, f"{grad}.numerical", needs=(grad, name),
              hint=f"{grad} should be the gradient of your own {name}, the mean loss.")
    def grad_numerical(ctx: CheckContext) -> Verdict:
        data = ctx.fixture("losses")
        case = data["cases"][case_name]
        numerical = loss_gradient_numerical(ctx, name, case["y_hat"], case["y"])
        got = ctx.call(grad, case["y_hat"], case["y"])
        n = mean_count(name, case["y_hat"])
        own = judge_loss(ctx, name, ctx.call(name, case["y_hat"], case["y"]), data["expected"][name], n,
                         f"{name}(y_hat, y) for y_hat of {shape_text(case['y_hat'])}")
        return numerical_verdict(ctx, grad, got, numerical,
                                 f"{grad}(y_hat, y) for y_hat of {shape_text(case['y_hat'])}", name,
                                 loss_gradient_factors(grad, n), own_verdict=own,
                                 reference=data["expected"][grad])


for _name in LOSSES:
    _register_loss(_name)


def _register_loss_edge(name: str, case_name: str) -> None:
    @register(STEM, f"{name}.stable", needs=(name,),
              hint="Clip y_hat to [eps, 1 - eps] (eps about 1e-12) before the log.")
    def stable(ctx: CheckContext) -> Verdict:
        data = ctx.fixture("losses")
        case = data["cases"][case_name]
        got = ctx.call(name, case["y_hat"], case["y"])
        return judge_stable(ctx, got, np.asarray(data["expected"][f"{name}_edge"]),
                            f"{name}(y_hat, y) with probabilities exactly 0 and 1", "log_of_zero", scalar=True)


_register_loss_edge("bce", "binary_edge")
_register_loss_edge("cce", "classes_edge")


# ---------------------------------------------------------------- fused deltas

def _register_delta(name: str) -> None:
    case_name = DELTA_CASE[name]
    large_name = case_name.split("_")[0] + "_large"

    @register(STEM, f"{name}.values", needs=(name,), hint=f"The fused output delta is {FORMULA[name]}.")
    def values(ctx: CheckContext) -> Verdict:
        data = ctx.fixture("deltas")
        case = data["cases"][case_name]
        got = ctx.call(name, case["z"], case["y"])
        verdict = judge_gradient(ctx, name, got, data["expected"][name], mean_count(name, case["z"]),
                                 f"{name}(z, y) for z of {shape_text(case['z'])}")
        return with_formula(verdict, name)

    @register(STEM, f"{name}.stable", needs=(name,),
              hint="Compute the delta from the logits with a stable sigmoid/softmax; never divide by y_hat.")
    def stable(ctx: CheckContext) -> Verdict:
        data = ctx.fixture("deltas")
        case = data["cases"][large_name]
        got = ctx.call(name, case["z"], case["y"])
        return judge_stable(ctx, got, data["expected"][f"{name}_large"], f"{name}(z, y) for |z| up to 1000",
                            "softmax_unstable" if name.startswith("softmax") else None)


for _name in DELTAS:
    _register_delta(_name)
