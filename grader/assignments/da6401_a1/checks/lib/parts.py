"""The graded parts of `da6401-a1` and the names the staged probe defines.

Every part is the same probe (`inside/probe.py`) staged under the part's stem, so each part's
checks reach the student's `ann` package through these functions. The network parts (`STEMS`)
call the package's API; the script parts (`SCRIPT_STEMS`) run `src/train.py` and read the
handed-in `best_model.npy`.
"""
from __future__ import annotations

A1_FORWARD = "a1_forward"
A1_GRADIENTS = "a1_gradients"
A1_OPTIMIZERS = "a1_optimizers"
A1_TRAINING = "a1_training"
A1_MODEL = "a1_model"
STEMS: tuple[str, ...] = (A1_FORWARD, A1_GRADIENTS, A1_OPTIMIZERS)  # the network parts
SCRIPT_STEMS: tuple[str, ...] = (A1_TRAINING, A1_MODEL)

NEEDS: tuple[str, ...] = ("NeuralNetwork",)  # the class the probe imports; absent -> status "missing"

# the probe's helpers (underscore names: not listed as the part's definitions)
NETWORK = "_network"  # (options) -> a NeuralNetwork handle
LAYER_GRADS = "_layer_grads"  # (net) -> [[grad_W, grad_b], ...] or None
LOGITS_MOVED = "_logits_moved"  # (net, X, moves) -> [logits, ...]
TRAIN = "_train"  # (argv) -> what `python src/train.py *argv` did and the model it saved, as plain data
SAVED_MODEL = "_saved_model"  # () -> the handed-in best_model.npy and best_config.json, as plain data
