"""Loss functions on p = softmax(logits), and their gradients with respect to the logits.

Every function here takes the probabilities p (B, C), which the network computes once from
its logits, and the targets y_true: integer labels (B,) or one-hot rows (B, C).

    cross_entropy       L = mean over the batch of -log p[y]
    mean_squared_error  L = mean over all B x C entries of (p - onehot(y))^2

The gradients are of these batch means, taken with respect to the logits z:

    cross_entropy       dL/dz = (p - Y) / B
    mean_squared_error  dL/dz = p * (G - sum_c G_c p_c),  G = dL/dp = 2 (p - Y) / (B C)
                        (G through the softmax Jacobian dp_c/dz_d = p_c (delta_cd - p_d))
"""
import numpy as np

# Keeps log(p) finite when a probability rounds to 0.
EPS = 1e-12


def softmax(logits):
    """Row-wise softmax; subtracting each row's maximum keeps exp from overflowing."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def one_hot(y_true, num_classes):
    """(B, C) one-hot rows from integer labels (B,); one-hot input is returned as it is."""
    y = np.asarray(y_true)
    if y.ndim == 2:  # already one-hot
        return y.astype(np.float64)
    return np.eye(num_classes)[y.astype(np.int64)]


def cross_entropy(probabilities, y_true):
    Y = one_hot(y_true, probabilities.shape[1])
    return float(-np.sum(Y * np.log(np.clip(probabilities, EPS, 1.0))) / len(probabilities))


def cross_entropy_gradient(probabilities, y_true):
    Y = one_hot(y_true, probabilities.shape[1])
    return (probabilities - Y) / len(probabilities)


def mean_squared_error(probabilities, y_true):
    Y = one_hot(y_true, probabilities.shape[1])
    return float(np.mean((probabilities - Y) ** 2))


def mean_squared_error_gradient(probabilities, y_true):
    Y = one_hot(y_true, probabilities.shape[1])
    dL_dp = 2.0 * (probabilities - Y) / probabilities.size
    # Back through the softmax: dL/dz_d = sum_c dL/dp_c * p_c * (delta_cd - p_d).
    return probabilities * (dL_dp - np.sum(dL_dp * probabilities, axis=1, keepdims=True))


LOSSES = {
    "cross_entropy": (cross_entropy, cross_entropy_gradient),
    "mean_squared_error": (mean_squared_error, mean_squared_error_gradient),
    "mse": (mean_squared_error, mean_squared_error_gradient),
}


def get_loss(name):
    """(loss, gradient) for `name`: cross_entropy, mean_squared_error or mse."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}")
    return LOSSES[name]
