"""Scale evidence: is the student's answer a known factor times the right one?

Many mistakes change a gradient by a constant factor and nothing else: the wrong sign (-1),
the batch mean taken twice (1/B) or not at all (B), log2 for ln (1/ln 2 in a loss, ln 2 between
a loss and its gradient), the cross-entropy delta used for MSE (n_L/2, 1/2). The best-fit scale
s = <got, right> / <right, right> measures the factor; a cosine of +-1 and a small residual
|got - f right| / (|got| + |f right|) show the answer really is f times the right one, not
merely close to it in one direction. A factor that two codes share names neither.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

import numpy as np

from grader.checks.compare import best_fit_scale, relative_error, to_array


@dataclass(frozen=True)
class Factor:
    """A known ratio got / right, the mistake it names, and the ratio in words ("1/B")."""

    value: float
    code: str
    label: str


@dataclass(frozen=True)
class ScaleMatch:
    """A factor the answer matched, and the scale actually measured."""

    factor: Factor
    measured: float

    @property
    def code(self) -> str:
        return self.factor.code


LN2 = math.log(2.0)
SIGN = Factor(-1.0, "sign_flipped", "-1")


def batch_factors(count: int, name: str = "B") -> list[Factor]:
    """1/count (the mean taken twice) and count (a sum where the mean belongs); none for count 1."""
    if count <= 1:
        return []
    return [Factor(1.0 / count, "batch_mean_twice", f"1/{name} = 1/{count}"),
            Factor(float(count), "batch_sum_not_mean", f"{name} = {count}")]


def log2_factors() -> list[Factor]:
    """log2 for ln: a loss is 1/ln 2 times too large; its gradient and the loss disagree by ln 2."""
    return [Factor(1.0 / LN2, "log_base_2", "1/ln 2"), Factor(LN2, "log_base_2", "ln 2")]


def mse_delta_factors(classes: int, batch: int = 1) -> list[Factor]:
    """(Y_hat - Y) for MSE's 2 (Y_hat - Y) / (B n_L): the CE form scaled by 1/B, 1/(B n_L) or 1.

    Right: 2 (Y_hat - Y) / (B n_L). The CE-style deltas (Y_hat - Y) / B, (Y_hat - Y) / (B n_L)
    and Y_hat - Y are n_L / 2, 1/2 and B n_L / 2 times it.
    """
    factors = [Factor(0.5, "mse_with_ce_delta", "1/2")]
    if classes > 2:  # n_L = 2 makes n_L / 2 = 1: nothing to tell apart
        factors.append(Factor(classes / 2.0, "mse_with_ce_delta", f"n_L/2 = {classes}/2"))
    if batch * classes > 2:
        factors.append(Factor(batch * classes / 2.0, "mse_with_ce_delta", f"B n_L/2 = {batch * classes}/2"))
    return factors


def mlp_gradient_factors(batch: int, classes: int, loss: str) -> list[Factor]:
    """Every factor a mistake in the output delta of an MLP's backward scales all gradients by."""
    factors = [SIGN, *batch_factors(batch)]
    if loss == "mse":
        factors += mse_delta_factors(classes, batch)
    return factors


def loss_gradient_factors(name: str, count: int) -> list[Factor]:
    """Factors naming a mistake in a loss gradient or fused delta of exercise 1 (count: N, or B for cce)."""
    factors = [SIGN, *batch_factors(count, "B" if name.startswith(("cce", "softmax_cce")) else "N")]
    if name.startswith(("bce", "cce")):
        factors += log2_factors()
    if name.startswith("mse"):
        factors += [Factor(0.5, "mse_with_ce_delta", "1/2")]
        if count > 2:
            factors.append(Factor(count / 2.0, "mse_with_ce_delta", f"N/2 = {count}/2"))
    return factors


def _unique(matches: Sequence[Factor]) -> Optional[Factor]:
    """The single mistake all matching factors name; None when there is none or two disagree."""
    codes = {f.code for f in matches}
    return matches[0] if len(codes) == 1 else None


def match_scale(got: Any, expected: Any, factors: Iterable[Factor], tol: float) -> Optional[ScaleMatch]:
    """The factor f with got = f * expected, when the evidence is certain; else None.

    Certain: same shape, all finite, |cosine| within `tol` of 1, the best-fit scale within
    `tol` (relative) of f, and norm-relative error of got against f * expected within `tol`.
    """
    arr, want = to_array(got), to_array(expected)
    if arr is None or want is None or arr.shape != want.shape:
        return None
    if not (np.all(np.isfinite(arr)) and np.all(np.isfinite(want))) or not np.any(want):
        return None
    measured, cosine = best_fit_scale(arr, want)
    if abs(abs(cosine) - 1.0) > tol:
        return None
    found = _unique([f for f in factors
                     if abs(measured - f.value) <= tol * abs(f.value)
                     and relative_error(arr, f.value * want) <= tol])
    return ScaleMatch(found, measured) if found else None


def match_ratio(ratio: float, factors: Iterable[Factor], tol: float) -> Optional[Factor]:
    """The factor a measured ratio (got / right, e.g. of two slopes) equals within `tol`, if one."""
    if not math.isfinite(ratio):
        return None
    return _unique([f for f in factors if abs(ratio - f.value) <= tol * abs(f.value)])


def common_code(codes: Sequence[Optional[str]]) -> Optional[str]:
    """The code every piece of evidence agrees on, or None (none given, or any None or disagreeing)."""
    return codes[0] if codes and codes[0] is not None and all(c == codes[0] for c in codes) else None
