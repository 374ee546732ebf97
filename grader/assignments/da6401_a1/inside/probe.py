"""The grader's probe into a `da6401-a1` repository: staged as each graded part, `<stem>.py`.

It runs inside the student's sandboxed process, beside `tree/` (the repository: `tree/src`
holds the package `ann`; `tree/standins` the stand-ins for keras, wandb, ...; `tree/home/.keras`
the data in keras's cache). Its top level puts src and the stand-ins first on sys.path, points
KERAS_HOME at the data when it is there, and imports `NeuralNetwork`; when that import raises, the worker
records the statement's error for the part, `NeuralNetwork` stays undefined, and every check
that needs it is "missing". The helpers below only call the student's public API and return
what it returns (plain data, or objects the grader holds as handles); every comparison
happens in the grader.

Two helpers run the repository's files rather than its API, and return plain data only:
`_train(argv)` runs `src/train.py` as `python src/train.py ARGS` would, in a copy of `src/`
under the worker's temp dir (the repository itself is read-only), and reads the model it
saved; `_saved_model()` reads the handed-in `best_model.npy`. Both load with
`np.load(allow_pickle=True)`, which can run code, so they load here and never in the grader.
"""
import argparse
import contextlib
import json
import os
import runpy
import shutil
import sys
import tempfile
import time
import traceback

import numpy as np

_TREE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tree")
for _folder in (os.path.join(_TREE, "standins"), os.path.join(_TREE, "src")):  # src ends up first
    if _folder in sys.path:
        sys.path.remove(_folder)
    sys.path.insert(0, _folder)
if os.path.isdir(os.path.join(_TREE, "home", ".keras")):  # the staged data, for keras's own loaders
    os.environ.setdefault("KERAS_HOME", os.path.join(_TREE, "home", ".keras"))

try:  # the skeleton's own import; a package that re-exports the class is accepted too
    from ann.neural_network import NeuralNetwork
except ImportError as _missing:
    try:
        from ann import NeuralNetwork
    except ImportError:
        raise _missing from None


def _network(options):
    """NeuralNetwork(argparse.Namespace(**options)): the spec's options, input_size and
    output_size, and the optimizers' momentum, beta, beta1, beta2 and epsilon."""
    return NeuralNetwork(argparse.Namespace(**options))


def _layers(net):
    """The network's layers: the first list or tuple attribute whose items all have grad_W and grad_b."""
    for value in getattr(net, "__dict__", {}).values():
        if isinstance(value, (list, tuple)) and value and all(
                hasattr(item, "grad_W") and hasattr(item, "grad_b") for item in value):
            return list(value)
    return None


def _layer_grads(net):
    """[[grad_W, grad_b], ...] of each layer in the network's own list order; None without such a list."""
    layers = _layers(net)
    return None if layers is None else [[layer.grad_W, layer.grad_b] for layer in layers]


def _logits_moved(net, X, moves):
    """forward(X) once per move, each with some weights set to given values, then the weights put back.

    A move is a list of [key, flat indices, values]: entries of get_weights()[key] (C order) are
    set to the values before set_weights and forward. Each answer is copied, so a forward that
    returns one buffer it reuses still gives every move its own logits.
    """
    saved = {key: np.array(value, copy=True) for key, value in net.get_weights().items()}
    answers = []
    try:
        for move in moves:
            weights = {key: value.copy() for key, value in saved.items()}
            for key, index, values in move:
                weights[key].reshape(-1)[np.asarray(index, dtype=np.int64)] = values
            net.set_weights(weights)
            answers.append(np.array(net.forward(X), copy=True))
    finally:
        net.set_weights(saved)
    return answers


# --------------------------------------------------------------- running train.py, reading models

_SRC = os.path.join(_TREE, "src")
_HOME = os.path.join(_TREE, "home")
_MODEL = "best_model.npy"
_CONFIG = "best_config.json"
_OWN_PACKAGES = ("ann", "utils")  # the skeleton's packages in src/: each run imports its own copy
_OUTPUT_CHARS = 3000  # the tail of what train.py prints, for a failure's feedback
_TRACEBACK_FRAMES = 6
_MESSAGE_CHARS = 600
_LISTED_FILES = 12
_MODEL_ENTRIES = 64  # arrays read from one saved model at most
_NESTING = 3  # containers within containers followed in a saved model


