"""The probe's `_train` and `_saved_model`, run in this process on the solution's repository.

The repository is staged as the worker sees it (`tree/src`, the stand-ins, the data cache in
`tree/home/.keras`); the probe is executed beside it. What `_train` changes to run a script
(argv, sys.path, cwd, HOME, the streams, the student's modules) must be as it was afterwards,
and a saved model is read in every form students save it.
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import pytest

from grader.assignments.da6401_a1.inside import PROBE
from grader.assignments.da6401_a1.support import write_support
from tests.assignments.da6401_a1.catalogue import SOLUTION
from tests.assignments.da6401_a1.checks.harness import forget

ARGV = ["-d", "mnist", "-e", "2", "-b", "32", "-l", "cross_entropy", "-o", "sgd", "-lr", "0.1", "-wd", "0",
        "-nhl", "1", "-sz", "16", "-a", "relu", "-w_i", "xavier"]


def staged(folder: Path) -> Path:
    tree = folder / "tree"
    shutil.copytree(SOLUTION, tree, ignore=shutil.ignore_patterns("__pycache__", "README.md"))
    write_support(tree)
    return folder


def probe_in(folder: Path) -> types.ModuleType:
    module = types.ModuleType("a1_training")
    module.__file__ = str(folder / "a1_training.py")
    exec(compile(PROBE.read_text(), str(PROBE), "exec"), module.__dict__)  # noqa: S102 - the grader's own probe
    return module


@pytest.fixture
def folder(tmp_path: Path):
    folder = staged(tmp_path / "staged")
    forget(folder)
    saved_path = list(sys.path)
    try:
        yield folder
    finally:
        sys.path[:] = saved_path
        forget(folder)


@pytest.fixture
def probe(folder: Path) -> types.ModuleType:
    return probe_in(folder)


def test_a_run_saves_the_solutions_model_and_leaves_the_process_as_it_was(probe, folder):
    before = (list(sys.argv), list(sys.path), os.getcwd(), sys.stdout, os.environ.get("HOME"),
              sys.modules["ann"], sys.modules["ann.neural_network"])
    answer = probe._train(ARGV)
    after = (list(sys.argv), list(sys.path), os.getcwd(), sys.stdout, os.environ.get("HOME"),
             sys.modules["ann"], sys.modules["ann.neural_network"])
    assert after == before
    assert answer["status"] == "ran" and answer["found"] == "best_model.npy"
    assert {k: v.shape for k, v in answer["weights"].items()} == {"W0": (784, 16), "b0": (16,), "W1": (16, 10),
                                                                    "b1": (10,)}
    assert answer["config"]["hidden_size"] == [16] and answer["standins"] == ["keras.datasets.mnist"]
    assert "epoch 2" in answer["output"]
    assert not list(Path(tempfile.gettempdir()).glob("train-*/src/train.py"))  # the run folder is gone


def test_a_script_that_changes_the_process_does_not_change_the_next_run(probe, folder):
    train = folder / "tree" / "src" / "train.py"
    train.write_text("import os, sys\nos.chdir('/')\nsys.path.clear()\nimport numpy as np\nnp.seterr(all='raise')\n"
                     + train.read_text())
    first = probe._train(ARGV)
    assert first["status"] == "raised" and "ModuleNotFoundError" in first["traceback"]
    assert np.geterr()["divide"] != "raise" and os.getcwd() != "/"


def test_a_crash_is_told_with_the_repositorys_own_frames(probe, folder):
    train = folder / "tree" / "src" / "train.py"
    train.write_text(train.read_text().replace("    model = NeuralNetwork(args)\n", "    model = NeuralNetwork(argz)\n"))
    answer = probe._train(ARGV)
    assert answer["status"] == "raised" and answer["found"] is None
    assert answer["traceback"].startswith('  File "src/train.py", line')
    assert answer["traceback"].endswith("NameError: name 'argz' is not defined")
    assert "probe" not in answer["traceback"] and "runpy" not in answer["traceback"]


def test_an_exit_with_an_error_keeps_its_status_and_output(probe):
    answer = probe._train([*ARGV, "--no-such-flag"])
    assert answer["status"] == "exited" and answer["error"] == "2"
    assert "unrecognized arguments: --no-such-flag" in answer["output"]


def test_the_newest_best_model_anywhere_in_the_run_folder_is_the_one_read(probe, folder):
    train = folder / "tree" / "src" / "train.py"
    train.write_text(train.read_text().replace('default=".", help="where best_model.npy',
                                               'default="models", help="where best_model.npy'))
    answer = probe._train(ARGV)
    assert answer["found"] == os.path.join("models", "best_model.npy") and answer["config"]["save_dir"] == "models"


class Saved:
    """A model object pickled whole, as some students save theirs."""

    def __init__(self, weights):
        self.weights = weights

    def get_weights(self):
        return self.weights


WEIGHTS = {"W0": np.ones((784, 3)), "b0": np.zeros(3), "W1": np.ones((3, 10)), "b1": np.zeros(10)}


def save(path: Path, form: str) -> None:
    if form == "dict":
        np.save(path, WEIGHTS)
    elif form == "npz":
        with open(path, "wb") as handle:
            np.savez(handle, **WEIGHTS)
    elif form == "lists":
        np.save(path, {"weights": [WEIGHTS["W0"], WEIGHTS["W1"]], "biases": [WEIGHTS["b0"].tolist(),
                                                                            WEIGHTS["b1"].tolist()],
                       "activation": "relu"}, allow_pickle=True)
    elif form == "object":
        sys.modules["saved_model_class"] = types.ModuleType("saved_model_class")
        sys.modules["saved_model_class"].Saved = Saved
        Saved.__module__ = "saved_model_class"
        np.save(path, np.array(Saved(WEIGHTS), dtype=object), allow_pickle=True)


@pytest.mark.parametrize("form, keys", [
    ("dict", {"W0", "b0", "W1", "b1"}),
    ("npz", {"W0", "b0", "W1", "b1"}),
    ("lists", {"weights/0", "weights/1", "biases/0", "biases/1"}),
    ("object", {"W0", "b0", "W1", "b1"}),
])
def test_a_handed_in_model_is_read_in_each_form_students_save(probe, folder, form, keys):
    save(folder / "tree" / "best_model.npy", form)
    (folder / "tree" / "best_config.json").write_text(json.dumps({"dataset": "fashion_mnist", "activation": "tanh",
                                                                   "validation": {"accuracy": 0.9},
                                                                   "hidden_size": {"value": 3}}))
    answer = probe._saved_model()
    assert answer["found"] == "best_model.npy" and set(answer["weights"]) == keys
    assert all(value.dtype == np.float64 for value in answer["weights"].values())
    assert answer["config"] == {"dataset": "fashion_mnist", "activation": "tanh", "hidden_size": 3}
    sys.modules.pop("saved_model_class", None)


def test_a_model_that_cannot_be_read_says_why(probe, folder):
    (folder / "tree" / "best_model.npy").write_bytes(b"not a numpy file")
    (folder / "tree" / "best_config.json").write_text("{not json")
    answer = probe._saved_model()
    assert answer["weights"] is None and answer["unreadable"].startswith(("ValueError", "UnpicklingError"))
    assert answer["config"] is None and answer["config_error"]
    np.save(folder / "tree" / "best_model.npy", np.arange(3.0))
    assert "no weight arrays" in probe._saved_model()["unreadable"]


def test_without_a_model_nothing_is_found(probe):
    assert probe._saved_model() == {"found": None, "weights": None, "config": None, "config_error": None,
                                    "has_config": False}


def test_the_probe_pickles_nothing_back(probe, folder):
    save(folder / "tree" / "best_model.npy", "object")
    answer = probe._saved_model()
    pickle.dumps(answer)  # plain data: dicts, strings and arrays
    assert not any(isinstance(value, Saved) for value in answer.values())
    sys.modules.pop("saved_model_class", None)
