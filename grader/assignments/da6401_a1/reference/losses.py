"""The losses of `da6401-a1`, computed on p = softmax(logits), and their gradients w.r.t. the logits.

Shapes: logits Z (B, C), one row per example. Targets `y` come in either form the course allows:
integer labels (B,) or one-hot rows (B, C); `one_hot` turns both into Y (B, C).

    p_bc = exp(z_bc) / sum_k exp(z_bk)                                  softmax over each row
    cross_entropy      L = (1/B) sum_b -log p_{b, y_b} = -(1/B) sum_bc Y_bc log p_bc
    mean_squared_error L = (1/(B C)) sum_bc (p_bc - Y_bc)^2              keras's convention

Gradients are of these batch means (no further 1/B belongs anywhere downstream):

    dL/dZ (cross_entropy)      = (p - Y) / B
    dL/dp (mean_squared_error) = G = 2 (p - Y) / (B C)
    dL/dZ (mean_squared_error) = rows of G @ J, with the softmax Jacobian J_cd = dp_c/dz_d = p_c (delta_cd - p_d),
                               = p * (G - sum_c G_c p_c)                 (no (B, C, C) array needed)

`mse` is accepted as another name for mean_squared_error.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from grader.checks.lib.withheld import withheld

LossFunction = Callable[[ArrayLike, ArrayLike], float]
LossGradient = Callable[[ArrayLike, ArrayLike], np.ndarray]

ALIASES: dict[str, str] = {"mse": "mean_squared_error"}


def _logits(logits: ArrayLike) -> np.ndarray:
    Z = np.asarray(logits, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[0] == 0 or Z.shape[1] == 0:
        raise ValueError(f"logits must have shape (B, C) with B, C >= 1; got {Z.shape}")
    return Z


def softmax(logits: ArrayLike) -> np.ndarray:
    """p = softmax(Z) over each row, (B, C); the row maximum is subtracted first so exp cannot overflow."""
    Z = _logits(logits)
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(logits: ArrayLike) -> np.ndarray:
    """log p = (Z - m) - log sum_k exp(z_k - m), m the row maximum: finite even where p underflows to 0."""
    Z = _logits(logits)
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


@withheld
def softmax_jacobian(logits: ArrayLike) -> np.ndarray:
    """J[b, c, d] = dp_bc / dz_bd = p_bc (delta_cd - p_bd), a (B, C, C) stack (for tests and diagnosis)."""
    p = softmax(logits)
    return np.einsum("bc,cd->bcd", p, np.eye(p.shape[1])) - np.einsum("bc,bd->bcd", p, p)


def one_hot(y: ArrayLike, num_classes: int) -> np.ndarray:
    """Y (B, C) float64 from integer labels (B,) or from one-hot rows (B, C), which are returned as a copy.

    Labels may be any integer dtype, or floats holding whole numbers, each in [0, C).
    """
    y = np.asarray(y)
    if y.ndim == 2:
        if y.shape[1] != num_classes:
            raise ValueError(f"one-hot targets must have {num_classes} columns; got shape {y.shape}")
        return y.astype(np.float64, copy=True)
    if y.ndim != 1:
        raise ValueError(f"targets must be labels (B,) or one-hot (B, {num_classes}); got shape {y.shape}")
    labels = y.astype(np.int64)
    if not np.array_equal(labels, y) or np.any((labels < 0) | (labels >= num_classes)):
        raise ValueError(f"labels must be whole numbers in [0, {num_classes}); got {y!r}")
    return np.eye(num_classes)[labels]


def _batch(logits: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Z and Y, both (B, C), with one target per row of logits."""
    Z = _logits(logits)
    Y = one_hot(y, Z.shape[1])
    if Y.shape[0] != Z.shape[0]:
        raise ValueError(f"{Z.shape[0]} rows of logits but {Y.shape[0]} targets")
    return Z, Y


def cross_entropy(logits: ArrayLike, y: ArrayLike) -> float:
    """L = -(1/B) sum_bc Y_bc log p_bc, from the log-softmax (stable for large logits)."""
    Z, Y = _batch(logits, y)
    return float(-np.sum(Y * log_softmax(Z)) / Z.shape[0])


@withheld
def cross_entropy_gradient(logits: ArrayLike, y: ArrayLike) -> np.ndarray:
    """dL/dZ = (p - Y) / B, shape (B, C): softmax and cross-entropy's Jacobians collapse to this."""
    Z, Y = _batch(logits, y)
    return (softmax(Z) - Y) / Z.shape[0]


def mean_squared_error(logits: ArrayLike, y: ArrayLike) -> float:
    """L = (1/(B C)) sum_bc (p_bc - Y_bc)^2, the mean over all B x C entries (keras's convention)."""
    Z, Y = _batch(logits, y)
    return float(np.mean((softmax(Z) - Y) ** 2))


@withheld
def mean_squared_error_gradient(logits: ArrayLike, y: ArrayLike) -> np.ndarray:
    """dL/dZ (B, C) through the softmax: with G = dL/dp = 2 (p - Y) / (B C),

    dL/dz_d = sum_c G_c p_c (delta_cd - p_d) = p_d (G_d - sum_c G_c p_c), row by row.
    """
    Z, Y = _batch(logits, y)
    p = softmax(Z)
    G = 2.0 * (p - Y) / p.size
    return p * (G - np.sum(G * p, axis=1, keepdims=True))


# canonical name -> (loss, dloss/dlogits)
LOSSES: dict[str, tuple[LossFunction, LossGradient]] = {
    "cross_entropy": (cross_entropy, cross_entropy_gradient),
    "mean_squared_error": (mean_squared_error, mean_squared_error_gradient),
}


def canonical_loss(name: str) -> str:
    """`cross_entropy` or `mean_squared_error` for any name the course accepts (`mse` included)."""
    canonical = ALIASES.get(name, name)
    if canonical not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES) + sorted(ALIASES)}")
    return canonical


def loss_value(name: str, logits: ArrayLike, y: ArrayLike) -> float:
    """The batch-mean loss `name` of logits (B, C) against labels (B,) or one-hot (B, C)."""
    return LOSSES[canonical_loss(name)][0](logits, y)


@withheld
def loss_gradient(name: str, logits: ArrayLike, y: ArrayLike) -> np.ndarray:
    """dL/dZ (B, C) of the batch-mean loss `name`."""
    return LOSSES[canonical_loss(name)][1](logits, y)
