"""The networks, weights and batches `da6401-a1`'s checks use, in the reference's terms.

Students usually hardcode 784 inputs and 10 classes, so every network is 784 - h_1 - ... - 10
with hidden sizes all different from each other and from the batch size (e.g. [7, 5], B = 6):
then a weight stored (n_in, n_out) is never mistaken for one stored (n_out, n_in), a list in the
wrong order never fits, and the scale factors B, C and C/2 stay apart.

Here layers are listed input first, W_l of shape (n_l, n_{l+1}), b_l of shape (n_{l+1},), as in
`reference.network`; flat lists are [W0, b0, W1, b1, ...], the order and names of get_weights.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from grader.assignments.da6401_a1.reference.activations import activation_pair
from grader.assignments.da6401_a1.reference.losses import loss_value, one_hot
from grader.assignments.da6401_a1.reference.network import backward, forward
from grader.checks.base import CheckContext
from grader.checks.lib.withheld import recorded

INPUT_SIZE = 784  # 28 x 28 pixels: the skeleton's default, which many students hardcode
OUTPUT_SIZE = 10
ACTIVATIONS: tuple[str, ...] = ("sigmoid", "tanh", "relu")
LOSSES: tuple[str, ...] = ("cross_entropy", "mean_squared_error")
FORMS: tuple[str, ...] = ("labels", "one_hot")

# The optimizers' hyper-parameters the namespace carries besides the spec's eleven options.
EXTRA_DEFAULTS: dict[str, float] = {"momentum": 0.9, "beta": 0.9, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}


def sizes_of(hidden: Sequence[int], settings: dict) -> tuple[int, ...]:
    """(input_size, *hidden, output_size) with the rubric's input and output sizes."""
    return (int(settings.get("input_size", INPUT_SIZE)), *[int(n) for n in hidden],
            int(settings.get("output_size", OUTPUT_SIZE)))


def network_options(sizes: Sequence[int], activation: str, loss: str = "cross_entropy", *, optimizer: str = "sgd",
                    batch_size: int = 8, learning_rate: float = 0.1, weight_decay: float = 0.0,
                    extra: Optional[dict] = None) -> dict:
    """The `argparse.Namespace` fields `NeuralNetwork(cli_args)` is built from, as a plain dict.

    The spec's eleven options, input_size and output_size (students who read them get the
    grader's sizes, the others their hardcoded 784 and 10: the same), and the optimizers'
    momentum, beta, beta1, beta2 and epsilon.
    """
    sizes = [int(n) for n in sizes]
    return {"dataset": "mnist", "epochs": 1, "batch_size": int(batch_size), "loss": loss, "optimizer": optimizer,
            "learning_rate": float(learning_rate), "weight_decay": float(weight_decay),
            "num_layers": len(sizes) - 2, "hidden_size": sizes[1:-1], "activation": activation,
            "weight_init": "xavier", "input_size": sizes[0], "output_size": sizes[-1],
            **{**EXTRA_DEFAULTS, **(extra or {})}}


