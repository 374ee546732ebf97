"""A repository's staged `tree/` reaches the worker: copied regular files only, within caps, readable
by the worker's uid and never writable by it; and a part module imports the student's package
from it through the real sandbox."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from grader.assignments.da6401_a1.layout import OPTIONAL, repository_layout
from grader.assignments.da6401_a1.support import data_files, standin_files
from grader.errors import StudentCodeError
from grader.submission import repository_find
from grader.submission.discover import discover
from grader.submission.staging import stage
from grader.worker import sandbox as sb
from grader.worker import tree_copy
from grader.worker.client import WorkerClient
from grader.worker.tree_copy import TREE_FOLDER, copy_tree
from tests.grader.worker.workers import sandboxes

REPO = Path(__file__).resolve().parents[3]
SOLUTION = REPO / "grader" / "assignments" / "da6401_a1" / "solution"
TIMEOUT = 30.0

PART = '''
import os
import sys

TREE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tree")
sys.path[:0] = [os.path.join(TREE, "src"), os.path.join(TREE, "standins")]
from ann.neural_network import NeuralNetwork


def logits_shape(batch):
    import argparse

    import numpy as np

    options = dict(num_layers=2, hidden_size=[16], activation="tanh", weight_init="xavier",
                   loss="cross_entropy", optimizer="sgd", learning_rate=0.1, weight_decay=0.0)
    return list(NeuralNetwork(argparse.Namespace(**options)).forward(np.zeros((batch, 784))).shape)


def keras_data_shape():
    os.environ["KERAS_HOME"] = os.path.join(TREE, "home", ".keras")
    from keras.datasets import mnist

    (x_train, y_train), _ = mnist.load_data()
    return [list(x_train.shape), str(x_train.dtype), mnist.USED]


def write_temp(text):
    path = os.path.join(os.environ["TMPDIR"], "scratch.txt")
    with open(path, "w") as out:
        out.write(text)
    with open(path) as back:
        return back.read()


def overwrite_student_file():
    with open(os.path.join(TREE, "src", "train.py"), "w") as out:
        out.write("print('changed')")
'''


def write(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def copied(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir())


# ---------------------------------------------------------------- copy_tree


def test_regular_files_and_folders_are_copied_with_readable_modes(tmp_path):
    source = tmp_path / "tree"
    write(source / "src" / "ann" / "a.py", b"A = 1\n")
    write(source / "home" / ".keras" / "datasets" / "mnist.npz", b"npz")  # hidden names are the grader's own
    (source / "src" / "ann" / "a.py").chmod(0o600)
    done = copy_tree(str(source), str(tmp_path / "copy"))
    copy = tmp_path / "copy"
    assert copied(copy) == ["home/.keras/datasets/mnist.npz", "src/ann/a.py"]
    assert (copy / "src" / "ann" / "a.py").read_bytes() == b"A = 1\n"
    assert (done.files, done.bytes, done.left_out) == (2, 9, [])
    for path in [copy, *copy.rglob("*")]:
        assert (path.stat().st_mode & 0o777) == (0o755 if path.is_dir() else 0o644)


def test_links_and_special_files_are_left_out(tmp_path):
    outside = write(tmp_path / "outside" / "secret.txt", b"the host's")
    source = tmp_path / "tree"
    write(source / "src" / "real.py")
    (source / "src" / "link.py").symlink_to(outside)
    (source / "linked").symlink_to(outside.parent, target_is_directory=True)
    os.mkfifo(source / "src" / "pipe")
    done = copy_tree(str(source), str(tmp_path / "copy"))
    assert copied(tmp_path / "copy") == ["src/real.py"]
    assert sorted(done.left_out) == ["linked", "src/link.py", "src/pipe"]


@pytest.mark.parametrize("cap, value, kept", [
    ("MAX_TREE_FILES", 2, ["a", "b"]),
    ("MAX_TREE_FILE_BYTES", 3, ["a", "c", "deep/d"]),
    ("MAX_TREE_BYTES", 5, ["a", "c", "deep/d"]),
    ("MAX_TREE_DEPTH", 0, ["a", "b", "c"]),
])
def test_what_is_over_a_cap_is_left_out(tmp_path, monkeypatch, cap, value, kept):
    source = tmp_path / "tree"
    write(source / "a", b"12")
    write(source / "b", b"1234")
    write(source / "c", b"1")
    write(source / "deep" / "d", b"1")
    monkeypatch.setattr(tree_copy, cap, value)
    copy_tree(str(source), str(tmp_path / "copy"))
    assert copied(tmp_path / "copy") == kept


def test_the_caps_hold_everything_staging_can_write(tmp_path):
    """The largest staged tree: every source file twice (a flat repository's package copy), each
    optional file at its cap, the support files and the part modules."""
    layout = repository_layout(tmp_path / "part.py")
    support = standin_files() + data_files()
    largest_bytes = (2 * repository_find.MAX_SOURCE_BYTES + len(OPTIONAL) * repository_find.MAX_OPTIONAL_BYTES
                     + sum(len(data) for _, data in support))
    largest_files = 2 * repository_find.MAX_SOURCE_FILES + len(OPTIONAL) + len(support)
    assert largest_bytes <= tree_copy.MAX_TREE_BYTES and largest_files <= tree_copy.MAX_TREE_FILES
    largest_file = max(repository_find.MAX_OPTIONAL_BYTES, repository_find.MAX_SOURCE_FILE_BYTES)
    assert largest_file <= tree_copy.MAX_TREE_FILE_BYTES
    assert len(layout.stems) + 1 < 32  # the flat files beside tree/ stay few


# ---------------------------------------------------------------- the sandbox's copy


def test_the_worker_folders_hold_the_tree_beside_the_part_modules(tmp_path):
    staged = tmp_path / "staged"
    write(staged / "a1_forward.py", b"X = 1\n")
    write(staged / TREE_FOLDER / "src" / "ann" / "__init__.py", b"")
    write(staged / "notes.txt", b"not the loader's")
    dirs = sb.make_worker_dirs(str(staged), uid=None)
    try:
        submission = Path(dirs.submission)
        assert copied(submission) == ["a1_forward.py", "tree/src/ann/__init__.py"]
    finally:
        shutil.rmtree(dirs.root)


def test_a_linked_tree_is_not_copied(tmp_path):
    staged = tmp_path / "staged"
    write(staged / "a1_forward.py", b"X = 1\n")
    write(tmp_path / "elsewhere" / "src" / "x.py")
    (staged / TREE_FOLDER).symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    dirs = sb.make_worker_dirs(str(staged), uid=None)
    try:
        assert copied(Path(dirs.submission)) == ["a1_forward.py"]
    finally:
        shutil.rmtree(dirs.root)


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def staged_solution(tmp_path_factory) -> Path:
    """The course's solution repository staged with this file's part module."""
    root = tmp_path_factory.mktemp("solution")
    part = root / "part.py"
    part.write_text(PART)
    layout = repository_layout(part)
    repo = shutil.copytree(SOLUTION, root / "alice")
    (submission,) = discover([repo], layout=layout)
    staged = stage(submission, root / "staged", layout=layout)
    assert staged.exercises["a1_forward"] == "src/ann"
    return staged.folder


def _call(worker: WorkerClient, name: str, *args):
    return worker.request({"op": "call", "module": "a1_forward", "name": name, "args": list(args), "kwargs": {}},
                          TIMEOUT)


@pytest.mark.parametrize("sandbox", sandboxes())
def test_a_part_imports_the_students_package_through_the_sandbox(staged_solution, sandbox):
    config = sb.SandboxConfig(use_bwrap="on" if sandbox == "bwrap" else "off", memory_mb=1024)
    with WorkerClient(staged_solution, config=config) as worker:
        assert _call(worker, "logits_shape", 3) == [3, 10]
        assert _call(worker, "keras_data_shape") == [[2000, 28, 28], "uint8", True]
        assert _call(worker, "write_temp", "scratch") == "scratch"  # train.py will write here
        with pytest.raises(StudentCodeError) as caught:
            _call(worker, "overwrite_student_file")
        assert caught.value.status == "blocked"
    assert "print('changed')" not in (staged_solution / TREE_FOLDER / "src" / "train.py").read_text()