class _Tail:
    """A text stream keeping the last `limit` characters written: train.py's prints, bounded."""

    encoding = "utf-8"

    def __init__(self, limit):
        self.limit = limit
        self.text = ""

    def write(self, text):
        text = str(text)
        self.text = (self.text + text)[-self.limit:]
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False


def _short(text, limit=_MESSAGE_CHARS):
    text = str(text)
    return text if len(text) <= limit else text[:limit] + " [...]"


def _last(text, limit):
    """The end of `text`, where a traceback's error is."""
    return text if len(text) <= limit else "[...] " + text[-limit:]


def _error_line(exc):
    """"TypeError: message", however the exception prints."""
    try:
        text = str(exc)
    except BaseException:  # a student's exception whose __str__ raises
        text = ""
    return _short(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def _is_under(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _relative(path, folder):
    return os.path.relpath(os.path.realpath(path), os.path.realpath(folder)) if _is_under(path, folder) else path


def _traceback_tail(exc, run_dir):
    """The last frames of the student's own files (paths as in the repository), then the error."""
    if isinstance(exc, SyntaxError):
        lines = traceback.format_exception_only(type(exc), exc)
        return _last("".join(lines).replace(os.path.realpath(run_dir) + os.sep, ""), 2000)
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__)  # "<frozen runpy>", this probe: not theirs
              if os.path.isabs(frame.filename) and _is_under(frame.filename, run_dir)]
    for frame in frames:
        frame.filename = _relative(frame.filename, run_dir)
    lines = traceback.format_list(frames[-_TRACEBACK_FRAMES:])
    return _last("".join(lines) + _error_line(exc), 2000)


def _is_blocked(exc):
    """True for the sandbox's refusals (an import or a system call), whatever module raised them."""
    return any(kind.__name__ in ("Blocked", "BlockedImportError", "BlockedOperationError")
               for kind in type(exc).__mro__)


def _module_file(module):
    namespace = getattr(module, "__dict__", None) if module is not None else None
    origin = namespace.get("__file__") if isinstance(namespace, dict) else None
    return origin if isinstance(origin, str) else None


def _own_modules(folder):
    """Names in sys.modules of the skeleton's packages and of every module loaded from `folder`."""
    names = []
    for name, module in list(sys.modules.items()):
        origin = _module_file(module)
        if name.partition(".")[0] in _OWN_PACKAGES or (origin is not None and os.path.isabs(origin)
                                                       and _is_under(origin, folder)):
            names.append(name)
    return names


def _standin_modules():
    for name, module in list(sys.modules.items()):
        namespace = getattr(module, "__dict__", None) if module is not None else None
        if isinstance(namespace, dict) and namespace.get("STANDIN") is True:
            yield name, namespace


def _used_standins():
    """The stand-in modules that did something (as standins.used_standins reads them), sorted."""
    return sorted(name for name, namespace in _standin_modules() if namespace.get("USED") is True)


@contextlib.contextmanager
def _isolated(run_dir):
    """argv, sys.path, cwd, HOME, KERAS_HOME, the streams, numpy's error state and the student's
    modules as they were, whatever the run changes; the repository's modules put aside while it
    runs, so train.py imports the copy's."""
    saved = (list(sys.argv), list(sys.path), os.getcwd(), sys.stdout, sys.stderr, np.geterr())
    environment = {name: os.environ.get(name) for name in ("HOME", "KERAS_HOME")}
    modules = {name: sys.modules.pop(name) for name in _own_modules(_SRC)}
    for _name, namespace in _standin_modules():  # each run says which stand-ins it used itself
        namespace["USED"] = False
    try:
        yield
    finally:
        sys.argv, sys.path, cwd, sys.stdout, sys.stderr, errors = saved  # new lists: the run may have kept the old
        os.chdir(cwd)
        np.seterr(**errors)
        for name, value in environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for name in _own_modules(run_dir):
            sys.modules.pop(name, None)
        sys.modules.update(modules)


