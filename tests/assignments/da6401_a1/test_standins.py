"""The stand-ins, as a sandboxed train.py meets them: first on sys.path, HOME a fresh folder.

Each test runs a small script in a fresh, isolated interpreter (`python -I`) whose sys.path
starts with the stand-ins' folder, and reads back what it printed as JSON.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

from grader.assignments.da6401_a1.data.keras_cache import write_keras_cache
from grader.assignments.da6401_a1.data.synthetic import Sizes, synthetic_dataset
from grader.assignments.da6401_a1.standins import (
    STANDINS_FOLDER,
    TENSORFLOW_FOLDER,
    sys_path_entries,
    used_standins,
)

SIZES = Sizes(train=300, test=100, private=10)
# numpy, the standard library, and the stand-ins themselves (seaborn draws on matplotlib's)
ALLOWED_IMPORTS = set(sys.stdlib_module_names) | {"numpy"} | {
    p.name for p in STANDINS_FOLDER.iterdir() if (p / "__init__.py").is_file() and p != TENSORFLOW_FOLDER}


def run_script(script: str, home: Path, *, tensorflow: bool = False, env: dict | None = None) -> dict:
    """Run `script` with the stand-ins first on sys.path; its last stdout line is JSON."""
    prelude = f"import sys\nsys.path[:0] = {list(sys_path_entries(tensorflow=tensorflow))!r}\n"
    environment = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), **(env or {})}
    done = subprocess.run([sys.executable, "-I", "-c", prelude + textwrap.dedent(script)], env=environment,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def digest(*arrays: np.ndarray) -> str:
    return hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("home")
    write_keras_cache(folder, sizes=SIZES, seed=2)
    return folder


LOAD_BOTH = """
import hashlib, json
import numpy as np
from keras.datasets import mnist, fashion_mnist

def describe(data):
    (x_train, y_train), (x_test, y_test) = data
    arrays = (x_train, y_train, x_test, y_test)
    return {"shapes": [list(a.shape) for a in arrays], "dtypes": [str(a.dtype) for a in arrays],
            "digest": hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()}

print(json.dumps({"mnist": describe(mnist.load_data()), "fashion_mnist": describe(fashion_mnist.load_data()),
                  "standin": mnist.STANDIN, "used": mnist.USED}))
"""


def expected(name: str) -> dict:
    data = synthetic_dataset(name, sizes=SIZES, seed=2)
    arrays = (data.train.images, data.train.labels, data.test.images, data.test.labels)
    return {"shapes": [[300, 28, 28], [300], [100, 28, 28], [100]], "dtypes": ["uint8"] * 4,
            "digest": digest(*arrays)}


def test_keras_load_data_returns_the_cached_data_in_keras_s_shapes(home):
    out = run_script(LOAD_BOTH, home)
    assert out["mnist"] == expected("mnist")
    assert out["fashion_mnist"] == expected("fashion_mnist")
    assert out["standin"] is True and out["used"] is True


def test_keras_home_takes_the_place_of_dot_keras(tmp_path):
    write_keras_cache(tmp_path, sizes=SIZES, seed=2, keras_home=tmp_path / "elsewhere")
    out = run_script(LOAD_BOTH, tmp_path / "empty_home", env={"KERAS_HOME": str(tmp_path / "elsewhere")})
    assert out["mnist"] == expected("mnist")


def test_a_missing_cache_says_the_sandbox_downloads_nothing(tmp_path):
    out = run_script("""
        import json
        from keras.datasets import mnist
        try:
            mnist.load_data()
        except FileNotFoundError as error:
            print(json.dumps({"error": str(error)}))
    """, tmp_path)
    assert "stand-in" in out["error"] and "no network" in out["error"]


def test_tensorflow_keras_datasets_only_with_its_folder(home):
    script = """
        import json
        try:
            import tensorflow as tf
        except ImportError:
            print(json.dumps({"tensorflow": None}))
        else:
            from tensorflow.keras.datasets import mnist
            (x, y), _ = mnist.load_data()
            (fx, fy), _ = tf.keras.datasets.fashion_mnist.load_data()
            one_hot = tf.keras.utils.to_categorical(y[:4], 10)
            print(json.dumps({"tensorflow": tf.STANDIN, "mnist": list(x.shape), "fashion": list(fx.shape),
                              "one_hot": list(one_hot.shape), "used": [tf.keras.datasets.mnist.USED]}))
    """
    with_folder = run_script(script, home, tensorflow=True)
    assert with_folder == {"tensorflow": True, "mnist": [300, 28, 28], "fashion": [300, 28, 28],
                           "one_hot": [4, 10], "used": [True]}
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        assert run_script(script, home) == {"tensorflow": None}


TRAIN_PY = """
import argparse, json, socket

def no_network(*args, **kwargs):
    raise AssertionError("a stand-in opened a socket")

socket.socket = no_network
socket.create_connection = no_network

import wandb
from keras.datasets import mnist
from keras.utils import to_categorical

