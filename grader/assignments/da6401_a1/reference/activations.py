"""Hidden-layer activations of `da6401-a1` and their derivatives with respect to the pre-activation.

Every function is elementwise: it takes Z of any shape, returns a new float64 array of that
shape and never modifies Z. The output layer has no activation (the network returns logits);
the softmax belongs to the losses (`reference.losses`).

    sigmoid(z) = 1 / (1 + e^-z)          sigmoid'(z) = sigmoid(z) (1 - sigmoid(z))
    tanh(z)                              tanh'(z)    = 1 - tanh(z)^2
    relu(z)    = max(z, 0)               relu'(z)    = 1 if z > 0 else 0   (0 at z = 0)
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from grader.checks.lib.withheld import withheld

Elementwise = Callable[[ArrayLike], np.ndarray]


def sigmoid(z: ArrayLike) -> np.ndarray:
    """sigma(z) = 1 / (1 + exp(-z)).

    Written as n / (1 + e) with e = exp(-|z|) and n = 1 (z >= 0) or e (z < 0): the same
    fraction either way, and exp never sees a positive argument, so it cannot overflow.
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


@withheld
def sigmoid_derivative(z: ArrayLike) -> np.ndarray:
    """sigma'(z) = sigma(z) (1 - sigma(z)) = e / (1 + e)^2 with e = exp(-|z|) (sigma' is even)."""
    e = np.exp(-np.abs(np.asarray(z, dtype=np.float64)))
    return e / (1.0 + e) ** 2


def tanh(z: ArrayLike) -> np.ndarray:
    """tanh(z) = (e^z - e^-z) / (e^z + e^-z)."""
    return np.tanh(np.asarray(z, dtype=np.float64))


@withheld
def tanh_derivative(z: ArrayLike) -> np.ndarray:
    """tanh'(z) = 1 - tanh(z)^2."""
    t = np.tanh(np.asarray(z, dtype=np.float64))
    return 1.0 - t * t


def relu(z: ArrayLike) -> np.ndarray:
    """relu(z) = max(z, 0)."""
    return np.maximum(np.asarray(z, dtype=np.float64), 0.0)


@withheld
def relu_derivative(z: ArrayLike) -> np.ndarray:
    """relu'(z) = 1 where z > 0, else 0 (the subgradient 0 is taken at z = 0)."""
    return (np.asarray(z, dtype=np.float64) > 0).astype(np.float64)


# name -> (a, a'), the names the skeleton's `--activation` accepts.
ACTIVATIONS: dict[str, tuple[Elementwise, Elementwise]] = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
}


def activation_pair(name: str) -> tuple[Elementwise, Elementwise]:
    """(a, a') for the activation called `name`; ValueError names the choices otherwise."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None
