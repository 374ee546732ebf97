"""Hidden checks for exercise 1: random inputs compared with the reference, extreme inputs, purity.

Inputs come from ctx.rng: shapes with every dimension different (so a transpose cannot hide),
ReLU and MAE inputs kept away from their kinks, |z| up to 1000 and probabilities exactly 0 and 1
for the robustness checks. Feedback names the function, the input's shape and the formula,
never the inputs or the expected numbers.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.compare import to_array
from grader.checks.lib.activations_losses import (
    ACTIVATIONS, DELTAS, DERIVATIVES, FORMULA, LOSS_GRADS, LOSSES, STEM, judge_activation, judge_gradient, judge_loss,
    judge_stable, mean_count, shape_text, with_formula,
)
from grader.checks.lib.answers import register
from grader.checks.lib.mutation import changed_arguments
from grader.diagnosis.text import mistake_text
from reference import activations as ref_activations
from reference import losses as ref_losses

ALL_FUNCTIONS: tuple[str, ...] = ACTIVATIONS + DERIVATIVES + ("softmax_jacobian",) + LOSSES + LOSS_GRADS + DELTAS


def reference_function(name: str) -> Callable:
    return getattr(ref_activations, name) if hasattr(ref_activations, name) else getattr(ref_losses, name)


# ---------------------------------------------------------------- random inputs

def distinct_sizes(rng: np.random.Generator) -> tuple[int, int, int]:
    """Three different sizes from 2 to 7: (A, B, C) of a 3-D input, (B, C) of a batch."""
    a, b, c = rng.choice(np.arange(2, 8), size=3, replace=False)
    return int(a), int(b), int(c)


def off_kink(rng: np.random.Generator, shape: tuple[int, ...], margin: float, scale: float = 2.0) -> np.ndarray:
    """Normal-ish values at least `margin` from 0, so ReLU's kink never sits inside a comparison."""
    return rng.choice([-1.0, 1.0], size=shape) * (margin + scale * np.abs(rng.normal(size=shape)))


def one_hot_rows(rng: np.random.Generator, rows: int, classes: int) -> np.ndarray:
    return np.eye(classes)[rng.integers(0, classes, size=rows)]


def loss_arguments(rng: np.random.Generator, name: str, shape: tuple[int, int],
                   margin: float) -> tuple[np.ndarray, np.ndarray]:
    """(y_hat, y) of `shape` fit for loss `name` (or its gradient)."""
    base = name.removesuffix("_grad")
    if base in ("mse", "mae"):
        y_hat = rng.normal(size=shape)
        return y_hat, y_hat + off_kink(rng, shape, margin, scale=1.0)
    if base == "bce":
        return rng.uniform(0.02, 0.98, size=shape), rng.integers(0, 2, size=shape).astype(np.float64)
    return ref_activations.softmax(2.0 * rng.normal(size=shape)), one_hot_rows(rng, *shape)