args = argparse.Namespace(epochs=2, learning_rate=0.1, num_layers=3)
(x_train, y_train), (x_test, y_test) = mnist.load_data()
before = wandb.run
run = wandb.init(project="da6401-a1", entity="someone", config=vars(args))
wandb.config.update({"batch_size": 32})
wandb.run.name = f"hl_{wandb.config.num_layers}_lr_{wandb.config.learning_rate}"
for epoch in range(args.epochs):
    wandb.log({"epoch": epoch, "loss": 1.0 / (epoch + 1)}, step=epoch)
    run.log({"accuracy": 0.5})
wandb.log({"samples": [wandb.Image(x_train[i], caption=str(y_train[i])) for i in range(3)]})
table = wandb.Table(columns=["image", "label"])
table.add_data(wandb.Image(x_train[0]), int(y_train[0]))
wandb.log({"table": table, "histogram": wandb.Histogram([1, 2, 3]),
           "confusion": wandb.plot.confusion_matrix(probs=None, y_true=[0, 1], preds=[1, 1], class_names=["a", "b"])})
wandb.run.summary["test_accuracy"] = 0.9
wandb.define_metric("loss", summary="min")
wandb.watch(None)
sweep_id = wandb.sweep({"method": "grid", "parameters": {"lr": {"values": [0.1]}}}, project="da6401-a1")
ran = []
wandb.agent(sweep_id, function=lambda: ran.append(1), count=2)
with wandb.init(config={"lr": 0.2}) as second:
    lr = wandb.config.lr
wandb.finish()
print(json.dumps({"before": before is None, "name": run.name, "config": dict(run.config), "sweep": sweep_id,
                  "agent_ran": len(ran), "lr": lr, "after": wandb.run is None, "standin": wandb.STANDIN,
                  "used": wandb.USED, "one_hot": list(to_categorical(y_train[:5], 10).shape)}))
"""


def test_a_train_py_logs_to_a_wandb_that_records_and_sends_nothing(home):
    out = run_script(TRAIN_PY, home)
    assert out["before"] and out["after"] and out["standin"] and out["used"]
    assert out["name"] == "hl_3_lr_0.1"
    assert out["config"] == {"epochs": 2, "learning_rate": 0.1, "num_layers": 3, "batch_size": 32}
    assert out["sweep"] and out["agent_ran"] == 0 and out["lr"] == 0.2
    assert out["one_hot"] == [5, 10]
    assert not any(home.rglob("wandb")) and not (Path.cwd() / "wandb").exists()  # nothing written


def test_the_stand_ins_pull_in_only_numpy_and_the_standard_library(home):
    out = run_script("""
        import json, sys
        before = set(sys.modules)
        import wandb, keras, keras.datasets.mnist, keras.datasets.fashion_mnist, keras.utils
        import tensorflow, tensorflow.keras.datasets.mnist
        new = sorted({name.split(".")[0] for name in set(sys.modules) - before})
        print(json.dumps({"new": new}))
    """, home, tensorflow=True)
    allowed = ALLOWED_IMPORTS | {"wandb", "tensorflow"}
    assert set(out["new"]) <= allowed, set(out["new"]) - allowed


def stand_in_files() -> list[Path]:
    return sorted(p for p in STANDINS_FOLDER.rglob("*.py") if p != STANDINS_FOLDER / "__init__.py")


@pytest.mark.parametrize("path", stand_in_files(), ids=lambda p: p.relative_to(STANDINS_FOLDER).as_posix())
def test_each_stand_in_file_imports_only_numpy_the_standard_library_and_stand_ins(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [] if node.level else [node.module]
        else:
            continue
        for name in names:
            assert name.split(".")[0] in ALLOWED_IMPORTS, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", [p for p in stand_in_files() if p.parent != TENSORFLOW_FOLDER],
                         ids=lambda p: p.relative_to(STANDINS_FOLDER).as_posix())
def test_each_stand_in_module_says_it_is_one(path):
    tree = ast.parse(path.read_text())
    assigned = {target.id for node in tree.body if isinstance(node, ast.Assign) for target in node.targets
                if isinstance(target, ast.Name)}
    assert {"STANDIN", "USED"} <= assigned


def test_tensorflow_lives_apart_from_keras_and_wandb():
    assert sys_path_entries(tensorflow=False) == (str(STANDINS_FOLDER),)
    assert sys_path_entries(tensorflow=True) == (str(STANDINS_FOLDER), str(TENSORFLOW_FOLDER))
    assert not (STANDINS_FOLDER / "tensorflow").exists()
    assert (TENSORFLOW_FOLDER / "tensorflow" / "__init__.py").is_file()


def test_used_standins_reads_the_flags_from_each_module_s_own_namespace():
    class Tricky(types.ModuleType):
        def __getattr__(self, name):
            return True

    used, idle, student, tricky = (types.ModuleType(n) for n in ("keras.datasets.mnist", "wandb", "ann", "x"))
    used.STANDIN, used.USED = True, True
    idle.STANDIN, idle.USED = True, False
    tricky = Tricky("tricky")
    modules = {"keras.datasets.mnist": used, "wandb": idle, "ann": student, "tricky": tricky, "gone": None}
    assert used_standins(modules) == ("keras.datasets.mnist",)
