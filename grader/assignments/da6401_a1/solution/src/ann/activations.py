"""Activation functions and their derivatives with respect to the pre-activation z.

Hidden layers use sigmoid, tanh or relu; the output layer uses identity, so the network
returns logits and the softmax is left to the loss. Every function works elementwise and
keeps the dtype of its input.
"""
import numpy as np


def sigmoid(z):
    """1 / (1 + exp(-z)), computed from exp(-|z|) so that exp never overflows."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def sigmoid_derivative(z):
    """sigmoid(z) * (1 - sigmoid(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    return np.tanh(z)


def tanh_derivative(z):
    """1 - tanh(z)^2."""
    t = np.tanh(z)
    return 1.0 - t * t


def relu(z):
    return np.maximum(z, 0.0)


def relu_derivative(z):
    """1 where z > 0, else 0 (0 at z = 0)."""
    return (z > 0).astype(z.dtype)


def identity(z):
    return z


def identity_derivative(z):
    return np.ones_like(z)


ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    "identity": (identity, identity_derivative),
}


def get_activation(name):
    """(function, derivative) for `name`."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]
