"""A multi-layer perceptron in numpy: initialisation, forward pass, and the lecture's backprop recipe.

Rows are examples. Layer l computes `Z_l = A_{l-1} @ W_l + b_l` and `A_l = act(Z_l)`, with
`W_l` of shape (n_{l-1}, n_l), `b_l` of shape (n_l,), `A_0 = X` of shape (B, n_0).
The lecture's general recipe (written there for column vectors) reads in row form:

    delta_L = dL/dZ_L                                 ((y_hat - y) / count for softmax + cce
                                                       and sigmoid + bce, count as the mean's)
    delta_l = (delta_{l+1} @ W_{l+1}.T) * act'(Z_l)   for l = L-1, ..., 1
    dW_l    = A_{l-1}.T @ delta_l                     (the outer product delta x^T, summed over rows)
    db_l    = delta_l.sum(axis=0)

Every gradient is of the mean loss (see `reference.losses`), so no extra 1/B appears here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from reference.activations import ACTIVATIONS, softmax, softmax_jacobian
from reference.losses import LOSSES, sigmoid_bce_delta, softmax_cce_delta

Params = list[tuple[np.ndarray, np.ndarray]]

OUTPUTS: tuple[str, ...] = (*ACTIVATIONS, "softmax")
# Output/loss pairs whose delta_L collapses to (y_hat - y) / count: the lecture's "magic simplification".
FUSED_DELTAS = {("softmax", "cce"): softmax_cce_delta, ("sigmoid", "bce"): sigmoid_bce_delta}


@dataclass(frozen=True)
class ForwardCache:
    """What `backward` needs from `forward`: A_0..A_L, Z_1..Z_L and the activation names.

    `activations[0]` is X and `activations[l]` is A_l; `pre_activations[l - 1]` is Z_l.
    """

    activations: tuple[np.ndarray, ...]
    pre_activations: tuple[np.ndarray, ...]
    hidden: str
    output: str


def init_params(layer_sizes: Sequence[int], seed: int = 0) -> Params:
    """Xavier/Glorot *uniform* weights and zero biases, one `(W, b)` per layer.

    W_l ~ U(-a, a) with a = sqrt(6 / (n_in + n_out)), so Var(W) = 2 / (n_in + n_out).
    Shapes: W_l (layer_sizes[l-1], layer_sizes[l]), b_l (layer_sizes[l],).
    """
    sizes = _check_layer_sizes(layer_sizes)
    rng = np.random.default_rng(seed)
    params: Params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / (n_in + n_out))
        params.append((rng.uniform(-limit, limit, size=(n_in, n_out)), np.zeros(n_out)))
    return params


def forward(params: Params, X: np.ndarray, hidden: str = "sigmoid",
            output: str = "softmax") -> tuple[np.ndarray, ForwardCache]:
    """Run the network on a batch: returns `(Y_hat, cache)`.

    X: (B, n_0). Y_hat: (B, n_L). Every layer but the last uses `hidden`; the last uses `output`.
    Z_l = A_{l-1} @ W_l + b_l, A_l = act(Z_l).
    """
    params = _check_params(params)
    _check_hidden(hidden)
    _check_output(output)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != params[0][0].shape[0]:
        raise ValueError(f"X must have shape (B, {params[0][0].shape[0]}) to match W_1, got {X.shape}; "
                         "for a single example use X[None, :]")
    activations, pre_activations = [X], []
    for index, (W, b) in enumerate(params):
        Z = activations[-1] @ W + b
        name = output if index == len(params) - 1 else hidden
        pre_activations.append(Z)
        activations.append(_activate(name, Z))
    cache = ForwardCache(tuple(activations), tuple(pre_activations), hidden, output)
    return activations[-1], cache


def backward(params: Params, cache: ForwardCache, Y: np.ndarray, loss: str = "cce") -> Params:
    """Gradients of the mean loss: a list of `(dW_l, db_l)` in the order of `params` (index 0 = layer 1).

    Y: (B, n_L), same shape as Y_hat (one-hot for cce). The output delta is the fused
    `y_hat - y` form for softmax + cce and sigmoid + bce, otherwise the general chain
    act'(Z_L) * dL/dY_hat (through the softmax Jacobian for a softmax output).
    Then delta_l = (delta_{l+1} @ W_{l+1}.T) * act'(Z_l), dW_l = A_{l-1}.T @ delta_l,
    db_l = delta_l.sum(axis=0).
    """
    params = _check_params(params)
    if not isinstance(cache, ForwardCache):
        raise TypeError(f"cache must be the ForwardCache returned by forward, got {type(cache).__name__}")
    if len(cache.pre_activations) != len(params):
        raise ValueError(f"cache holds {len(cache.pre_activations)} layers but params has {len(params)}")
    for index, ((W, _), Z) in enumerate(zip(params, cache.pre_activations)):
        if Z.shape[1] != W.shape[1]:
            raise ValueError(f"params[{index}] has {W.shape[1]} outputs but the cache's Z has {Z.shape[1]}: "
                             "pass the params that forward used")
    Y_hat = cache.activations[-1]
    Y = _check_targets(Y, Y_hat)
    delta = output_delta(cache.output, loss, cache.pre_activations[-1], Y_hat, Y)
    grads: Params = []
    for layer in range(len(params) - 1, -1, -1):
        A_prev = cache.activations[layer]
        grads.append((A_prev.T @ delta, delta.sum(axis=0)))
        if layer > 0:
            W = params[layer][0]
            delta = (delta @ W.T) * _derivative(cache.hidden, cache.pre_activations[layer - 1])
    grads.reverse()
    return grads


def output_delta(output: str, loss: str, Z: np.ndarray, Y_hat: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """delta_L = dL/dZ_L, shape (B, n_L), for the mean loss `loss` after the activation `output`."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)}")
    _check_output(output)
    fused = FUSED_DELTAS.get((output, loss))
    if fused is not None:
        return np.asarray(fused(Z, Y), dtype=np.float64)
    loss_grad = np.asarray(LOSSES[loss][1](Y_hat, Y), dtype=np.float64)
    if output == "softmax":
        # Row b: delta_d = sum_c dL/dy_c * dy_c/dz_d, with J[b, c, d] = dy_c/dz_d.
        return np.einsum("bc,bcd->bd", loss_grad, softmax_jacobian(Z))
    return loss_grad * _derivative(output, Z)


