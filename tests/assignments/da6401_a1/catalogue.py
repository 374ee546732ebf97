"""Mistake variants of the `da6401-a1` solution, and correct variants written differently.

Each `Variant` is the solution repository with a few exact text replacements, `(file, old,
new)` with `file` relative to the repository root and `old` found exactly once, so that each
variant stays small enough to review. A mistake names the diagnosis code (CONTRACT.md) the
grader must give it; a correct variant has code None and must keep full marks. Every one is a
mistake students make, written for this catalogue.

`materialise(variant, dest)` copies the solution to `dest` and applies the patches.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

SOLUTION = Path(__file__).resolve().parents[3] / "grader" / "assignments" / "da6401_a1" / "solution"

LAYER = "src/ann/neural_layer.py"
NETWORK = "src/ann/neural_network.py"
LOSSES = "src/ann/objective_functions.py"
OPTIMIZERS = "src/ann/optimizers.py"

Patch = tuple[str, str, str]  # (file, old text, new text)


@dataclass(frozen=True)
class Variant:
    name: str
    diagnosis_code: Optional[str]  # None: a correct variant
    patches: tuple[Patch, ...]
    description: str = ""


class PatchError(ValueError):
    """A patch's old text is not in its file exactly once: the solution changed under the catalogue."""


# Lines of the solution that several variants replace.
GRAD_W = "        self.grad_W = self.A_prev.T @ delta\n"
GRAD_B = "        self.grad_b = delta.sum(axis=0)\n"
DELTA = "        delta = np.asarray(grad_output, dtype=DTYPE) * self.activation_derivative(self.Z)\n"
LAYER_FORWARD = "        self.Z = A_prev @ self.W + self.b\n"
LAYER_RETURN = "        return delta @ self.W.T\n"
W_INIT = "        self.W = initial_weights(n_in, n_out, weight_init, rng).astype(DTYPE)\n"
B_INIT = "        self.b = np.zeros(n_out, dtype=DTYPE)\n"
TRAIN_BACKWARD = "                self.backward(y[batch], logits)\n"
MSE_DELTA = ("    dL_dp = 2.0 * (probabilities - Y) / probabilities.size\n"
             "    # Back through the softmax: dL/dz_d = sum_c dL/dp_c * p_c * (delta_cd - p_d).\n"
             "    return probabilities * (dL_dp - np.sum(dL_dp * probabilities, axis=1, keepdims=True))\n")
ONE_HOT_BRANCH = ("    if y.ndim == 2:  # already one-hot\n"
                  "        return y.astype(np.float64)\n"
                  "    return np.eye(num_classes)[y.astype(np.int64)]\n")
MOMENTUM_UPDATE = ("        velocity = self.momentum * self.slot(\"velocity\", key, param) + self.learning_rate * grad\n"
                   "        self.store(\"velocity\", key, velocity)\n"
                   "        return param - velocity\n")
NAG_LOOK_AHEAD = ("    def look_ahead(self, layers):\n"
                  "        self.shift(layers, -self.momentum)\n"
                  "        self.ahead = True\n")
NAG_STEP = ("    def step(self, layers):\n"
            "        if self.ahead:\n"
            "            self.shift(layers, self.momentum)  # back to W before W moves\n"
            "            self.ahead = False\n"
            "        super().step(layers)\n")
NAG_DOC_END = "    A step without a look-ahead before it is a momentum step.\n    \"\"\"\n"
ADAM_CLOCK = "    def begin_step(self):\n        self.t += 1\n"
ADAM_MOMENTS = ("    def moments(self, key, grad):\n"
                "        \"\"\"The bias-corrected first and second moments (m_hat, v_hat) after this gradient.\"\"\"\n")