def delta_arguments(rng: np.random.Generator, name: str, shape: tuple[int, int],
                    scale: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    z = scale * rng.normal(size=shape)
    if name == "sigmoid_bce_delta":
        return z, rng.integers(0, 2, size=shape).astype(np.float64)
    return z, one_hot_rows(rng, *shape)


def arguments_for(ctx: CheckContext, name: str) -> tuple[np.ndarray, ...]:
    """One random argument tuple for any exercise-1 function (a (B, C) batch)."""
    rng = ctx.rng
    _, b, c = distinct_sizes(rng)
    if name in LOSSES or name.removesuffix("_grad") in LOSSES:
        return loss_arguments(rng, name, (b, c), ctx.settings["kink_margin"])
    if name in DELTAS:
        return delta_arguments(rng, name, (b, c))
    return (off_kink(rng, (b, c), ctx.settings["kink_margin"]),)


# ---------------------------------------------------------------- random inputs against the reference

def _register_activation_random(name: str) -> None:
    @register(STEM, f"{name}.random", needs=(name,), hint=f"{name} should compute {FORMULA[name]} for any shape.")
    def random(ctx: CheckContext) -> Verdict:
        rng = ctx.rng
        a, b, c = distinct_sizes(rng)
        shapes = [(c,), (b, c)] if name == "softmax_jacobian" else [(c,), (b, c), (a, b, c)]
        for shape in shapes:
            z = off_kink(rng, shape, ctx.settings["kink_margin"])
            got = ctx.call(name, z)
            verdict = judge_activation(ctx, name, z, got, reference_function(name)(z),
                                       f"{name}(z) for z of {shape_text(z)}")
            if not verdict.passed:
                return with_formula(verdict, name)
        return ok()


def _register_loss_random(name: str) -> None:
    @register(STEM, f"{name}.random", needs=(name,), hint=f"{name}(y_hat, y) should compute {FORMULA[name]}.")
    def random(ctx: CheckContext) -> Verdict:
        rng = ctx.rng
        _, b, c = distinct_sizes(rng)
        y_hat, y = loss_arguments(rng, name, (b, c), ctx.settings["kink_margin"])
        got = ctx.call(name, y_hat, y)
        what = f"{name}(y_hat, y) for y_hat of {shape_text(y_hat)}"
        if name in LOSSES:
            verdict = judge_loss(ctx, name, got, reference_function(name)(y_hat, y), mean_count(name, y_hat), what)
        else:
            verdict = judge_gradient(ctx, name, got, reference_function(name)(y_hat, y), mean_count(name, y_hat), what)
        return with_formula(verdict, name)


def _register_delta_random(name: str) -> None:
    @register(STEM, f"{name}.random", needs=(name,), hint=f"The fused output delta is {FORMULA[name]}.")
    def random(ctx: CheckContext) -> Verdict:
        rng = ctx.rng
        _, b, c = distinct_sizes(rng)
        z, y = delta_arguments(rng, name, (b, c))
        got = ctx.call(name, z, y)
        verdict = judge_gradient(ctx, name, got, reference_function(name)(z, y), mean_count(name, z),
                                 f"{name}(z, y) for z of {shape_text(z)}")
        return with_formula(verdict, name)


for _name in ACTIVATIONS + DERIVATIVES + ("softmax_jacobian",):
    _register_activation_random(_name)
for _name in LOSSES:
    _register_loss_random(_name)
    _register_loss_random(f"{_name}_grad")
for _name in DELTAS:
    _register_delta_random(_name)


# ---------------------------------------------------------------- extreme inputs

def large_logits(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values in [-1000, 1000] with the extremes, ties at the top and an all -1000 row planted."""
    z = rng.uniform(-1000.0, 1000.0, size=shape)
    rows = z.reshape(-1, shape[-1])
    rows[0, :] = -1000.0
    rows[1, :2] = 1000.0
    rows[-1, 0] = -745.5  # sigmoid's true value is below the smallest float64 there
    return rows.reshape(shape)


def exact_probabilities(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    """Probabilities equal to the target exactly (0 or 1) in about half the places, interior elsewhere."""
    y_hat = rng.uniform(0.02, 0.98, size=y.shape)
    exact = rng.random(size=y.shape) < 0.5
    exact.flat[0] = exact.flat[-1] = True
    return np.where(exact, y, y_hat)


def exact_class_probabilities(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    """Rows equal to the one-hot target (exact 1 and 0s), or with an exact 0 on a wrong class."""
    y_hat = ref_activations.softmax(2.0 * rng.normal(size=y.shape))
    for r in range(y.shape[0]):
        if r % 2 == 0:
            y_hat[r] = y[r]
        else:
            wrong = int(np.argmin(y[r]))
            y_hat[r, wrong] = 0.0
            y_hat[r] /= y_hat[r].sum()
    return y_hat


def robust_arguments(ctx: CheckContext, name: str) -> tuple[np.ndarray, ...]:
    rng = ctx.rng
    a, b, c = distinct_sizes(rng)
    if name == "sigmoid":
        return (large_logits(rng, (b, c)),)
    if name == "softmax":
        return (large_logits(rng, (a, b, c)),)
    if name in ("bce", "bce_grad"):
        y = rng.integers(0, 2, size=(b, c)).astype(np.float64)
        return exact_probabilities(rng, y), y
    if name in ("cce", "cce_grad"):
        y = one_hot_rows(rng, b, c)
        return exact_class_probabilities(rng, y), y
    z = large_logits(rng, (b, c))
    y = rng.integers(0, 2, size=(b, c)).astype(np.float64) if name == "sigmoid_bce_delta" else one_hot_rows(rng, b, c)
    return z, y


ROBUST = {"sigmoid": None, "softmax": "softmax_unstable", "bce": "log_of_zero", "cce": "log_of_zero",
          "bce_grad": "log_of_zero", "cce_grad": "log_of_zero", "sigmoid_bce_delta": None,
          "softmax_cce_delta": "softmax_unstable"}
ROBUST_HINT = {
    "sigmoid": "sigmoid must stay finite and accurate for |z| up to 1000.",
    "softmax": "Subtract each row's maximum before exp.",
    "bce": "Clip y_hat to [eps, 1 - eps] before the log.",
    "cce": "Clip y_hat to [eps, 1 - eps] before the log.",
    "bce_grad": "Clip y_hat to [eps, 1 - eps] before dividing.",
    "cce_grad": "Clip y_hat to [eps, 1 - eps] before dividing.",
    "sigmoid_bce_delta": "Compute the delta from the logits with a stable sigmoid.",
    "softmax_cce_delta": "Compute the delta from the logits with a stable softmax.",
}


def judge_exact_entries(ctx: CheckContext, got: Any, expected: np.ndarray, exact: np.ndarray, what: str) -> Verdict:
    """A loss gradient where y_hat equals y exactly: finite everywhere, the reference's value inside (0, 1).

    Where y_hat == y exactly, the gradient is 0/0 in the simplified form: the clipped-probability
    value (the reference's) and PyTorch's 0 (a floored denominator) are both accepted.
    """
    s = ctx.settings
    verdict = judge_stable(ctx, got, expected, what, "log_of_zero")
    if verdict.passed or verdict.diagnosis:
        return verdict
    arr = to_array(got)
    if arr is None or arr.shape != expected.shape:
        return verdict
    close = np.abs(arr - expected) <= s["stable_atol"] + s["stable_rtol"] * np.abs(expected)
    if np.all(close | (exact & (np.abs(arr) <= s["stable_atol"]))):
        return ok()
    return verdict


def _register_robust(name: str, code: str | None) -> None:
    @register(STEM, f"{name}.robust", needs=(name,), hint=ROBUST_HINT[name])
    def robust(ctx: CheckContext) -> Verdict:
        args = robust_arguments(ctx, name)
        got = ctx.call(name, *args)
        expected = np.asarray(reference_function(name)(*args), dtype=np.float64)
        extreme = "with |z| up to 1000" if name in ("sigmoid", "softmax") or name in DELTAS else \
            "with probabilities exactly 0 and 1"
        what = f"{name} on a {shape_text(args[0])} input {extreme}"
        if name in ("bce_grad", "cce_grad"):
            verdict = judge_exact_entries(ctx, got, expected, args[0] == args[1], what)
        else:
            verdict = judge_stable(ctx, got, expected, what, code, scalar=name in LOSSES,
                                   z=args[0] if name == "softmax" else None)
        return with_formula(verdict, name)


for _name, _code in ROBUST.items():
    _register_robust(_name, _code)


# ---------------------------------------------------------------- no input modified in place

def _register_no_mutation(name: str) -> None:
    @register(STEM, f"{name}.no_mutation", needs=(name,), hint="Never change an argument in place: work on a copy.")
    def no_mutation(ctx: CheckContext) -> Verdict:
        args = arguments_for(ctx, name)
        _, after = ctx.call_with_args(name, *args)
        changed = changed_arguments(args, after)
        if not changed:
            return ok()
        labels = ["z"] if len(args) == 1 else (["z", "y"] if name in DELTAS else ["y_hat", "y"])
        which = ", ".join(labels[i] for i in changed)
        return fail(f"{name} changed its argument {which} in place. {mistake_text('mutates_input', STEM)}",
                    diagnosis="mutates_input")


for _name in ALL_FUNCTIONS:
    _register_no_mutation(_name)
