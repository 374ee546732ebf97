"""Losses, their gradients with respect to the prediction, and the fused output deltas (exercise 1).

Conventions (PyTorch's defaults): arguments are `(y_hat, y)`, prediction first; `mse`, `mae`
and `bce` average over every element (N = y_hat.size); `cce` sums over the classes on the last
axis and averages over the rows (B = y_hat.size / C), with one-hot targets of shape (B, C).
Losses return a Python float; gradients have y_hat's shape and are of that mean loss. `y_hat`
and `y` must have the same shape: broadcasting a (B, 1) column against a (B,) vector would
silently compare every prediction with every target.

Probabilities are clipped to [EPS, 1 - EPS] inside `bce`, `cce` and their gradients, so that
y_hat exactly 0 or 1 gives a large but finite loss (-log 1e-12 ~ 27.6) and gradient, and loss
and gradient describe the same function. y_hat is not checked against [0, 1], so that a
finite-difference step may cross 0 or 1 (the clip absorbs it); targets y must lie in [0, 1].
The `*_with_logits` losses take logits instead and need no clipping: they are the stable
forms whose gradients are the fused deltas.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from reference.activations import sigmoid, softmax

# Probability clip for bce and cce: keeps log and 1/p finite at 0 and 1, and is far below any
# probability a trained model reports, so ordinary losses are unchanged.
EPS = 1e-12

Loss = Callable[[ArrayLike, ArrayLike], float]
LossGrad = Callable[[ArrayLike, ArrayLike], np.ndarray]


def _float_array(x: ArrayLike, name: str) -> np.ndarray:
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of real numbers; got {type(x).__name__}") from error


def _pair(y_hat: ArrayLike, y: ArrayLike, first: str = "y_hat") -> tuple[np.ndarray, np.ndarray]:
    """Both arguments as float64 arrays of one shape, with at least one element."""
    a, b = _float_array(y_hat, first), _float_array(y, "y")
    if a.shape != b.shape:
        raise ValueError(f"{first} and y must have the same shape; got {a.shape} and {b.shape} "
                         f"(reshape one of them: broadcasting would compare every pair)")
    if a.size == 0:
        raise ValueError(f"{first} and y are empty; a mean loss needs at least one element")
    return a, b


def _check_targets(y: np.ndarray) -> None:
    """Targets for bce and cce are probabilities: one-hot, 0/1 or soft labels."""
    if np.any((y < 0) | (y > 1)):
        raise ValueError("y must hold probabilities in [0, 1]; "
                         f"got values in [{np.nanmin(y):g}, {np.nanmax(y):g}]")


def _classes(y_hat: ArrayLike, y: ArrayLike, first: str = "y_hat") -> tuple[np.ndarray, np.ndarray, int]:
    """Arrays of shape (..., C) and the number of rows B they average over."""
    a, b = _pair(y_hat, y, first)
    if a.ndim == 0:
        raise ValueError(f"{first} must have shape (B, C) with classes on the last axis; got a scalar")
    return a, b, a.size // a.shape[-1]


def _clip(p: np.ndarray) -> np.ndarray:
    return np.clip(p, EPS, 1.0 - EPS)


def mse(y_hat: ArrayLike, y: ArrayLike) -> float:
    """L = (1/N) sum_i (y_i - y_hat_i)^2 over all N elements."""
    a, b = _pair(y_hat, y)
    return float(np.mean((a - b) ** 2))


def mse_grad(y_hat: ArrayLike, y: ArrayLike) -> np.ndarray:
    """dL/dy_hat = 2 (y_hat - y) / N, shape of y_hat."""
    a, b = _pair(y_hat, y)
    return 2.0 * (a - b) / a.size


def mae(y_hat: ArrayLike, y: ArrayLike) -> float:
    """L = (1/N) sum_i |y_i - y_hat_i| over all N elements."""
    a, b = _pair(y_hat, y)
    return float(np.mean(np.abs(a - b)))


def mae_grad(y_hat: ArrayLike, y: ArrayLike) -> np.ndarray:
    """dL/dy_hat = sign(y_hat - y) / N, shape of y_hat; 0 where y_hat == y (the kink)."""
    a, b = _pair(y_hat, y)
    return np.sign(a - b) / a.size


def bce(y_hat: ArrayLike, y: ArrayLike) -> float:
    """L = -(1/N) sum_i [y_i log p_i + (1 - y_i) log(1 - p_i)], p = clip(y_hat, EPS, 1 - EPS).

    y_hat and y hold probabilities in [0, 1] (y may be soft labels); N is the number of elements.
    """
    a, b = _pair(y_hat, y)
    _check_targets(b)
    p = _clip(a)
    return float(-np.mean(b * np.log(p) + (1.0 - b) * np.log1p(-p)))


def bce_grad(y_hat: ArrayLike, y: ArrayLike) -> np.ndarray:
    """dL/dy_hat = (p - y) / (p (1 - p)) / N with p = clip(y_hat, EPS, 1 - EPS), shape of y_hat.

    The lecture's -y/y_hat + (1-y)/(1-y_hat), over one common denominator, divided by N.
    """
    a, b = _pair(y_hat, y)
    _check_targets(b)
    p = _clip(a)
    return (p - b) / (p * (1.0 - p)) / a.size


def cce(y_hat: ArrayLike, y: ArrayLike) -> float:
    """L = -(1/B) sum_b sum_c y_bc log p_bc, p = clip(y_hat, EPS, 1 - EPS).

    y_hat (B, C) holds each row's class probabilities, y (B, C) one-hot targets.
    """
    a, b, rows = _classes(y_hat, y)
    _check_targets(b)
    return float(-np.sum(b * np.log(_clip(a))) / rows)


def cce_grad(y_hat: ArrayLike, y: ArrayLike) -> np.ndarray:
    """dL/dy_hat = -y / p / B with p = clip(y_hat, EPS, 1 - EPS), shape (B, C)."""
    a, b, rows = _classes(y_hat, y)
    _check_targets(b)
    return -b / _clip(a) / rows


def bce_with_logits(z: ArrayLike, y: ArrayLike) -> float:
    """L = bce(sigmoid(z), y) = (1/N) sum_i [softplus(z_i) - y_i z_i], without clipping.

    softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^-|z|): stable for any z. Equal to
    `bce(sigmoid(z), y)` while sigmoid(z) stays inside the clip, that is for |z| < ~27.
    """
    a, b = _pair(z, y, "z")
    _check_targets(b)
    softplus = np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a)))
    return float(np.mean(softplus - b * a))


def cce_with_logits(z: ArrayLike, y: ArrayLike) -> float:
    """L = cce(softmax(z), y) = -(1/B) sum_b sum_c y_bc (z_bc - logsumexp(z_b)), without clipping.

    logsumexp(z_b) = m_b + log sum_c exp(z_bc - m_b) with m_b the row maximum: stable for any z.
    z and y have shape (B, C).
    """
    a, b, rows = _classes(z, y, "z")
    _check_targets(b)
    m = a.max(axis=-1, keepdims=True)
    log_softmax = a - m - np.log(np.sum(np.exp(a - m), axis=-1, keepdims=True))
    return float(-np.sum(b * log_softmax) / rows)


def sigmoid_bce_delta(z: ArrayLike, y: ArrayLike) -> np.ndarray:
    """dL/dz for L = bce(sigmoid(z), y): (sigmoid(z) - y) / N, shape of z.

    The lecture's "magic simplification": bce's 1 / (y_hat (1 - y_hat)) cancels sigmoid'(z).
    It is the exact gradient of `bce_with_logits`.
    """
    a, b = _pair(z, y, "z")
    _check_targets(b)
    return (sigmoid(a) - b) / a.size


def softmax_cce_delta(z: ArrayLike, y: ArrayLike) -> np.ndarray:
    """dL/dz for L = cce(softmax(z), y): (softmax(z) - y) / B, shape (B, C).

    softmax's Jacobian cancels cce's 1 / y_hat. Exact gradient of `cce_with_logits` when each
    row of y sums to 1 (one-hot), which is checked.
    """
    a, b, rows = _classes(z, y, "z")
    _check_targets(b)
    if not np.allclose(b.sum(axis=-1), 1.0, rtol=0.0, atol=1e-9):
        raise ValueError("each row of y must sum to 1 (one-hot targets) for the softmax-cce delta")
    return (softmax(a) - b) / rows


LOSSES: dict[str, tuple[Loss, LossGrad]] = {
    "mse": (mse, mse_grad),
    "mae": (mae, mae_grad),
    "bce": (bce, bce_grad),
    "cce": (cce, cce_grad),
}

# (output activation, loss) -> dL/dz as a function of (z, y): the fused output deltas.
FUSED_DELTAS: dict[tuple[str, str], LossGrad] = {
    ("sigmoid", "bce"): sigmoid_bce_delta,
    ("softmax", "cce"): softmax_cce_delta,
}