BIAS_CORRECTION = "        return m / (1.0 - self.beta1 ** self.t), v / (1.0 - self.beta2 ** self.t)\n"
WEIGHT_DECAY = "            grad_W = layer.grad_W + self.weight_decay * layer.W  # L2 on weights, never biases\n"
BIAS_UPDATE = "            layer.b = self.update((\"b\", index), layer.b, layer.grad_b)\n"

GRADIENT_MISTAKES = [
    Variant("batch_mean_twice", "batch_mean_twice", (
        (LAYER, GRAD_W, "        self.grad_W = self.A_prev.T @ delta / len(delta)\n"),
        (LAYER, GRAD_B, "        self.grad_b = delta.mean(axis=0)\n"),
    ), "the layer averages over the batch although the loss gradient already did"),
    Variant("layer_order_reversed", "layer_order_reversed", (
        (NETWORK, "        return grad_Ws, grad_bs\n", "        return grad_Ws[::-1], grad_bs[::-1]  # input layer first\n"),
    ), "gradients returned input layer first, the order of get_weights"),
    Variant("transposed", "transposed", (
        (LAYER, GRAD_W, "        self.grad_W = delta.T @ self.A_prev\n"),
    ), "dW written as delta^T A, the column-vector formula, for a W stored (n_in, n_out)"),
    Variant("activation_applied_twice", "activation_applied_twice", (
        (LAYER, "        return self.activation(self.Z)\n", "        return self.activation(self.activation(self.Z))\n"),
    ), "the hidden activation applied to an already activated value"),
    Variant("mse_with_ce_delta", "mse_with_ce_delta", (
        (LOSSES, MSE_DELTA, "    return (probabilities - Y) / len(probabilities)  # as for cross-entropy\n"),
    ), "p - y used as the output delta for MSE too"),
    Variant("mse_grad_scale_classes", "mse_grad_scale_classes", (
        (LOSSES, "    dL_dp = 2.0 * (probabilities - Y) / probabilities.size\n",
         "    dL_dp = 2.0 * (probabilities - Y) / len(probabilities)\n"),
    ), "the MSE gradient sums over classes while the loss averages over them: C times too large"),
    Variant("mse_missing_softmax_jacobian", "mse_missing_softmax_jacobian", (
        (LOSSES, MSE_DELTA, "    return 2.0 * (probabilities - Y) / probabilities.size\n"),
    ), "dL/dp passed on as dL/dz, the softmax left out of the chain"),
    Variant("expects_probabilities", "expects_probabilities", (
        (NETWORK, "        probabilities = softmax(y_pred)\n", "        probabilities = y_pred  # the softmax output\n"),
        (NETWORK, TRAIN_BACKWARD, "                self.backward(y[batch], softmax(logits))\n"),
    ), "backward takes y_pred to be softmax(logits), and its own training loop passes that"),
    Variant("labels_int_only", "labels_int_only", (
        (LOSSES, ONE_HOT_BRANCH, "    return np.eye(num_classes)[y]\n"),
    ), "targets indexed into an identity matrix, so one-hot rows raise"),
    Variant("arguments_swapped", "arguments_swapped", (
        (NETWORK, "    def backward(self, y_true, y_pred):\n", "    def backward(self, y_pred, y_true):\n"),
        (NETWORK, TRAIN_BACKWARD, "                self.backward(logits, y[batch])\n"),
    ), "backward(y_pred, y_true), consistently within the student's own code"),
    Variant("stale_state_gradient_accumulates", "stale_state", (
        (LAYER, GRAD_W, "        self.grad_W = self.grad_W + self.A_prev.T @ delta\n"),
        (LAYER, GRAD_B, "        self.grad_b = self.grad_b + delta.sum(axis=0)\n"),
    ), "gradients added to those of the previous backward, never reset"),
    Variant("stale_state_first_inputs_kept", "stale_state", (
        (LAYER, "        self.A_prev = None  # the input of the last forward pass, (B, n_in)\n",
         "        self.A_prev = None  # the input of the last forward pass, (B, n_in)\n"
         "        self.inputs = []  # every forward's input, kept from the start\n"),
        (LAYER, "        self.A_prev = A_prev\n",
         "        self.inputs.append(A_prev)\n        self.A_prev = self.inputs[0]\n"),
    ), "inputs kept in a list filled since __init__ and read from its front"),
    Variant("float32_precision", "float32_precision", (
        (LAYER, "DTYPE = np.float64\n", "DTYPE = np.float32\n"),
    ), "the network computes in float32"),
    Variant("sign_flipped", "sign_flipped", (
        (LOSSES, "    return (probabilities - Y) / len(probabilities)\n", "    return (Y - probabilities) / len(probabilities)\n"),
    ), "the cross-entropy delta written y - p"),
    Variant("missing_activation_derivative", "missing_activation_derivative", (
        (LAYER, DELTA, "        delta = np.asarray(grad_output, dtype=DTYPE)\n"),
    ), "dL/dA passed on as dL/dZ, act'(Z) left out"),
]