def _run_script(script, run_dir):
    """runpy as `python src/train.py` runs it; how it ended, as plain data."""
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        if stop.code is None or stop.code == 0:
            return {"status": "ran"}
        return {"status": "exited", "error": _short(stop.code)}
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the student's error, reported with where it happened
        return {"status": "raised", "error": _error_line(exc), "traceback": _traceback_tail(exc, run_dir),
                "blocked": _is_blocked(exc)}
    return {"status": "ran"}


def _numeric(value):
    """`value` as a float64 array when it is numbers (an array, a list of numbers, a number), else None."""
    if isinstance(value, (str, bytes, dict)) or value is None:
        return None
    try:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf" or array.ndim == 0 or array.size == 0:
            return None
        return np.array(array, dtype=np.float64)
    except Exception:  # ragged lists, objects: not one tensor
        return None


def _flatten(content, prefix="", depth=0, found=None):
    """Every numeric tensor in a saved model's dicts and lists, named by its path ("W0",
    "weights/1", "0/1"); at most _MODEL_ENTRIES of them."""
    found = {} if found is None else found
    if isinstance(content, dict):
        items = [(str(key), value) for key, value in content.items()]
    elif isinstance(content, (list, tuple)) or (isinstance(content, np.ndarray) and content.dtype == object):
        items = [(str(index), value) for index, value in enumerate(list(np.ravel(content, order="C"))
                                                                   if isinstance(content, np.ndarray) else content)]
    else:
        return found
    for key, value in items:
        if len(found) >= _MODEL_ENTRIES:
            break
        name = f"{prefix}/{key}" if prefix else key
        tensors = isinstance(value, (list, tuple)) and value and all(isinstance(v, np.ndarray) for v in value)
        array = None if isinstance(value, dict) or tensors else _numeric(value)
        if array is not None:
            found[name] = array
        elif depth < _NESTING:
            _flatten(value, name, depth + 1, found)
    return found


def _describe(content):
    """A few words on what np.load gave, for a model that holds no tensors."""
    if isinstance(content, dict):
        keys = ", ".join(sorted(str(key) for key in content)[:10])
        return f"a dict with keys {keys}" if keys else "an empty dict"
    if isinstance(content, np.ndarray):
        return f"a {content.dtype} array of shape {content.shape}"
    return f"a {type(content).__name__}"


def _model_content(path):
    """What the file holds: a 0-d object array's item (a dict, or a model with get_weights), an
    npz's arrays, an object array's items as a list, or the array itself."""
    loaded = np.load(path, allow_pickle=True)
    if hasattr(loaded, "files"):  # an npz archive
        with loaded:
            return {key: loaded[key] for key in loaded.files}
    content = loaded
    if isinstance(loaded, np.ndarray) and loaded.dtype == object:
        content = loaded.item() if loaded.ndim == 0 else list(loaded)
    if not isinstance(content, (dict, list, tuple, np.ndarray)) and callable(getattr(content, "get_weights", None)):
        content = content.get_weights()
    return content


def _read_model(path):
    """{"weights": {name: float64 array}} of a saved model, or {"weights": None, "unreadable": why}."""
    try:
        content = _model_content(path)
        weights = _flatten(content)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a file np.load cannot read, or an object that cannot be unpickled
        return {"weights": None, "unreadable": _error_line(exc)}
    if not weights:
        return {"weights": None, "unreadable": f"it holds {_describe(content)}, with no weight arrays"}
    return {"weights": weights}


def _plain(value):
    """A config value kept as plain data: a scalar, a list of scalars, or wandb's {"value": scalar}."""
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    if isinstance(value, str):
        return True, _short(value, 200)
    if value is None or isinstance(value, (bool, int, float)):
        return True, value
    if isinstance(value, list) and len(value) <= 64 and all(isinstance(v, (bool, int, float)) for v in value):
        return True, list(value)
    return False, None


