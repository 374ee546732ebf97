"""More variants of the `da6401-a1` solution, for what the grader's checks name beyond the catalogue.

Written like tests/assignments/da6401_a1/catalogue.py (exact one-time replacements in the
solution's files): forward slips that have no diagnosis code of their own but are named in the
feedback, weights loaded another way than get_weights returns them, weight decay applied in
backward instead of the optimizer (the same training, accepted with a note), a repository whose
`NeuralNetwork` cannot be imported, a `train` that does not exist, and a constant network.
"""
from __future__ import annotations

from tests.assignments.da6401_a1.catalogue import LAYER, NETWORK, OPTIMIZERS, WEIGHT_DECAY, Variant

FORWARD_RETURN = "            A = layer.forward(A)\n        return A\n"
GET_W = '            weights[f"W{index}"] = layer.W.copy()\n'
GET_B = '            weights[f"b{index}"] = layer.b.copy()\n'
SET_W = '            W = np.array(weights[f"W{index}"], dtype=DTYPE)\n'
SET_B = '            layer.b = np.array(weights[f"b{index}"], dtype=DTYPE).reshape(layer.b.shape)\n'
REVERSED = "len(self.layers) - 1 - index"

FORWARD_SLIPS = [
    Variant("softmax_in_forward", None, (
        (NETWORK, FORWARD_RETURN, "            A = layer.forward(A)\n        return softmax(A)  # probabilities\n"),
    ), "forward returns softmax(logits)"),
    Variant("output_layer_activated", None, (
        (NETWORK, 'activation if index < len(sizes) - 2 else "identity"', "activation"),
    ), "the output layer applies the hidden activation too"),
]

LOADING_SLIPS = [
    Variant("set_weights_transposes", "transposed", (
        (NETWORK, SET_W, SET_W.replace("dtype=DTYPE)", "dtype=DTYPE).T")),
    ), "set_weights transposes every W, so loading what get_weights returns fails its shape check"),
    Variant("weight_keys_output_first", "layer_order_reversed", (
        (NETWORK, GET_W, GET_W.replace("W{index}", "W{" + REVERSED + "}")),
        (NETWORK, GET_B, GET_B.replace("b{index}", "b{" + REVERSED + "}")),
        (NETWORK, SET_W, SET_W.replace("W{index}", "W{" + REVERSED + "}")),
        (NETWORK, SET_B, SET_B.replace("b{index}", "b{" + REVERSED + "}")),
    ), "get_weights and set_weights number the layers from the output layer"),
]

ELSEWHERE = [
    Variant("decay_in_backward", None, (
        (NETWORK, "            grad_Ws.append(layer.grad_W)\n",
         "            layer.grad_W = layer.grad_W + self.optimizer.weight_decay * layer.W  # L2 in the gradient\n"
         "            grad_Ws.append(layer.grad_W)\n"),
        (OPTIMIZERS, WEIGHT_DECAY, "            grad_W = layer.grad_W  # the L2 term is already in it\n"),
    ), "the L2 term added by backward instead of the optimizer: the same training"),
]

BROKEN = [
    Variant("class_renamed", None, (
        (NETWORK, "class NeuralNetwork:\n", "class NeuralNet:\n"),
    ), "no NeuralNetwork: importing ann fails"),
    Variant("syntax_error", None, (
        (LAYER, "import numpy as np\n", "import numpy as np\n\ndef broken(:\n    pass\n"),
    ), "a syntax error in one of the package's modules"),
    Variant("train_missing", None, (
        (NETWORK, "        X = np.asarray(X_train, dtype=DTYPE)\n",
         "        raise NotImplementedError\n        X = np.asarray(X_train, dtype=DTYPE)\n"),
    ), "train raises NotImplementedError: the look-ahead NAG cannot be run"),
    Variant("constant_network", None, (
        (NETWORK, FORWARD_RETURN, "            A = layer.forward(A)\n        return np.zeros_like(A)\n"),
        (LAYER, "        self.grad_W = self.A_prev.T @ delta\n", "        self.grad_W = np.zeros_like(self.W)\n"),
        (LAYER, "        self.grad_b = delta.sum(axis=0)\n", "        self.grad_b = np.zeros_like(self.b)\n"),
        (NETWORK, "        self.optimizer.step(self.layers)\n", "        pass\n"),
    ), "logits and gradients always zero, update_weights does nothing"),
]

EXTRA = FORWARD_SLIPS + LOADING_SLIPS + ELSEWHERE + BROKEN
