"""How well saved weights classify: the reference's forward pass on a split no student was given.

A training run's model is scored on the generated private split (`data/synthetic.py`: the same
class templates as the data the sandbox serves, drawn from the grader's own random stream, so the
student's code never met one of its images); a handed-in model on real test data
(`data/private.py`). Images are flattened to 784 values and scaled to [0, 1], the preparation
the skeleton's `src/utils/data_loader.py` asks for; the logits are the reference's
(`reference/network.py`) with the model's activation, and the prediction is their argmax.
"""
from __future__ import annotations

import functools
import os
from typing import Optional

import numpy as np

from grader.assignments.da6401_a1.checks.lib.saved_weights import SavedNetwork
from grader.assignments.da6401_a1.data.private import DATA_VARIABLE, PrivateSplit, as_private, private_split
from grader.assignments.da6401_a1.data.synthetic import make_split
from grader.assignments.da6401_a1.reference.network import forward

CHANCE = 0.1  # ten balanced classes
_ROWS = 2048  # images per forward pass: a large hidden layer stays within a few tens of MB
_REAL: dict[tuple[str, Optional[str]], PrivateSplit] = {}


@functools.lru_cache(maxsize=8)
def generated_private(dataset: str, size: int, seed: int) -> PrivateSplit:
    """The generated private split of `dataset`, made once per process (every student meets the same)."""
    split = as_private(make_split(dataset, "private", int(size), int(seed)),
                       f"the grader's {int(size)} generated {dataset} images, never given to train.py")
    split.images.flags.writeable = False
    split.labels.flags.writeable = False
    return split


def real_split(dataset: str) -> Optional[PrivateSplit]:
    """`data/private.private_split(dataset)`, kept once found: reading and scaling 10,000 images
    for every student would take longer than scoring them. None is not kept, so data the
    instructor provides later in the process (BPG_DA6401_DATA) is found."""
    key = (dataset, os.environ.get(DATA_VARIABLE))
    if key not in _REAL:
        found = private_split(dataset)
        if found is None:
            return None
        _REAL[key] = found
    return _REAL[key]


def predictions(network: SavedNetwork, activation: str, images: np.ndarray) -> np.ndarray:
    """argmax of the reference's logits for each image (N,); non-finite logits predict nothing (-1)."""
    found = np.empty(len(images), dtype=np.int64)
    with np.errstate(all="ignore"):
        for start in range(0, len(images), _ROWS):
            logits, _ = forward(network.weights, network.biases, images[start:start + _ROWS], activation)
            rows = logits.argmax(axis=1)
            rows[~np.all(np.isfinite(logits), axis=1)] = -1
            found[start:start + _ROWS] = rows
    return found


def accuracy(network: SavedNetwork, activation: str, split: PrivateSplit) -> float:
    """The share of the split's images the network classifies right."""
    return float(np.mean(predictions(network, activation, split.images) == split.labels))
