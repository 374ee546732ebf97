"""Exercise 3's MLP cases: a network, a batch and its targets, as the checks send them.

Row convention of the contract: Z_l = A_{l-1} @ W_l + b_l, A_l = act(Z_l), W_l (n_{l-1}, n_l),
b_l (n_l,), X = A_0 (B, n_0), Y_hat = A_L (B, n_L). Every per-tensor list here is flat:
[W_1, b_1, W_2, b_2, ...].
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

STEM = "ex3_mlp_backprop"
HIDDEN_ACTIVATIONS: tuple[str, ...] = ("identity", "sigmoid", "tanh", "relu")
# (output activation, loss): the pairs the contract names.
OUTPUT_LOSS_PAIRS: tuple[tuple[str, str], ...] = (("softmax", "cce"), ("sigmoid", "bce"), ("identity", "mse"))

Params = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class MLPCase:
    """One network, batch and target: params [(W_l (n_{l-1}, n_l), b_l (n_l,))], X (B, n_0), Y (B, n_L)."""

    params: Params
    X: np.ndarray
    Y: np.ndarray
    hidden: str
    output: str
    loss: str

    @property
    def sizes(self) -> list[int]:
        return [self.params[0][0].shape[0]] + [W.shape[1] for W, _ in self.params]

    @property
    def batch(self) -> int:
        return self.X.shape[0]

    @property
    def depth(self) -> int:
        return len(self.params)

    def label(self) -> str:
        sizes = "-".join(str(n) for n in self.sizes)
        return (f"hidden={self.hidden!r}, output={self.output!r}, loss={self.loss!r}, "
                f"layer sizes {sizes}, batch {self.batch}")


def distinct_shapes(rng: np.random.Generator, depth: int, batch_one: bool = False) -> tuple[list[int], int]:
    """Layer sizes and a batch size, all different so a transposed or mixed-up axis cannot pass.

    The output size is at least 3 and the batch at least 3 (or exactly 1), so the scale factors
    the diagnosis looks for (-1, 1/B, B, n_L / 2, 1/2) are all different from 1 and each other.
    """
    while True:
        sizes = [int(n) for n in rng.choice(np.arange(2, 10), size=depth + 1, replace=False)]
        batch = 1 if batch_one else int(rng.integers(3, 10))
        if sizes[-1] >= 3 and (batch_one or batch not in sizes) and batch != sizes[-1] / 2:
            return sizes, batch


def random_params(rng: np.random.Generator, sizes: list[int]) -> Params:
    """W_l ~ N(0, 1 / n_{l-1}) and nonzero biases, so that every gradient is exercised."""
    return [(rng.standard_normal((n_in, n_out)) / math.sqrt(n_in), 0.5 * rng.standard_normal(n_out))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def random_targets(rng: np.random.Generator, loss: str, batch: int, classes: int) -> np.ndarray:
    """One-hot rows for cce, 0/1 labels for bce, real numbers for mse; shape (batch, classes)."""
    if loss == "cce":
        return np.eye(classes)[rng.integers(0, classes, size=batch)]
    if loss == "bce":
        return rng.integers(0, 2, size=(batch, classes)).astype(np.float64)
    return rng.standard_normal((batch, classes))


def random_case(rng: np.random.Generator, depth: int, hidden: str, output: str, loss: str,
                batch_one: bool = False) -> MLPCase:
    """A network of `depth` layers, a batch and targets for `loss`, every size different."""
    sizes, batch = distinct_shapes(rng, depth, batch_one)
    return MLPCase(random_params(rng, sizes), rng.standard_normal((batch, sizes[0])),
                   random_targets(rng, loss, batch, sizes[-1]), hidden, output, loss)


def case_from_data(data: dict) -> MLPCase:
    """An MLPCase from fixture data (params stored as [[W, b], ...])."""
    return MLPCase([(np.asarray(W), np.asarray(b)) for W, b in data["params"]], np.asarray(data["X"]),
                   np.asarray(data["Y"]), data["hidden"], data["output"], data["loss"])


def wire_params(params: Params) -> list[tuple[np.ndarray, np.ndarray]]:
    """The contract's list of (W, b) tuples, float64. No copies: what the student's code gets is
    decoded from the wire, so it can never change the grader's own arrays."""
    return [(np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)) for W, b in params]


def flat_params(params: Params) -> list[np.ndarray]:
    """[W_1, b_1, W_2, b_2, ...], the order every per-tensor list here uses."""
    return [array for layer in params for array in layer]


def unflatten(tensors: list[np.ndarray]) -> Params:
    """[(W_1, b_1), ...] from the flat list [W_1, b_1, ...]."""
    return [(tensors[i], tensors[i + 1]) for i in range(0, len(tensors), 2)]


def tensor_name(index: int) -> str:
    """'dW[0] (layer 1)' for index 0 of the flat list, 'db[0] (layer 1)' for index 1, ..."""
    layer = index // 2
    return f"{'dW' if index % 2 == 0 else 'db'}[{layer}] (layer {layer + 1})"