OPTIMIZER_MISTAKES = [
    Variant("nag_is_momentum", "nag_is_momentum", (
        (OPTIMIZERS, NAG_LOOK_AHEAD, "    def look_ahead(self, layers):\n        pass  # the gradient is taken at W itself\n"),
    ), "NAG's update formula without the look-ahead: momentum under another name"),
    Variant("nag_is_sgd", "nag_is_sgd", (
        (OPTIMIZERS, NAG_DOC_END, NAG_DOC_END +
         "\n    def update(self, key, param, grad):\n"
         "        velocity = self.slot(\"velocity\", key, param)\n"
         "        ahead = param - self.momentum * velocity  # look ahead\n"
         "        param = ahead + self.momentum * velocity  # and straight back\n"
         "        return param - self.learning_rate * grad  # the velocity is never updated\n"),
    ), "look-ahead and undo cancel and the velocity never moves: plain SGD"),
    Variant("momentum_ema", "momentum_ema", (
        (OPTIMIZERS, MOMENTUM_UPDATE,
         "        velocity = self.momentum * self.slot(\"velocity\", key, param) + (1.0 - self.momentum) * grad\n"
         "        self.store(\"velocity\", key, velocity)\n"
         "        return param - self.learning_rate * velocity\n"),
    ), "momentum as an exponential average, v = beta v + (1 - beta) g"),
    Variant("adam_step_per_layer", "adam_step_per_layer", (
        (OPTIMIZERS, ADAM_CLOCK, "    def begin_step(self):\n        pass\n"),
        (OPTIMIZERS, ADAM_MOMENTS, ADAM_MOMENTS + "        if key[0] == \"W\":  # a new layer\n            self.t += 1\n"),
    ), "Adam's time step advanced inside the loop over layers"),
    Variant("no_bias_correction", "no_bias_correction", (
        (OPTIMIZERS, BIAS_CORRECTION, "        return m, v\n"),
    ), "Adam and NAdam use the raw moments"),
    Variant("weight_decay_ignored", "weight_decay_ignored", (
        (OPTIMIZERS, WEIGHT_DECAY, "            grad_W = layer.grad_W\n"),
    ), "weight_decay parsed but never used"),
    Variant("weight_decay_on_biases", "weight_decay_ignored", (
        (OPTIMIZERS, BIAS_UPDATE,
         "            layer.b = self.update((\"b\", index), layer.b, layer.grad_b + self.weight_decay * layer.b)\n"),
    ), "L2 decay applied to the biases as well"),
]

