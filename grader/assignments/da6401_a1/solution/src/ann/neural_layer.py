"""One dense layer: Z = A_prev @ W + b, A = activation(Z).

W has shape (n_in, n_out) and b shape (n_out,). `forward` keeps A_prev and Z for `backward`,
which turns dL/dA into the gradients grad_W, grad_b and into dL/dA_prev for the layer below.
"""
import numpy as np

from .activations import get_activation

# float32 would be faster, but loses the agreement with finite differences a gradient check asks for.
DTYPE = np.float64


def initial_weights(n_in, n_out, weight_init, rng):
    """An (n_in, n_out) matrix: small Gaussian ("random") or Glorot uniform ("xavier")."""
    if weight_init == "xavier":
        limit = np.sqrt(6.0 / (n_in + n_out))  # Var(W) = 2 / (n_in + n_out)
        return rng.uniform(-limit, limit, size=(n_in, n_out))
    if weight_init == "random":
        return 0.01 * rng.standard_normal((n_in, n_out))
    raise ValueError(f"unknown weight_init {weight_init!r}; choose random or xavier")


class NeuralLayer:
    def __init__(self, n_in, n_out, activation="identity", weight_init="xavier", rng=None):
        rng = np.random.default_rng() if rng is None else rng
        self.W = initial_weights(n_in, n_out, weight_init, rng).astype(DTYPE)
        self.b = np.zeros(n_out, dtype=DTYPE)
        self.activation_name = activation
        self.activation, self.activation_derivative = get_activation(activation)
        self.A_prev = None  # the input of the last forward pass, (B, n_in)
        self.Z = None  # its pre-activation, (B, n_out)
        self.grad_W = np.zeros_like(self.W)
        self.grad_b = np.zeros_like(self.b)

    def forward(self, A_prev):
        self.A_prev = A_prev
        self.Z = A_prev @ self.W + self.b
        return self.activation(self.Z)

    def backward(self, grad_output):
        """grad_output = dL/dA (B, n_out); sets grad_W and grad_b and returns dL/dA_prev (B, n_in).

        grad_output already carries the loss's 1/B, so the batch is summed here, not averaged.
        """
        delta = np.asarray(grad_output, dtype=DTYPE) * self.activation_derivative(self.Z)
        self.grad_W = self.A_prev.T @ delta
        self.grad_b = delta.sum(axis=0)
        return delta @ self.W.T