def loss_value(Y_hat: np.ndarray, Y: np.ndarray, loss: str = "cce") -> float:
    """The mean loss `loss` (mse, mae, bce, cce) of predictions Y_hat (B, n_L) against Y (B, n_L)."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)}")
    Y_hat = np.asarray(Y_hat, dtype=np.float64)
    return float(LOSSES[loss][0](Y_hat, _check_targets(Y, Y_hat)))


def predict(params: Params, X: np.ndarray, hidden: str, output: str = "softmax") -> np.ndarray:
    """Class labels (B,) as int64: the argmax of each row of the network's output."""
    Y_hat, _ = forward(params, X, hidden=hidden, output=output)
    return np.argmax(Y_hat, axis=1)


def accuracy(params: Params, X: np.ndarray, labels: np.ndarray, hidden: str,
             output: str = "softmax") -> float:
    """Fraction of rows of X (B, n_0) whose predicted class equals `labels` (B,)."""
    labels = np.asarray(labels)
    predicted = predict(params, X, hidden, output)
    if labels.shape != predicted.shape:
        raise ValueError(f"labels must have shape {predicted.shape} (one class index per row of X), "
                         f"got {labels.shape}")
    return float(np.mean(predicted == labels))


def _activate(name: str, Z: np.ndarray) -> np.ndarray:
    return softmax(Z) if name == "softmax" else ACTIVATIONS[name][0](Z)


def _derivative(name: str, Z: np.ndarray) -> np.ndarray:
    return np.asarray(ACTIVATIONS[name][1](Z), dtype=np.float64)


def _check_hidden(hidden: str) -> None:
    if hidden not in ACTIVATIONS:
        raise ValueError(f"unknown hidden activation {hidden!r}; choose one of {sorted(ACTIVATIONS)}")


def _check_output(output: str) -> None:
    if output not in OUTPUTS:
        raise ValueError(f"unknown output activation {output!r}; choose one of {sorted(OUTPUTS)}")


def _check_layer_sizes(layer_sizes: Sequence[int]) -> list[int]:
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes needs an input and an output size, e.g. [2, 16, 3]; got {sizes}")
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"every layer size must be a positive int, got {size!r} in {sizes}")
    return [int(size) for size in sizes]


def _check_params(params: Params) -> Params:
    """Return params as float64 arrays, or raise if the layers do not chain (n_out of one = n_in of next)."""
    if len(params) == 0:
        raise ValueError("params is empty: build it with init_params(layer_sizes)")
    checked: Params = []
    for index, layer in enumerate(params):
        if len(layer) != 2:
            raise ValueError(f"params[{index}] must be a pair (W, b)")
        W, b = (np.asarray(array, dtype=np.float64) for array in layer)
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(f"params[{index}]: W must be (n_in, n_out) and b (n_out,), "
                             f"got W {W.shape} and b {b.shape}")
        if checked and checked[-1][0].shape[1] != W.shape[0]:
            raise ValueError(f"params[{index}]: W has {W.shape[0]} inputs but the layer before "
                             f"has {checked[-1][0].shape[1]} outputs")
        checked.append((W, b))
    return checked


def _check_targets(Y: np.ndarray, Y_hat: np.ndarray) -> np.ndarray:
    Y = np.asarray(Y, dtype=np.float64)
    if Y.shape != Y_hat.shape:
        raise ValueError(f"Y must have the shape of Y_hat {Y_hat.shape} (one-hot rows for cce), got {Y.shape}")
    return Y
