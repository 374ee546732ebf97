"""Activations and their derivatives with respect to the pre-activation `z` (exercise 1).

Every function takes an array-like `z` of any shape, works in float64, returns a new array and
never modifies `z`. Elementwise functions keep `z`'s shape; `softmax` normalises over the last
axis. `sigmoid`, `softmax` and their derivatives stay finite and accurate for |z| up to 1000
(and beyond): no intermediate `exp` ever sees a positive argument.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

Activation = Callable[[ArrayLike], np.ndarray]


def _float_array(z: ArrayLike, name: str = "z") -> np.ndarray:
    """`z` as a float64 array, with a message that says what to pass instead."""
    try:
        array = np.asarray(z, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of real numbers; got {type(z).__name__}") from error
    return array


def _last_axis(z: ArrayLike, what: str) -> np.ndarray:
    array = _float_array(z)
    if array.ndim == 0 or array.shape[-1] == 0:
        raise ValueError(f"{what} needs z with at least one class on its last axis, shape (..., C) "
                         f"with C >= 1; got shape {array.shape}")
    return array


def identity(z: ArrayLike) -> np.ndarray:
    """a(z) = z, the linear output for regression. A copy, so callers may change it freely."""
    return np.array(_float_array(z), dtype=np.float64, copy=True)


def identity_grad(z: ArrayLike) -> np.ndarray:
    """a'(z) = 1, same shape as z."""
    return np.ones_like(_float_array(z))


def sigmoid(z: ArrayLike) -> np.ndarray:
    """sigma(z) = 1 / (1 + exp(-z)), elementwise, same shape as z.

    Computed as n / (1 + e) with e = exp(-|z|), n = 1 where z >= 0 and n = e where z < 0:
    both forms of the same fraction, and exp never overflows. For z below about -745 the true
    value is smaller than the smallest float64 and the result is 0.
    """
    z = _float_array(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def sigmoid_grad(z: ArrayLike) -> np.ndarray:
    """sigma'(z) = sigma(z) (1 - sigma(z)), elementwise, same shape as z.

    Computed as e / (1 + e)^2 with e = exp(-|z|) (sigma' is even), which keeps full relative
    accuracy in both tails where 1 - sigma(z) would round to 0.
    """
    e = np.exp(-np.abs(_float_array(z)))
    return e / (1.0 + e) ** 2


def tanh(z: ArrayLike) -> np.ndarray:
    """tanh(z) = (e^z - e^-z) / (e^z + e^-z), elementwise, same shape as z."""
    return np.tanh(_float_array(z))


def tanh_grad(z: ArrayLike) -> np.ndarray:
    """tanh'(z) = 1 - tanh(z)^2, elementwise, same shape as z.

    Computed as 4 e / (1 + e)^2 with e = exp(-2|z|) (that is, 4 sigma'(2z)), which stays accurate
    for large |z| where 1 - tanh^2 would round to 0.
    """
    e = np.exp(-2.0 * np.abs(_float_array(z)))
    return 4.0 * e / (1.0 + e) ** 2


def relu(z: ArrayLike) -> np.ndarray:
    """relu(z) = max(z, 0), elementwise, same shape as z."""
    return np.maximum(_float_array(z), 0.0)


def relu_grad(z: ArrayLike) -> np.ndarray:
    """relu'(z) = 1 where z > 0, else 0 (0 at the kink z = 0, as PyTorch), same shape as z."""
    return (_float_array(z) > 0).astype(np.float64)


def softmax(z: ArrayLike) -> np.ndarray:
    """softmax(z)_i = exp(z_i) / sum_j exp(z_j) over the last axis; z (..., C) -> (..., C).

    The row maximum is subtracted first: softmax is unchanged by a shift of a row, and then
    every exponent is <= 0, so nothing overflows and each row's largest term is exactly 1.
    """
    z = _last_axis(z, "softmax")
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_jacobian(z: ArrayLike) -> np.ndarray:
    """J_ij = d softmax(z)_i / d z_j = s_i (delta_ij - s_j), with s = softmax(z).

    Shapes: z (C,) -> (C, C); z (B, C) -> (B, C, C), one Jacobian per row (any leading shape
    works the same way). Each row of J sums to 0 because the outputs always sum to 1.
    """
    s = softmax(z)
    eye = np.eye(s.shape[-1])
    return s[..., :, None] * (eye - s[..., None, :])


# Hidden activations an MLP may use, each with its derivative.
ACTIVATIONS: dict[str, tuple[Activation, Activation]] = {
    "identity": (identity, identity_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
}

# Output activations: identity for regression, sigmoid for multi-label, softmax for multi-class.
OUTPUT_ACTIVATIONS: tuple[str, ...] = ("identity", "sigmoid", "softmax")
