"""Comparing the student's plain-data answers with expected values, in the grader's process.

Feedback names the quantity, the shape and the size of the error, never the expected numbers,
so the same helpers serve hidden checks without leaking their data.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from grader.checks.base import Verdict, fail, ok


# what converting a student's value to float64 may raise: each means the answer is not numbers
CONVERSION_ERRORS = (OverflowError, ValueError, TypeError, MemoryError)


def to_array(value: Any) -> Optional[np.ndarray]:
    """The answer as a float64 array, or None when it is not numeric data (an int beyond float
    range, a ragged list, ... included: a conversion that fails is the student's wrong answer)."""
    try:
        if isinstance(value, (bool, int, float)):
            return np.array(float(value))
        if isinstance(value, np.ndarray):
            return value.astype(np.float64) if value.dtype.kind in "biuf" else None
        if isinstance(value, (list, tuple)):
            return np.array(value, dtype=np.float64)
    except CONVERSION_ERRORS:
        return None
    return None


def to_scalar(value: Any) -> Optional[float]:
    arr = to_array(value)
    if arr is None or arr.size != 1:
        return None
    return float(arr.reshape(()))


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """Norm-relative error |a - b| / (|a| + |b|), Frobenius norms; 0 when both are zero."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0.0 else float(np.linalg.norm(a - b) / denom)


def describe(value: Any) -> str:
    """What the student returned, for feedback, without printing large data."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, dict) and "__handle__" in value:
        return f"a {value.get('type', 'Python object')} object"
    if value is None:
        return "None"
    return f"a {type(value).__name__}"


def compare_arrays(got: Any, expected: np.ndarray, *, what: str, rtol: float = 1e-6,
                   atol: float = 1e-9, scalar: bool = False) -> Verdict:
    """Shape, finiteness and closeness of `got` against `expected`.

    Passes when |got - expected| <= atol + rtol * |expected| everywhere (numpy's allclose), so a
    correct implementation written differently (tanh-based sigmoid, logsumexp softmax) passes.
    """
    expected = np.asarray(expected, dtype=np.float64)
    arr = to_array(got)
    if arr is None:
        return fail(f"{what} should be numeric data, but it is {describe(got)}.")
    if scalar:
        if arr.size != 1:
            return fail(f"{what} should be a single number, but it has shape {arr.shape}.")
        arr = arr.reshape(expected.shape)
    if arr.shape != expected.shape:
        return fail(f"{what} has shape {arr.shape}; it should have shape {expected.shape}.")
    bad = ~np.isfinite(arr) & np.isfinite(expected)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        return fail(f"{what} contains {float(arr[where])} at index {where} where a finite value belongs.")
    if np.allclose(arr, expected, rtol=rtol, atol=atol, equal_nan=True):
        return ok()
    err = relative_error(arr, expected)
    worst = np.unravel_index(int(np.argmax(np.abs(arr - expected))), arr.shape) if arr.ndim else ()
    where = f" (largest difference at index {tuple(int(i) for i in worst)})" if arr.ndim else ""
    return fail(f"{what} is wrong: norm-relative error {err:.2e}{where}.")


def best_fit_scale(got: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    """The scalar s minimising |got - s * expected|, and the cosine between the two."""
    g = np.asarray(got, dtype=np.float64).ravel()
    e = np.asarray(expected, dtype=np.float64).ravel()
    ee = float(e @ e)
    gg = float(g @ g)
    if ee == 0.0 or gg == 0.0:
        return 0.0, 0.0
    return float(g @ e) / ee, float(g @ e) / math.sqrt(ee * gg)
