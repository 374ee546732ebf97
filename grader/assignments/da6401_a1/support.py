"""What a da6401-a1 repository's code needs in the sandbox beside its own files, staged into `tree/`.

- `tree/standins/`: the stand-in libraries (`../standins/`: `keras`, `wandb`, `sklearn`, ...), and
  `tree/standins/tensorflow_keras/tensorflow/` for where importing tensorflow is allowed. The
  probe puts `tree/standins` on `sys.path` (and `tree/standins/tensorflow_keras` when allowed);
- `tree/home/.keras/datasets/`: the synthetic MNIST and Fashion-MNIST in keras's cache layouts
  (`../data/keras_cache.py`), for `KERAS_HOME=tree/home/.keras` or `HOME=tree/home`.

Making the data takes most of a second, and every submission gets the same bytes, so both are
built once per process and kept in memory (a few MB); staging a submission only writes them.
Only the stand-ins' `.py` files are copied: not the grader-side `standins/__init__.py`, not
bytecode.
"""
from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

from grader.assignments.da6401_a1.data.keras_cache import write_keras_cache
from grader.assignments.da6401_a1.data.synthetic import Sizes
from grader.assignments.da6401_a1.standins import STANDINS_FOLDER

STANDINS = "standins"
HOME = "home"
# Images per split in the sandbox's data: enough for an epoch to learn, small enough to stage fast.
DATA_SIZES = Sizes(train=2000, test=500, private=0)
DATA_SEED = 0

Files = tuple[tuple[str, bytes], ...]  # (path relative to the folder written, bytes)


def _python_files(folder: Path) -> Files:
    found = []
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(folder)
        if "__pycache__" in relative.parts or relative == Path("__init__.py"):
            continue
        found.append((relative.as_posix(), path.read_bytes()))
    return tuple(found)


@functools.lru_cache(maxsize=None)
def standin_files() -> Files:
    """The stand-ins' modules, read once."""
    return _python_files(STANDINS_FOLDER)


@functools.lru_cache(maxsize=None)
def data_files() -> Files:
    """keras's cache of the synthetic data sets, relative to a home folder, made once."""
    with tempfile.TemporaryDirectory(prefix="bpg-a1-data-") as scratch:
        cache = write_keras_cache(scratch, sizes=DATA_SIZES, seed=DATA_SEED)
        return tuple((path.relative_to(scratch).as_posix(), path.read_bytes()) for path in cache.files)


def _write_all(folder: Path, files: Files) -> None:
    for relative, data in files:
        target = folder / relative
        for parent in reversed(target.relative_to(folder).parents[:-1]):
            (folder / parent).mkdir(mode=0o755, exist_ok=True)
            os.chmod(folder / parent, 0o755)
        target.write_bytes(data)
        target.chmod(0o644)


def write_support(tree: Path) -> None:
    """The stand-ins and the data cache into the staged `tree/` (RepositoryLayout.support)."""
    for name, files in ((STANDINS, standin_files()), (HOME, data_files())):
        (tree / name).mkdir(mode=0o755)
        (tree / name).chmod(0o755)
        _write_all(tree / name, files)
