"""A functional MLP, the answer key for `NeuralNetwork.forward` and `.backward` in `da6401-a1`.

Rows are examples. With L layers, weights[l] of shape (n_l, n_{l+1}) and biases[l] of shape
(n_{l+1},), input layer first (l = 0 reads X):

    A_0 = X                                   (B, n_0)
    Z_l = A_l @ W_l + b_l                     (B, n_{l+1})
    A_{l+1} = act(Z_l)        for l < L - 1   hidden layers
    logits = Z_{L-1}                          the output layer has no activation

Backward, for the batch-mean loss L(softmax(logits), y) of `reference.losses`:

    delta_{L-1} = dL/dZ_{L-1}                 (p - Y) / B for cross-entropy; through J for MSE
    dW_l = A_l.T @ delta_l                    (n_l, n_{l+1}), the sum over rows of outer products
    db_l = delta_l.sum(axis=0)                (n_{l+1},)
    delta_{l-1} = (delta_l @ W_l.T) * act'(Z_{l-1})

The 1/B lives in delta_{L-1} only. Gradients come back input layer first, like `weights`;
the skeleton's `backward` returns them output layer first. Weight decay is not part of this
loss: it belongs to the optimizer step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike

from grader.assignments.da6401_a1.reference.activations import activation_pair
from grader.assignments.da6401_a1.reference.gradcheck import central_difference
from grader.assignments.da6401_a1.reference.losses import loss_gradient, loss_value
from grader.checks.lib.withheld import withheld

Arrays = list[np.ndarray]


@dataclass(frozen=True)
class ForwardCache:
    """What `backward` needs: inputs[l] = A_l (layer l's input, A_0 = X) and pre_activations[l] = Z_l."""

    inputs: tuple[np.ndarray, ...]
    pre_activations: tuple[np.ndarray, ...]

    @property
    def logits(self) -> np.ndarray:
        return self.pre_activations[-1]


def check_parameters(weights: Sequence[ArrayLike], biases: Sequence[ArrayLike]) -> tuple[Arrays, Arrays]:
    """weights and biases as float64 copies, or ValueError if they do not form a chain of dense layers."""
    Ws = [np.array(W, dtype=np.float64) for W in weights]
    bs = [np.array(b, dtype=np.float64) for b in biases]
    if not Ws or len(Ws) != len(bs):
        raise ValueError(f"need one bias per weight matrix and at least one layer; got {len(Ws)} and {len(bs)}")
    for l, (W, b) in enumerate(zip(Ws, bs)):
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(f"layer {l}: W must be (n_in, n_out) and b (n_out,); got {W.shape} and {b.shape}")
        if l > 0 and Ws[l - 1].shape[1] != W.shape[0]:
            raise ValueError(f"layer {l} takes {W.shape[0]} inputs but layer {l - 1} gives {Ws[l - 1].shape[1]}")
    return Ws, bs


def forward(weights: Sequence[ArrayLike], biases: Sequence[ArrayLike], X: ArrayLike,
            activation: str) -> tuple[np.ndarray, ForwardCache]:
    """(logits (B, n_L), cache): Z_l = A_l @ W_l + b_l, A_{l+1} = act(Z_l) on hidden layers only."""
    Ws, bs = check_parameters(weights, biases)
    act, _ = activation_pair(activation)
    A = np.asarray(X, dtype=np.float64)
    if A.ndim != 2 or A.shape[1] != Ws[0].shape[0]:
        raise ValueError(f"X must have shape (B, {Ws[0].shape[0]}); got {A.shape}")
    inputs, pre_activations = [], []
    for l, (W, b) in enumerate(zip(Ws, bs)):
        Z = A @ W + b
        inputs.append(A)
        pre_activations.append(Z)
        A = act(Z) if l < len(Ws) - 1 else Z
    return pre_activations[-1], ForwardCache(tuple(inputs), tuple(pre_activations))


@withheld
def backpropagate(weights: Sequence[ArrayLike], cache: ForwardCache, delta: ArrayLike,
                  activation: str) -> tuple[Arrays, Arrays]:
    """(grad_Ws, grad_bs), input layer first, for a given output delta = dL/dZ_{L-1} (B, n_L).

    The chain rule alone, with no loss in it: the grader also uses it to say what gradient a
    mistaken output delta would have produced.
    """
    Ws = [np.asarray(W, dtype=np.float64) for W in weights]
    _, derivative = activation_pair(activation)
    delta = np.asarray(delta, dtype=np.float64)
    grad_Ws: Arrays = [np.empty(0)] * len(Ws)
    grad_bs: Arrays = [np.empty(0)] * len(Ws)
    for l in range(len(Ws) - 1, -1, -1):
        grad_Ws[l] = cache.inputs[l].T @ delta
        grad_bs[l] = delta.sum(axis=0)
        if l > 0:
            delta = (delta @ Ws[l].T) * derivative(cache.pre_activations[l - 1])
    return grad_Ws, grad_bs


@withheld
def backward(weights: Sequence[ArrayLike], biases: Sequence[ArrayLike], cache: ForwardCache, y: ArrayLike,
             loss: str, activation: str) -> tuple[Arrays, Arrays]:
    """(grad_Ws, grad_bs) of the batch-mean `loss`, input layer first, shapes of weights and biases.

    y: integer labels (B,) or one-hot (B, n_L). `biases` is only checked: dL/db needs no bias values.
    """
    Ws, bs = check_parameters(weights, biases)
    if len(cache.pre_activations) != len(Ws) or cache.logits.shape[1] != Ws[-1].shape[1]:
        raise ValueError("the cache does not come from these weights: pass the ones forward used")
    delta = loss_gradient(loss, cache.logits, y)
    return backpropagate(Ws, cache, delta, activation)


def loss_at(weights: Sequence[ArrayLike], biases: Sequence[ArrayLike], X: ArrayLike, y: ArrayLike,
            loss: str, activation: str) -> float:
    """The batch-mean `loss` of the network's logits on X against y."""
    logits, _ = forward(weights, biases, X, activation)
    return loss_value(loss, logits, y)


@withheld
def numerical_gradients(weights: Sequence[ArrayLike], biases: Sequence[ArrayLike], X: ArrayLike, y: ArrayLike,
                        loss: str, activation: str, h: float = 1e-6) -> tuple[Arrays, Arrays]:
    """(grad_Ws, grad_bs) by central differences of `loss_at`, input layer first: for tests only.

    2 forward passes per parameter, so keep networks small (tens of parameters per layer).
    """
    Ws, bs = check_parameters(weights, biases)
    grad_Ws = [central_difference(lambda W, l=l: loss_at(_replaced(Ws, l, W), bs, X, y, loss, activation), Ws[l], h)
               for l in range(len(Ws))]
    grad_bs = [central_difference(lambda b, l=l: loss_at(Ws, _replaced(bs, l, b), X, y, loss, activation), bs[l], h)
               for l in range(len(bs))]
    return grad_Ws, grad_bs


def _replaced(tensors: Arrays, index: int, value: np.ndarray) -> Arrays:
    """A new list: `tensors` with entry `index` replaced by `value`."""
    return [value if i == index else tensor for i, tensor in enumerate(tensors)]


def random_parameters(layer_sizes: Sequence[int], rng: np.random.Generator) -> tuple[Arrays, Arrays]:
    """Weights W_l ~ N(0, 1/n_l) and biases b_l ~ N(0, 1/4), input layer first.

    For checks, not training: the 1/sqrt(n_in) scale keeps logits of order 1 (a saturated
    softmax or activation would make every gradient small and every comparison weak), and the
    biases are non-zero so that a gradient which ignores them is seen.
    """
    sizes = [int(n) for n in layer_sizes]
    Ws = [rng.standard_normal((n_in, n_out)) / np.sqrt(n_in) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    bs = [0.5 * rng.standard_normal(n_out) for n_out in sizes[1:]]
    return Ws, bs
