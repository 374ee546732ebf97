"""Small networks for the `da6401-a1` tests: namespaces, random cases, and the reference in the skeleton's terms.

The reference (grader.assignments.da6401_a1.reference) lists layers input first with weights
(n_in, n_out); the skeleton's `backward` lists them output first, and a student may store W as
(n_out, n_in) or b as (1, n) or (n, 1). `to_student` and `to_reference` translate, reading the
student's orientation from the shapes its `get_weights` reports: layer sizes are all
different, so a transposed matrix is never mistaken for the right one.
"""
from __future__ import annotations

from argparse import Namespace
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.assignments.da6401_a1.reference.network import backward, forward, random_parameters

SIZES = (7, 5, 4, 3)  # input, two hidden layers, output: all different


def namespace(sizes: tuple[int, ...] = SIZES, **options: Any) -> Namespace:
    """The arguments of `NeuralNetwork(cli_args)` for a network of these layer sizes."""
    args = dict(dataset="mnist", epochs=1, batch_size=4, loss="cross_entropy", optimizer="sgd",
                learning_rate=0.1, weight_decay=0.0, num_layers=len(sizes) - 2, hidden_size=list(sizes[1:-1]),
                activation="tanh", weight_init="xavier", input_size=sizes[0], output_size=sizes[-1])
    args.update(options)
    return Namespace(**args)


@dataclass(frozen=True)
class Case:
    """Reference parameters (input layer first), a batch X and its integer labels."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    X: np.ndarray
    labels: np.ndarray

    @property
    def classes(self) -> int:
        return self.weights[-1].shape[1]

    def targets(self, form: str) -> np.ndarray:
        """The labels as integers (B,) or as one-hot rows (B, C)."""
        return self.labels if form == "labels" else np.eye(self.classes)[self.labels]

    def reference_gradients(self, loss: str, activation: str, form: str = "labels") -> tuple[list, list]:
        """The reference's (grad_Ws, grad_bs), input layer first."""
        _, cache = forward(self.weights, self.biases, self.X, activation)
        return backward(self.weights, self.biases, cache, self.targets(form), loss, activation)

    def reference_logits(self, activation: str) -> np.ndarray:
        return forward(self.weights, self.biases, self.X, activation)[0]


def make_case(sizes: tuple[int, ...] = SIZES, batch: int = 6, seed: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    weights, biases = random_parameters(sizes, rng)
    return Case(weights, biases, rng.standard_normal((batch, sizes[0])), rng.integers(0, sizes[-1], size=batch))


def to_student(net: Any, weights: list[np.ndarray], biases: list[np.ndarray]) -> None:
    """Load reference parameters into `net`, in the orientation and bias shape its get_weights shows."""
    theirs = net.get_weights()
    loaded = {}
    for l, (W, b) in enumerate(zip(weights, biases)):
        loaded[f"W{l}"] = W if np.shape(theirs[f"W{l}"]) == W.shape else W.T
        loaded[f"b{l}"] = b.reshape(np.shape(theirs[f"b{l}"]))
    net.set_weights(loaded)


def to_reference(value: np.ndarray, like: np.ndarray, stored: tuple[int, ...]) -> np.ndarray:
    """A student's parameter or gradient in the reference's orientation of the parameter `like`.

    `stored` is the shape the student keeps that parameter in (from get_weights): a weight held
    as (n_out, n_in) has its gradient transposed back; a bias held as (1, n) or (n, 1) is
    flattened. Anything else is returned unchanged, so a gradient of the wrong shape stays wrong.
    """
    value = np.asarray(value)
    if like.ndim == 2 and tuple(stored) == like.T.shape != like.shape and value.shape == like.T.shape:
        return value.T
    if like.ndim == 1 and tuple(stored) != like.shape and value.shape == tuple(stored):
        return value.reshape(like.shape)
    return value


def student_gradients(net: Any, case: Case, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[list, list]:
    """net.backward(y_true, y_pred) turned input layer first and into the reference's orientation."""
    stored = {name: np.shape(value) for name, value in net.get_weights().items()}
    grad_Ws, grad_bs = net.backward(y_true, y_pred)
    grad_Ws, grad_bs = list(grad_Ws)[::-1], list(grad_bs)[::-1]
    return ([to_reference(g, W, stored[f"W{l}"]) for l, (g, W) in enumerate(zip(grad_Ws, case.weights))],
            [to_reference(g, b, stored[f"b{l}"]) for l, (g, b) in enumerate(zip(grad_bs, case.biases))])


def reference_weights(net: Any, case: Case) -> tuple[list, list]:
    """net.get_weights() in the reference's orientation, input layer first."""
    weights = net.get_weights()
    return ([to_reference(weights[f"W{l}"], W, np.shape(weights[f"W{l}"])) for l, W in enumerate(case.weights)],
            [to_reference(weights[f"b{l}"], b, np.shape(weights[f"b{l}"])) for l, b in enumerate(case.biases)])