def _read_config(path):
    """(best_config.json's scalar entries as a dict, None) or (None, why it cannot be read)."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError, RecursionError) as exc:
        return None, _error_line(exc)
    if not isinstance(data, dict):
        return None, f"it holds a JSON {type(data).__name__}, not an object"
    config = {}
    for key, value in list(data.items())[:200]:
        keep, plain = _plain(value)
        if keep:
            config[str(key)] = plain
    return config, None


def _written(run_dir):
    """Files the run wrote (not the copied sources), newest first, as paths relative to run_dir."""
    found = []
    for folder, subfolders, files in os.walk(run_dir):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        for name in files:
            path = os.path.join(folder, name)
            if not name.endswith(".py"):
                found.append((os.path.getmtime(path), os.path.relpath(path, run_dir)))
    return [relative for _when, relative in sorted(found, reverse=True)]


def _saved(run_dir):
    """The newest best_model.npy the run wrote, read, with the best_config.json beside it (or the newest)."""
    written = _written(run_dir)
    models = [path for path in written if os.path.basename(path) == _MODEL]
    found = {"found": models[0] if models else None, "written": written[:_LISTED_FILES],
             "config": None, "config_error": None, "weights": None}
    if not models:
        return found
    found.update(_read_model(os.path.join(run_dir, models[0])))
    beside = os.path.join(os.path.dirname(models[0]), _CONFIG)
    configs = [path for path in written if os.path.basename(path) == _CONFIG]
    config = beside if beside in configs else (configs[0] if configs else None)
    if config is not None:
        found["config"], found["config_error"] = _read_config(os.path.join(run_dir, config))
    return found


def _train(argv):
    """Run `python src/train.py *argv` from a copy of the repository's src/, and read what it saved.

    The copy lives in a fresh folder of the worker's temp dir, which is also the working
    directory (the repository root, for train.py), so a model saved relative to the working
    directory or to train.py's own file lands in it. HOME and KERAS_HOME point at the staged data.
    Returns {"status": "ran" | "exited" | "raised" | "no_script", "error", "traceback", "blocked",
    "seconds", "output" (the tail of what it printed), "standins" (stand-ins it used), "found"
    (the model's path in the run folder, or None), "written", "weights", "unreadable", "config",
    "config_error"}. The folder is removed afterwards: the worker's temp dir is small.
    """
    outcome = {"status": "no_script", "argv": [str(arg) for arg in argv], "seconds": 0.0, "output": "",
               "standins": [], "found": None, "written": [], "weights": None, "config": None}
    run_dir = tempfile.mkdtemp(prefix="train-")
    try:
        script = os.path.join(run_dir, "src", "train.py")
        if os.path.isdir(_SRC):
            shutil.copytree(_SRC, os.path.join(run_dir, "src"))
        if not os.path.isfile(script):
            return outcome
        output = _Tail(_OUTPUT_CHARS)
        with _isolated(run_dir):
            os.chdir(run_dir)
            sys.argv = [script, *outcome["argv"]]
            sys.path.insert(0, os.path.join(run_dir, "src"))  # what `python src/train.py` puts first
            os.environ["HOME"], os.environ["KERAS_HOME"] = _HOME, os.path.join(_HOME, ".keras")
            sys.stdout = sys.stderr = output
            started = time.monotonic()
            outcome.update(_run_script(script, run_dir))
            outcome["seconds"] = time.monotonic() - started
            outcome["standins"] = _used_standins()
            outcome.update(_saved(run_dir))  # read here, where a pickled model's classes import from the copy
        outcome["output"] = output.text
        return outcome
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _saved_model():
    """The handed-in model (`tree/best_model.npy`, staged from the repository's root, src/ or
    models/) and `tree/best_config.json`, read like `_train`'s; "found" is None without a model."""
    model, config = os.path.join(_TREE, _MODEL), os.path.join(_TREE, _CONFIG)
    outcome = {"found": None, "weights": None, "config": None, "config_error": None,
               "has_config": os.path.isfile(config)}
    if os.path.isfile(model):
        outcome["found"] = _MODEL
        outcome.update(_read_model(model))
    if outcome["has_config"]:
        outcome["config"], outcome["config_error"] = _read_config(config)
    return outcome
