"""Exercise 1's functions (activations, their derivatives, losses, their gradients, fused
deltas) and how an answer from one of them is judged, for its public and hidden checks.

A failed comparison asks `grader.diagnosis` which known mistake explains the answer: a scale
factor (sign, 1/N, N, ln 2, the missing 2 of mse), a transpose, a mistaken variant computed
from the input (relu' = 1, sigma' of the wrong input, softmax over the wrong axis), inf or nan
at extreme inputs.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Optional

import numpy as np

from grader.checks.base import CheckContext, Verdict
from grader.checks.compare import compare_arrays, to_array
from grader.checks.lib import evidence
from grader.checks.lib.evidence import Finder, nonfinite_code, scale_code
from grader.diagnosis.layout import transposed_code
from grader.diagnosis.scale import SIGN, Factor, batch_factors, loss_gradient_factors
from grader.diagnosis.variants import derivative_variants, matching_variant, softmax_variants

STEM = "ex1_activations_losses"
ELEMENTWISE: tuple[str, ...] = ("identity", "sigmoid", "tanh", "relu")
ACTIVATIONS: tuple[str, ...] = ELEMENTWISE + ("softmax",)
DERIVATIVES: tuple[str, ...] = tuple(f"{name}_grad" for name in ELEMENTWISE)
LOSSES: tuple[str, ...] = ("mse", "mae", "bce", "cce")
LOSS_GRADS: tuple[str, ...] = tuple(f"{name}_grad" for name in LOSSES)
DELTAS: tuple[str, ...] = ("sigmoid_bce_delta", "softmax_cce_delta")

FORMULA = {
    "identity": "a(z) = z",
    "sigmoid": "sigma(z) = 1 / (1 + exp(-z))",
    "tanh": "tanh(z) = (e^z - e^-z) / (e^z + e^-z)",
    "relu": "relu(z) = max(z, 0)",
    "softmax": "softmax(z)_i = exp(z_i) / sum_j exp(z_j) over the last axis",
    "identity_grad": "a'(z) = 1",
    "sigmoid_grad": "sigma'(z) = sigma(z) (1 - sigma(z))",
    "tanh_grad": "tanh'(z) = 1 - tanh(z)^2",
    "relu_grad": "relu'(z) = 1 where z > 0, else 0 (0 at z = 0)",
    "softmax_jacobian": "J_ij = s_i (delta_ij - s_j) with s = softmax(z)",
    "mse": "L = (1/N) sum (y - y_hat)^2 over all N elements",
    "mae": "L = (1/N) sum |y - y_hat| over all N elements",
    "bce": "L = -(1/N) sum [y log y_hat + (1 - y) log(1 - y_hat)] over all N elements",
    "cce": "L = -(1/B) sum_b sum_c y_bc log y_hat_bc",
    "mse_grad": "dL/dy_hat = 2 (y_hat - y) / N",
    "mae_grad": "dL/dy_hat = sign(y_hat - y) / N (0 where y_hat = y)",
    "bce_grad": "dL/dy_hat = (y_hat - y) / (y_hat (1 - y_hat)) / N",
    "cce_grad": "dL/dy_hat = -y / y_hat / B",
    "sigmoid_bce_delta": "dL/dz = (sigmoid(z) - y) / N",
    "softmax_cce_delta": "dL/dz = (softmax(z) - y) / B",
}


def explain(verdict: Verdict, *finders: Finder, exercise: str = STEM) -> Verdict:
    """A failed verdict with the first diagnosis the evidence supports, and its sentence."""
    return evidence.explain(verdict, *finders, exercise=exercise)


def with_formula(verdict: Verdict, name: str) -> Verdict:
    """A failed verdict with `name`'s formula to compare with appended; a passing one as it is."""
    if verdict.passed:
        return verdict
    return replace(verdict, feedback=f"{verdict.feedback} Compare with {FORMULA[name]}.")


def shape_text(x: np.ndarray) -> str:
    """'shape (3, 4)': how feedback names an input without showing it."""
    return f"shape {tuple(x.shape)}"


def mean_count(name: str, y_hat: np.ndarray) -> int:
    """N the loss averages over: every element, or the rows for cce and the softmax delta."""
    y_hat = np.asarray(y_hat)
    return y_hat.size // y_hat.shape[-1] if name.startswith(("cce", "softmax_cce")) else y_hat.size


def loss_value_factors(name: str, n: int) -> list[Factor]:
    """Factors naming a mistake in a loss value: the mean taken twice or not at all, log2 for ln."""
    factors = batch_factors(n, "B" if name == "cce" else "N")
    if name in ("bce", "cce"):
        factors.append(Factor(1.0 / math.log(2.0), "log_base_2", "1/ln 2"))
    return factors


def judge_activation(ctx: CheckContext, name: str, z: np.ndarray, got: Any, expected: np.ndarray,
                     what: str) -> Verdict:
    """An activation, derivative or Jacobian answer against the expected array, with evidence."""
    s = ctx.settings
    verdict = compare_arrays(got, expected, what=what, rtol=s["rtol"], atol=s["atol"])
    tol = s["diagnosis_tol"]
    derivative = name.endswith("_grad")
    return explain(verdict,
                   lambda: matching_variant(got, derivative_variants(name, z), tol, right=expected),
                   lambda: scale_code(got, expected, [SIGN], tol) if derivative else None,
                   lambda: transposed_code(got, expected, tol) if derivative else None)


def judge_loss(ctx: CheckContext, name: str, got: Any, expected: float, n: int, what: str) -> Verdict:
    """A loss value against the expected number: the mean twice or not at all, or log base 2, named."""
    s = ctx.settings
    verdict = compare_arrays(got, np.asarray(expected), what=what, rtol=s["rtol"], atol=s["atol"], scalar=True)
    arr = to_array(got)
    value = arr.reshape(np.asarray(expected).shape) if arr is not None and arr.size == 1 else got
    return explain(verdict, lambda: scale_code(value, np.asarray(expected), loss_value_factors(name, n),
                                               s["diagnosis_tol"]))


def judge_gradient(ctx: CheckContext, name: str, got: Any, expected: np.ndarray, n: int, what: str) -> Verdict:
    """A loss gradient or fused delta against the expected array, with scale and transpose evidence."""
    s = ctx.settings
    verdict = compare_arrays(got, expected, what=what, rtol=s["rtol"], atol=s["atol"])
    tol = s["diagnosis_tol"]
    return explain(verdict,
                   lambda: scale_code(got, expected, loss_gradient_factors(name, n), tol),
                   lambda: transposed_code(got, expected, tol))


def judge_stable(ctx: CheckContext, got: Any, expected: np.ndarray, what: str, code: Optional[str],
                 scalar: bool = False, z: Optional[np.ndarray] = None) -> Verdict:
    """An answer at extreme inputs: finite, and close to the expected one (clipping choices differ).

    `code` names inf or nan in the answer; with softmax's input `z`, an answer normalised over
    the wrong axis is named too.
    """
    s = ctx.settings
    verdict = compare_arrays(got, expected, what=what, rtol=s["stable_rtol"], atol=s["stable_atol"], scalar=scalar)
    # An axis slip can give nan too (0/0 where a column underflows): the variant explains it first.
    return explain(verdict,
                   lambda: matching_variant(got, softmax_variants(z), s["diagnosis_tol"], right=expected)
                   if z is not None else None,
                   lambda: nonfinite_code(got, code) if code else None)