CORRECT = [
    Variant("weights_n_out_by_n_in", None, (
        (LAYER, W_INIT, "        self.W = initial_weights(n_in, n_out, weight_init, rng).T.astype(DTYPE)  # (n_out, n_in)\n"),
        (LAYER, LAYER_FORWARD, "        self.Z = A_prev @ self.W.T + self.b\n"),
        (LAYER, GRAD_W, "        self.grad_W = delta.T @ self.A_prev\n"),
        (LAYER, LAYER_RETURN, "        return delta @ self.W\n"),
    ), "W stored (n_out, n_in), as in the column-vector lecture notation"),
    Variant("bias_row_1_by_n", None, (
        (LAYER, B_INIT, "        self.b = np.zeros((1, n_out), dtype=DTYPE)\n"),
        (LAYER, GRAD_B, "        self.grad_b = delta.sum(axis=0, keepdims=True)\n"),
    ), "b stored as a (1, n_out) row"),
    Variant("column_vectors_n_by_1_bias", None, (
        (LAYER, W_INIT, "        self.W = initial_weights(n_in, n_out, weight_init, rng).T.astype(DTYPE)  # (n_out, n_in)\n"),
        (LAYER, B_INIT, "        self.b = np.zeros((n_out, 1), dtype=DTYPE)\n"),
        (LAYER, LAYER_FORWARD, "        self.Z = (self.W @ A_prev.T + self.b).T  # columns are examples inside\n"),
        (LAYER, GRAD_W, "        self.grad_W = delta.T @ self.A_prev\n"),
        (LAYER, GRAD_B, "        self.grad_b = delta.sum(axis=0).reshape(-1, 1)\n"),
        (LAYER, LAYER_RETURN, "        return delta @ self.W\n"),
    ), "W (n_out, n_in) and b (n_out, 1): z = W a + b for column vectors"),
    Variant("labels_through_argmax", None, (
        (LOSSES, ONE_HOT_BRANCH,
         "    labels = y.argmax(axis=1) if y.ndim == 2 else y  # one-hot rows back to labels\n"
         "    return np.eye(num_classes)[labels.astype(np.int64)]\n"),
    ), "one-hot targets turned into labels first, then back"),
    Variant("nag_bengio_form", None, (
        (OPTIMIZERS, NAG_LOOK_AHEAD, ""),
        (OPTIMIZERS, NAG_STEP,
         "    def update(self, key, param, grad):\n"
         "        velocity = self.momentum * self.slot(\"velocity\", key, param) + self.learning_rate * grad\n"
         "        self.store(\"velocity\", key, velocity)\n"
         "        return param - (self.momentum * velocity + self.learning_rate * grad)\n"),
    ), "NAG as Bengio et al. and PyTorch write it: the weights kept at the look-ahead point"),
    Variant("loops_over_the_batch", None, (
        (LAYER, LAYER_FORWARD, "        self.Z = np.stack([self.W.T @ a + self.b for a in A_prev])\n"),
        (LAYER, GRAD_W, "        self.grad_W = sum(np.outer(a, d) for a, d in zip(self.A_prev, delta))\n"),
        (LAYER, GRAD_B, "        self.grad_b = sum(d for d in delta)\n"),
        (LAYER, LAYER_RETURN, "        return np.stack([self.W @ d for d in delta])\n"),
    ), "one example at a time instead of one matrix product per batch"),
]

MISTAKES = GRADIENT_MISTAKES + OPTIMIZER_MISTAKES
VARIANTS = MISTAKES + CORRECT


def apply_patch(text: str, old: str, new: str, where: str) -> str:
    """`text` with its one occurrence of `old` replaced by `new`; PatchError unless exactly one."""
    count = text.count(old)
    if count != 1:
        raise PatchError(f"{where}: the text to replace occurs {count} times, not once:\n{old}")
    return text.replace(old, new)


def materialise(variant: Variant, dest: Path) -> Path:
    """A copy of the solution at `dest` (which must not exist) with `variant`'s patches applied; returns `dest`."""
    dest = Path(dest)
    shutil.copytree(SOLUTION, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for file, old, new in variant.patches:
        path = dest / file
        path.write_text(apply_patch(path.read_text(), old, new, f"{variant.name}: {file}"))
    return dest
