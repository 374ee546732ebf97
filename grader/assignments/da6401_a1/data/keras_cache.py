"""The synthetic data written where keras caches MNIST and Fashion-MNIST, in keras's own layouts.

keras keeps downloads under `$KERAS_HOME/datasets`, `KERAS_HOME` defaulting to `~/.keras`:

- `mnist.npz`: an npz archive with `x_train` (N, 28, 28) uint8, `y_train` (N,) uint8, `x_test`,
  `y_test`;
- `fashion-mnist/`: four gzipped idx files, `train-labels-idx1-ubyte.gz`,
  `train-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`.

An idx file is a big-endian header, then the raw bytes: magic `0x00000801` (2049) and the count
for labels; `0x00000803` (2051), the count, rows and columns for images. Keras reads the bytes
after the header (offset 8 for labels, 16 for images). Only the train and test splits are
written; the private split stays with the grader. The gzip streams carry no time stamp, so the
same data give the same bytes.
"""
from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from grader.assignments.da6401_a1.data.synthetic import DATASETS, Sizes, Split, make_split

MNIST_FILE = "mnist.npz"
FASHION_FOLDER = "fashion-mnist"
FASHION_FILES = {
    ("train", "labels"): "train-labels-idx1-ubyte.gz",
    ("train", "images"): "train-images-idx3-ubyte.gz",
    ("test", "labels"): "t10k-labels-idx1-ubyte.gz",
    ("test", "images"): "t10k-images-idx3-ubyte.gz",
}
IDX_UBYTE = 0x08  # the idx type code of unsigned bytes; the magic is 0x0000 0x08 <dimensions>


@dataclass(frozen=True)
class KerasCache:
    """Where the files went: `datasets` is `<keras home>/datasets`; paths of what was written."""

    datasets: Path
    files: tuple[Path, ...]


def keras_datasets_folder(home: Union[str, Path]) -> Path:
    """`<home>/.keras/datasets`: keras's cache for a user whose home folder is `home`."""
    return Path(home) / ".keras" / "datasets"


def idx_bytes(array: np.ndarray) -> bytes:
    """An uint8 array in idx format: magic (0, 0, 0x08, ndim), each dimension big-endian int32, data."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"idx files here hold uint8 data, not {array.dtype}")
    header = struct.pack(">BBBB", 0, 0, IDX_UBYTE, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_gzip(path: Path, data: bytes) -> Path:
    """`data` gzipped into `path` with no file name or time stamp in the header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # level 1: staging writes these for every self-check, and level 9 took most of its second
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                                compresslevel=1) as stream:
        stream.write(data)
    return path


def write_mnist_npz(path: Path, train: Split, test: Split) -> Path:
    """keras's `mnist.npz`: x_train, y_train, x_test, y_test (stored, not deflated: np.load reads
    either, and deflating cost staging more than the copy of the larger file does)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        np.savez(out, x_train=train.images, y_train=train.labels,
                            x_test=test.images, y_test=test.labels)
    return path


def write_fashion_idx(folder: Path, train: Split, test: Split) -> tuple[Path, ...]:
    """keras's four Fashion-MNIST files in `folder`."""
    splits = {"train": train, "test": test}
    return tuple(write_gzip(folder / name, idx_bytes(getattr(splits[split], part)))
                 for (split, part), name in FASHION_FILES.items())


def write_keras_cache(home: Union[str, Path], *, sizes: Sizes = Sizes(), seed: int = 0,
                      datasets: Sequence[str] = DATASETS, keras_home: Optional[Union[str, Path]] = None) -> KerasCache:
    """The synthetic `datasets` in `<home>/.keras/datasets` (or `<keras_home>/datasets`, for a
    sandbox that sets `KERAS_HOME`), as keras would have cached them."""
    folder = Path(keras_home) / "datasets" if keras_home is not None else keras_datasets_folder(home)
    files: list[Path] = []
    for name in datasets:
        train, test = (make_split(name, split, getattr(sizes, split), seed) for split in ("train", "test"))
        if name == "mnist":
            files.append(write_mnist_npz(folder / MNIST_FILE, train, test))
        else:
            files.extend(write_fashion_idx(folder / FASHION_FOLDER, train, test))
    return KerasCache(datasets=folder, files=tuple(files))
