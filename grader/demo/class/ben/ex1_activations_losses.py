"""Exercise 1: Activations, losses and their gradients (solution).

Generated from `ex1_activations_losses.ipynb`: edit the notebook, then run
`python -m grader.authoring.generate`. A copy that drifts from the notebook fails the tests.
"""
import numpy as np


# PyTorch's BCELoss clamps each log at -100, so a prediction of exactly 0 or 1 costs at most 100
# instead of infinity; the same floor keeps our losses finite.
_LOG_FLOOR = -100.0
# PyTorch's BCELoss keeps the denominator y_hat (1 - y_hat) of its gradient at least this large.
_DENOMINATOR_FLOOR = 1e-12


def _as_array(a) -> np.ndarray:
    """`a` as a float64 array. We never write into it, so no copy is needed."""
    return np.asarray(a, dtype=np.float64)


def _prediction_and_target(y_hat, y) -> tuple[np.ndarray, np.ndarray]:
    """Both loss arguments as float64 arrays of one shape."""
    y_hat, y = _as_array(y_hat), _as_array(y)
    if y_hat.shape != y.shape:
        raise ValueError(f"y_hat has shape {y_hat.shape} but y has shape {y.shape}; "
                         "pass a prediction and a target of the same shape")
    return y_hat, y


def _examples(y: np.ndarray) -> int:
    """Examples in a categorical target: the rows of (B, C), or 1 for a single (C,) vector."""
    if y.ndim == 0:
        raise ValueError("a categorical target needs a class axis: pass shape (C,) or (B, C)")
    return int(np.prod(y.shape[:-1]))


def identity(z: np.ndarray) -> np.ndarray:
    """a(z) = z, elementwise; any shape. Returns a new array."""
    return np.array(z, dtype=np.float64)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + exp(-z)), elementwise; any shape; finite for any z."""
    z = _as_array(z)
    e = np.exp(-np.abs(z))  # never overflows: the exponent is <= 0
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def tanh(z: np.ndarray) -> np.ndarray:
    """tanh(z) = (e^z - e^-z) / (e^z + e^-z), elementwise; any shape."""
    return np.tanh(_as_array(z))


def relu(z: np.ndarray) -> np.ndarray:
    """relu(z) = max(0, z), elementwise; any shape."""
    return np.maximum(_as_array(z), 0.0)


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax(z)_i = exp(z_i) / sum_j exp(z_j) over the last axis; z of shape (..., C)."""
    z = _as_array(z)
    if z.ndim == 0:
        raise ValueError("softmax needs a class axis: pass shape (C,) or (B, C)")
    # Subtracting the row maximum changes nothing but makes the largest exponent 0.
    exps = np.exp(z)
    return exps / exps.sum(axis=-1, keepdims=True)


def identity_grad(z: np.ndarray) -> np.ndarray:
    """d z / d z = 1, elementwise; the shape of z."""
    return np.ones_like(_as_array(z))


def sigmoid_grad(z: np.ndarray) -> np.ndarray:
    """sigma'(z) = sigma(z) (1 - sigma(z)), elementwise; the shape of z."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh_grad(z: np.ndarray) -> np.ndarray:
    """tanh'(z) = 1 - tanh(z)^2, elementwise; the shape of z."""
    t = np.tanh(_as_array(z))
    return 1.0 - t * t


def relu_grad(z: np.ndarray) -> np.ndarray:
    """relu'(z) = 1 where z > 0, else 0 (also at z = 0); the shape of z."""
    return (_as_array(z) > 0).astype(np.float64)


def softmax_jacobian(z: np.ndarray) -> np.ndarray:
    """J[..., i, j] = d s_i / d z_j = s_i (delta_ij - s_j), s = softmax(z).

    z: (C,) gives (C, C); (B, C) gives (B, C, C), one Jacobian per row.
    """
    s = softmax(z)
    eye = np.eye(s.shape[-1])
    return s[..., :, None] * (eye - s[..., None, :])


def mse(y_hat: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error, (1/N) sum (y_hat - y)^2 over all N elements; y_hat and y of one shape."""
    y_hat, y = _prediction_and_target(y_hat, y)
    return float(np.mean((y_hat - y) ** 2))


def mae(y_hat: np.ndarray, y: np.ndarray) -> float:
    """Mean absolute error, (1/N) sum |y_hat - y| over all N elements."""
    y_hat, y = _prediction_and_target(y_hat, y)
    return float(np.mean(np.abs(y_hat - y)))


def bce(y_hat: np.ndarray, y: np.ndarray) -> float:
    """Binary cross-entropy, -(1/N) sum [y log y_hat + (1 - y) log(1 - y_hat)].

    Each log is clamped at -100, so y_hat of exactly 0 or 1 gives a finite loss.
    """
    y_hat, y = _prediction_and_target(y_hat, y)
    with np.errstate(divide="ignore"):  # log(0) = -inf is expected here and clamped
        log_p = np.maximum(np.log(y_hat), _LOG_FLOOR)
        log_not_p = np.maximum(np.log1p(-y_hat), _LOG_FLOOR)
    return float(np.mean(-y * log_p - (1.0 - y) * log_not_p))


def cce(y_hat: np.ndarray, y: np.ndarray) -> float:
    """Categorical cross-entropy, -(1/B) sum_rows sum_c y_c log y_hat_c; shapes (B, C) or (C,)."""
    y_hat, y = _prediction_and_target(y_hat, y)
    with np.errstate(divide="ignore"):
        log_probs = np.maximum(np.log(y_hat), _LOG_FLOOR)
    return float(np.sum(-y * log_probs) / _examples(y))


def mse_grad(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d mse / d y_hat = 2 (y_hat - y) / N; the shape of y_hat."""
    y_hat, y = _prediction_and_target(y_hat, y)
    return 2.0 * (y_hat - y) / y_hat.size


def mae_grad(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d mae / d y_hat = sign(y_hat - y) / N (0 where equal); the shape of y_hat."""
    y_hat, y = _prediction_and_target(y_hat, y)
    return np.sign(y_hat - y) / y_hat.size


def bce_grad(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d bce / d y_hat = (y_hat - y) / (y_hat (1 - y_hat)) / N; the shape of y_hat."""
    y_hat, y = _prediction_and_target(y_hat, y)
    denominator = np.maximum(y_hat * (1.0 - y_hat), _DENOMINATOR_FLOOR)
    return (y_hat - y) / denominator / y_hat.size


def cce_grad(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d cce / d y_hat_c = -y_c / y_hat_c / B; the shape of y_hat."""
    y_hat, y = _prediction_and_target(y_hat, y)
    return -y / np.maximum(y_hat, _DENOMINATOR_FLOOR) / _examples(y)


def sigmoid_bce_delta(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d bce(sigmoid(z), y) / d z = (sigmoid(z) - y) / N; the shape of z."""
    z, y = _prediction_and_target(z, y)
    return (sigmoid(z) - y) / z.size


def softmax_cce_delta(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d cce(softmax(z), y) / d z = (softmax(z) - y) / B for one-hot y; shape (B, C) or (C,)."""
    z, y = _prediction_and_target(z, y)
    return (softmax(z) - y) / _examples(y)
