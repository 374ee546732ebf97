"""Stand-ins for the libraries a da6401-a1 `train.py` imports and the sandbox does not hold.

The grader puts this folder first on the sandboxed worker's `sys.path`, so a student's
`from keras.datasets import mnist` and `import wandb` find these instead of the real ones:

- `keras/`: `keras.datasets.{mnist,fashion_mnist}.load_data()` read the grader's data from keras's
  cache (`$KERAS_HOME/datasets`, else `$HOME/.keras/datasets`, as `data/keras_cache.py` writes
  it) and return keras's shapes and dtypes; `keras.utils.to_categorical` for one-hot labels;
- `wandb/`: `init`, `log`, `finish`, `config`, `Table`, `Image`, `plot`, `run`, `sweep`, `agent`, ...
  succeed and record and send nothing;
- `sklearn/`: `model_selection.train_test_split`, `metrics` (accuracy, precision, recall, F1,
  confusion matrix, classification report) and `preprocessing.OneHotEncoder`, in numpy;
- `tqdm/`, `matplotlib/` (with `pyplot`) and `seaborn/`: progress bars that pass their iterable
  through, plots drawn and saved nowhere;
- `tensorflow_keras/tensorflow/`: `tensorflow.keras.datasets` (the same loaders) in a folder of its
  own, on the path after this one, and only where importing tensorflow is allowed.

Every stand-in module says what it is, `STANDIN = True`, and sets its `USED` to True once it did
something for the student (a `load_data()`, a wandb call), so the feedback can say which ones the
run relied on (`used_standins`). Stand-ins import only numpy, the standard library and each other; this file
is the grader's side and is never imported in the sandbox.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

STANDINS_FOLDER = Path(__file__).resolve().parent
TENSORFLOW_FOLDER = STANDINS_FOLDER / "tensorflow_keras"


def sys_path_entries(*, tensorflow: bool) -> tuple[str, ...]:
    """The folders to put first on the worker's sys.path, in this order."""
    return (str(STANDINS_FOLDER),) + ((str(TENSORFLOW_FOLDER),) if tensorflow else ())


def used_standins(modules: Mapping[str, object]) -> tuple[str, ...]:
    """Names of the stand-in modules in `modules` (a `sys.modules`) that did something, sorted.

    Reads each module's own `__dict__`, never its attributes, so a module with a `__getattr__`
    cannot answer for it.
    """
    used = []
    for name, module in list(modules.items()):
        namespace = getattr(module, "__dict__", None) if module is not None else None
        if isinstance(namespace, dict) and namespace.get("STANDIN") is True and namespace.get("USED") is True:
            used.append(name)
    return tuple(sorted(used))
