"""Exercise 6: Gradient descent, a network that learns (solution).

Generated from `ex6_gradient_descent.ipynb`: edit the notebook, then run
`python -m grader.authoring.generate`. A copy that drifts from the notebook fails the tests.
"""
import numpy as np

from ex3_mlp_backprop import backward, forward, init_params


def sgd_step(params: list[tuple[np.ndarray, np.ndarray]],
             grads: list[tuple[np.ndarray, np.ndarray]],
             lr: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """One gradient descent step: W <- W - lr dL/dW and b <- b - lr dL/db for every layer.

    params, grads: lists of (W, b) and (dW, db) of matching shapes. Returns a new list;
    the arrays passed in are not changed.
    """
    if len(params) != len(grads):
        raise ValueError(f"{len(params)} layers of params but {len(grads)} of grads; "
                         "pass the list backward returned for these params")
    stepped = []
    for layer, ((W, b), (dW, db)) in enumerate(zip(params, grads)):
        if np.shape(dW) != np.shape(W) or np.shape(db) != np.shape(b):
            raise ValueError(f"layer {layer}: grads have shapes {np.shape(dW)}, {np.shape(db)} "
                             f"but params have {np.shape(W)}, {np.shape(b)}")
        stepped.append((np.asarray(W) - lr * np.asarray(dW), np.asarray(b) - lr * np.asarray(db)))
    return stepped


def _mean_cce(Y_hat: np.ndarray, Y: np.ndarray) -> float:
    """CCE summed over classes and averaged over rows, logs clamped at -100 (exercise 1; given)."""
    with np.errstate(divide="ignore"):
        return float(np.sum(-Y * np.maximum(np.log(Y_hat), -100.0)) / len(Y))


def train(X: np.ndarray, Y: np.ndarray, layer_sizes: list[int], hidden: str = "tanh",
          epochs: int = 300, lr: float = 0.3, batch_size: int = 32,
          seed: int = 0) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[float]]:
    """Minibatch gradient descent on an MLP with a softmax output and the CCE loss.

    X: (N, D_in); Y: (N, C) one-hot; layer_sizes: [D_in, ..., C]. Every epoch shuffles the rows
    (rng seeded by `seed`) and takes one sgd_step per batch of `batch_size` rows.
    Returns (params, losses): the trained parameters and each epoch's mean training loss.
    """
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y):
        raise ValueError(f"X (N, D_in) and Y (N, C) need one row per example; "
                         f"got {X.shape} and {Y.shape}")
    if layer_sizes[0] != X.shape[1] or layer_sizes[-1] != Y.shape[1]:
        raise ValueError(f"layer_sizes {list(layer_sizes)} must start with X's {X.shape[1]} "
                         f"features and end with Y's {Y.shape[1]} classes")
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError("epochs and batch_size must be >= 1 and lr > 0")
    rng = np.random.default_rng(seed)
    params = init_params(layer_sizes, seed=seed)
    losses = []
    for _ in range(epochs):
        shuffled = rng.permutation(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            rows = shuffled[start:start + batch_size]
            Y_hat, cache = forward(params, X[rows], hidden=hidden, output="softmax")
            total += _mean_cce(Y_hat, Y[rows]) * len(rows)
            params = sgd_step(params, backward(params, cache, Y[rows], loss="cce"), lr)
        losses.append(total / len(X))
    return params, losses
