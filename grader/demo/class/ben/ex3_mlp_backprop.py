"""Exercise 3: Forward and backward passes of an L-layer MLP (solution).

Generated from `ex3_mlp_backprop.ipynb`: edit the notebook, then run
`python -m grader.authoring.generate`. A copy that drifts from the notebook fails the tests.
"""
import numpy as np


_HIDDEN = ("identity", "sigmoid", "tanh", "relu")
_OUTPUT = ("identity", "sigmoid", "softmax")
# Each loss pairs with the output activation whose delta simplifies to (y_hat - y) (exercise 1).
_OUTPUT_FOR_LOSS = {"cce": "softmax", "bce": "sigmoid", "mse": "identity"}


def _sigmoid(Z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(Z))  # stable for any Z
    return np.where(Z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softmax(Z: np.ndarray) -> np.ndarray:
    exps = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True)


_ACTIVATION_FUNCTIONS = {
    "identity": lambda Z: Z,
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "relu": lambda Z: np.maximum(Z, 0.0),
    "softmax": _softmax,
}


def _activate(name: str, Z: np.ndarray) -> np.ndarray:
    """act(Z) for the activation called `name`; the shape of Z."""
    return _ACTIVATION_FUNCTIONS[name](Z)


def init_params(layer_sizes: list[int], seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Weights and biases for an MLP with the given widths, at Xavier/Glorot scale.

    layer_sizes: [D_in, n_1, ..., n_L]. Returns [(W_1, b_1), ..., (W_L, b_L)] with
    W_l ~ N(0, 2 / (n_{l-1} + n_l)) of shape (n_{l-1}, n_l) and b_l = 0 of shape (n_l,).
    """
    sizes = [int(n) for n in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"layer_sizes needs an input and an output width, all >= 1 "
                         f"(e.g. [2, 16, 3]); got {list(layer_sizes)}")
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        std = np.sqrt(2.0 / (n_in + n_out))
        params.append((rng.normal(0.0, std, size=(n_in, n_out)), np.zeros(n_out)))
    return params


def forward(params: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, hidden: str = "sigmoid",
            output: str = "softmax") -> tuple[np.ndarray, dict]:
    """Z_l = A_{l-1} @ W_l + b_l and A_l = act(Z_l) for l = 1..L, from A_0 = X.

    act is `hidden` for layers 1..L-1 and `output` for layer L. X: (B, D_in).
    Returns (Y_hat, cache): Y_hat = A_L of shape (B, n_L); cache holds what backward needs.
    """
    if hidden not in _HIDDEN:
        raise ValueError(f"hidden must be one of {_HIDDEN}, not {hidden!r}")
    if output not in _OUTPUT:
        raise ValueError(f"output must be one of {_OUTPUT}, not {output!r}")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X is a batch with one example per row: pass shape (B, D_in), "
                         f"not {X.shape}")
    A, Z = [X], []
    last = len(params) - 1
    for layer, (W, b) in enumerate(params):
        Z.append(A[-1] @ W + b)
        A.append(_activate(output if layer == last else hidden, Z[-1]))
    return A[-1], {"A": A, "Z": Z, "hidden": hidden, "output": output}


def _activation_grad(name: str, Z: np.ndarray) -> np.ndarray:
    """act'(Z) for a hidden activation, elementwise at the pre-activation Z; the shape of Z."""
    if name == "sigmoid":
        s = _sigmoid(Z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(Z) ** 2
    if name == "relu":
        return (Z > 0).astype(np.float64)
    return np.ones_like(Z)  # identity


def backward(params: list[tuple[np.ndarray, np.ndarray]], cache: dict, Y: np.ndarray,
             loss: str = "cce") -> list[tuple[np.ndarray, np.ndarray]]:
    """Gradients of the mean loss for every layer, by the lecture's recipe in row form.

    delta_L = (Y_hat - Y) / B for cce + softmax, (Y_hat - Y) / (B C) for bce + sigmoid,
              2 (Y_hat - Y) / (B C) for mse + identity;
    delta_l = (delta_{l+1} @ W_{l+1}.T) * act'(Z_l);
    dW_l = A_{l-1}.T @ delta_l;  db_l = delta_l summed over the rows.

    Y: (B, n_L), the targets. Returns [(dW_1, db_1), ..., (dW_L, db_L)], shaped like params.
    """
    if loss not in _OUTPUT_FOR_LOSS:
        raise ValueError(f"loss must be one of {tuple(_OUTPUT_FOR_LOSS)}, not {loss!r}")
    paired_output = _OUTPUT_FOR_LOSS[loss]
    if cache["output"] != paired_output:
        raise ValueError(f"loss {loss!r} pairs with a {paired_output!r} output, but forward used "
                         f"{cache['output']!r}; call forward with output={paired_output!r}")
    Y = np.asarray(Y, dtype=np.float64)
    if Y.shape != cache["A"][-1].shape:
        raise ValueError(f"Y has shape {Y.shape}, but the network's output has shape "
                         f"{cache['A'][-1].shape}; pass one target row per example")
    A, Z = cache["A"], cache["Z"]
    rows, classes = Y.shape
    error = A[-1] - Y
    if loss == "cce":
        delta = error / rows  # CCE sums over classes and averages over rows
    elif loss == "bce":
        delta = error / (rows * classes)  # BCE averages over every element
    else:
        delta = 2.0 * error / (rows * classes)  # MSE too; d(e^2)/de = 2e
    grads = []
    for layer in range(len(params) - 1, -1, -1):
        grads.append((A[layer].T @ delta / rows, delta.sum(axis=0) / rows))
        if layer > 0:
            delta = (delta @ params[layer][0].T) * _activation_grad(cache["hidden"], Z[layer - 1])
    return grads[::-1]