def flat(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> list[np.ndarray]:
    """[W0, b0, W1, b1, ...]."""
    return [tensor for pair in zip(weights, biases) for tensor in pair]


def tensor_name(index: int) -> str:
    """The get_weights key of flat tensor `index`: W0, b0, W1, ..."""
    return f"{'W' if index % 2 == 0 else 'b'}{index // 2}"


@dataclass(frozen=True)
class Case:
    """One network with known weights, a batch X (B, 784) and its integer labels.

    `form` says how backward receives the targets (integer labels or one-hot rows); `active`
    lists the only input columns X uses, when it uses few (the gradient checks' inputs).
    """

    sizes: tuple[int, ...]
    activation: str
    loss: str
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    X: np.ndarray
    labels: np.ndarray
    form: str = "labels"
    active: Optional[tuple[int, ...]] = field(default=None, compare=False)

    @property
    def batch(self) -> int:
        return int(self.X.shape[0])

    @property
    def classes(self) -> int:
        return self.sizes[-1]

    @property
    def depth(self) -> int:
        return len(self.weights)

    @property
    def params(self) -> list[np.ndarray]:
        return flat(self.weights, self.biases)

    @property
    def targets(self) -> np.ndarray:
        """What backward gets as y_true: labels (B,) as int64, or one-hot rows (B, C) as float64."""
        return self.labels if self.form == "labels" else one_hot(self.labels, self.classes)

    def options(self, **changes) -> dict:
        return network_options(self.sizes, self.activation, self.loss, batch_size=self.batch, **changes)

    def label(self, loss: bool = True) -> str:
        """The case in words for feedback (no values): network, activation, batch, and loss and targets."""
        network = "-".join(str(n) for n in self.sizes)
        words = f"a {network} network, activation={self.activation}, batch of {self.batch}"
        if loss:
            words += f", loss={self.loss}, {'integer labels' if self.form == 'labels' else 'one-hot targets'}"
        return words

    def with_form(self, form: str) -> "Case":
        return Case(self.sizes, self.activation, self.loss, self.weights, self.biases, self.X, self.labels, form,
                    self.active)

    def reference_logits(self) -> np.ndarray:
        return forward(self.weights, self.biases, self.X, self.activation)[0]

    @recorded("da6401_a1", "reference_gradients")
    def reference_gradients(self) -> list[np.ndarray]:
        """The batch-mean loss's gradients, flat, input layer first."""
        _, cache = forward(self.weights, self.biases, self.X, self.activation)
        grad_Ws, grad_bs = backward(self.weights, self.biases, cache, self.labels, self.loss, self.activation)
        return flat(grad_Ws, grad_bs)

    def loss_of(self, logits: np.ndarray) -> float:
        """The reference's batch-mean loss of some logits against this case's labels."""
        return loss_value(self.loss, logits, self.labels)


def case_rng(ctx: CheckContext, fixed_seed: int) -> np.random.Generator:
    """Public checks: their fixed case in a self-check, cases drawn from the grading seed when grading."""
    return ctx.rng if ctx.fresh_fixtures else np.random.default_rng(fixed_seed)


def draw_parameters(rng: np.random.Generator, sizes: Sequence[int],
                    active: Optional[Sequence[int]] = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """W_l ~ N(0, 1/n_in), b_l ~ N(0, 1/4): logits of order 1, non-zero biases (a gradient that
    ignores them shows). With `active` inputs only, their rows of W0 get N(0, 1/len(active)),
    so the first pre-activations are of order 1 too."""
    sizes = [int(n) for n in sizes]
    weights = [rng.standard_normal((n_in, n_out)) / np.sqrt(n_in) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    if active is not None:
        weights[0][list(active)] *= np.sqrt(sizes[0] / len(active))
    biases = [0.5 * rng.standard_normal(n) for n in sizes[1:]]
    return weights, biases


def clear_kinks(rng: np.random.Generator, weights: list[np.ndarray], biases: list[np.ndarray], X: np.ndarray,
                activation: str, margin: float, tries: int = 200) -> list[np.ndarray]:
    """ReLU biases redrawn, unit by unit and layer by layer, until every hidden pre-activation is
    at least `margin` from 0 and each unit is active for some example (the best draw when none
    is): differences of step h then never cross a kink, and no layer is dead (all-zero
    gradients check nothing). Other activations are smooth: biases unchanged."""
    if activation != "relu" or margin <= 0:
        return biases
    act, _ = activation_pair(activation)
    biases = [b.copy() for b in biases]

    def quality(z: np.ndarray) -> tuple[bool, float]:
        return bool(np.any(z > 0)), float(np.min(np.abs(z)))

    A = X
    for layer in range(len(weights) - 1):
        Z = A @ weights[layer]
        for unit in range(Z.shape[1]):
            best = biases[layer][unit]
            score = quality(Z[:, unit] + best)
            for _ in range(tries):
                if score[0] and score[1] >= margin:
                    break
                candidate = 0.5 * rng.standard_normal()
                if quality(Z[:, unit] + candidate) > score:
                    best, score = candidate, quality(Z[:, unit] + candidate)
            biases[layer][unit] = best
        A = act(Z + biases[layer])
    return biases


def draw_case(rng: np.random.Generator, sizes: Sequence[int], activation: str, loss: str = "cross_entropy",
              form: str = "labels", batch: int = 6, *, active_inputs: int = 0, kink_margin: float = 0.0) -> Case:
    """A random case. `active_inputs` > 0: X is zero outside that many random columns (entries
    U(-1, 1) inside them), for central differences that need only those rows of W0."""
    sizes = tuple(int(n) for n in sizes)
    active = None
    if active_inputs:
        active = tuple(sorted(int(i) for i in rng.choice(sizes[0], active_inputs, replace=False)))
    weights, biases = draw_parameters(rng, sizes, active)
    if active is None:
        X = rng.standard_normal((batch, sizes[0]))
    else:
        X = np.zeros((batch, sizes[0]))
        X[:, list(active)] = rng.uniform(-1.0, 1.0, size=(batch, len(active)))
    labels = rng.integers(0, sizes[-1], size=batch).astype(np.int64)
    biases = clear_kinks(rng, weights, biases, X, activation, kink_margin)
    return Case(sizes, activation, loss, tuple(weights), tuple(biases), X, labels, form, active)


def draw_batches(rng: np.random.Generator, count: int, batch: int, inputs: int, classes: int,
                 active: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """`count` batches, one per update: X (B, inputs), U(0, 1) like scaled pixels in the `active`
    columns and 0 elsewhere, and int64 labels.

    Few active inputs keep the first layer out of saturation while an adaptive optimizer moves
    every weight by ~lr: with 784 active inputs one update would shift Z_0 by hundreds of lr,
    tanh would saturate, and the updates after it would shrink below the rounding of w.
    """
    batches = []
    for _ in range(count):
        X = np.zeros((batch, inputs))
        X[:, list(active)] = rng.uniform(0.0, 1.0, size=(batch, len(active)))
        batches.append((X, rng.integers(0, classes, size=batch).astype(np.int64)))
    return batches
