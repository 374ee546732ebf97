"""Repository submissions (da6401-a1): which folders are one student, what is staged, and the hash.

Every repository here is built from a few small files of the tests' own (`repository`), or is a
copy of the course's solution tree; the part module is a one-line file in tmp_path.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from grader.assignments.da6401_a1.layout import PARTS, REQUIRED, repository_layout
from grader.assignments.da6401_a1.support import STANDINS
from grader.errors import BadSubmissionError
from grader.submission import repository_find
from grader.submission.discover import Submission, discover
from grader.submission.exercises import MODULE_2A_LAYOUT
from grader.submission.layout import Layout
from grader.submission.repository import RepositoryLayout
from grader.submission.repository_find import grouped_paths
from grader.submission.staging import stage, submission_sha256
from grader.worker.tree_copy import TREE_FOLDER
from tests.grader.submission.factories import make_zip, write

SOLUTION = Path(__file__).resolve().parents[3] / "grader" / "assignments" / "da6401_a1" / "solution"
PART_TEXT = "PART = 'the grader probe'\n"


@pytest.fixture
def layout(tmp_path) -> RepositoryLayout:
    part = write(tmp_path / "grader-side" / "part.py", PART_TEXT)
    return repository_layout(part)


def skeleton_files(prefix: str = "") -> dict[str, str]:
    """The skeleton's required files, each a one-line module of its own."""
    return {prefix + name: f"NAME = {name!r}\n" for name in REQUIRED}


def repository(folder: Path, files: dict[str, str | bytes] | None = None) -> Path:
    """A repository at `folder` holding `files` (default: the skeleton's files)."""
    for name, content in (skeleton_files() if files is None else files).items():
        write(folder / name, content)
    return folder


def zipped(path: Path, files: dict[str, str | bytes]) -> Path:
    return make_zip(path, files)


def students(found: list[Submission]) -> list[tuple[str, str]]:
    return [(s.student, s.kind) for s in found]


def staged_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# ---------------------------------------------------------------- the layout


def test_both_layouts_are_layouts(layout):
    assert isinstance(layout, Layout) and isinstance(MODULE_2A_LAYOUT, Layout)
    assert layout.stems == PARTS and layout.extensions == ()


def test_expected_names_write_the_skeleton_compactly(layout):
    assert layout.expected_names().endswith(
        "src/ann/{activations,neural_layer,neural_network,objective_functions,optimizers}.py, "
        "src/{train,inference}.py, src/utils/data_loader.py")
    assert grouped_paths(("a.py", "b/c.py", "b/d.py", "e.json")) == "a.py, b/{c,d}.py, e.json"


@pytest.mark.parametrize("package", ["ann", "src/ann/deep", "../ann", ".hidden/ann", ""])
def test_the_package_is_a_source_folder_and_a_name(tmp_path, package):
    with pytest.raises(ValueError, match="source/name"):
        RepositoryLayout(stems=("p",), part_source=tmp_path / "p.py", package=package)


def test_suggestion_points_to_the_skeleton_place(layout):
    assert layout.suggestion_for("neural_network.py") == " (it belongs in src/ann/neural_network.py)"
    assert layout.suggestion_for("notes.py") == ""


# ---------------------------------------------------------------- discovery


def test_a_class_of_repositories_in_every_shape(tmp_path, layout):
    course = tmp_path / "course"
    repository(course / "alice")  # a folder
    zipped(course / "bob.zip", skeleton_files("repo-main/"))  # GitHub's "Download ZIP"
    repository(course / "assignment-1-carol")  # GitHub Classroom's name
    repository(course / "dave" / "repo-main")  # a zip unpacked into the student's folder
    write(course / "erin" / "README.md", "# nothing yet")  # a student without code still gets a report
    write(course / "notes.txt", "the instructor's")
    write(course / "grade_all.py", "print('the instructor script')")  # not a student
    found = discover([course], layout=layout)
    assert students(found) == [("alice", "dir"), ("assignment-1-carol", "dir"), ("bob", "zip"),
                               ("dave", "dir"), ("erin", "dir")]


def test_a_repository_path_is_one_submission(tmp_path, layout):
    repo = repository(tmp_path / "alice-a1")
    zipped(repo / "old_attempt.zip", skeleton_files())
    repository(repo / "experiments" / "copy")  # whatever else it holds
    assert students(discover([repo], layout=layout)) == [("alice-a1", "dir")]


def test_a_folder_holding_one_repository_is_that_submission(tmp_path, layout):
    repository(tmp_path / "alice" / "downloads" / "repo-main")
    write(tmp_path / "alice" / "mail.txt", "here is my work")
    assert students(discover([tmp_path / "alice"], layout=layout)) == [("alice", "dir")]


def test_an_old_flat_repository_holding_zips_is_one_submission(tmp_path, layout):
    old = tmp_path / "alice-old"
    for name in ("train.py", "neural_network.py", "activations.py", "README.md"):
        write(old / name, f"# {name}\n")
    for index in range(12):
        zipped(old / f"run{index}.zip", {"log.txt": "epoch 1"})
    assert students(discover([old], layout=layout)) == [("alice-old", "dir")]


def test_a_readme_or_git_does_not_make_a_class_one_submission(tmp_path, layout):
    course = tmp_path / "course"
    write(course / "README.md", "# Assignment 1 submissions")
    (course / ".git").mkdir(parents=True)
    repository(course / "alice")
    repository(course / "bob")
    assert students(discover([course], layout=layout)) == [("alice", "dir"), ("bob", "dir")]
    zips = tmp_path / "zips"
    write(zips / "README.md", "# downloaded from the LMS")
    zipped(zips / "alice.zip", skeleton_files())
    zipped(zips / "bob.zip", skeleton_files())
    assert students(discover([zips], layout=layout)) == [("alice", "zip"), ("bob", "zip")]


def test_a_repository_with_readme_and_git_is_one_submission_even_if_its_code_is_below(tmp_path, layout):
    repo = tmp_path / "alice"
    write(repo / "README.md", "# My assignment")
    (repo / ".git").mkdir()
    repository(repo / "da6401_assignment1")
    assert students(discover([repo], layout=layout)) == [("alice", "dir")]
    staged = stage(discover([repo], layout=layout)[0], tmp_path / "staged", layout=layout)
    assert (staged.folder / TREE_FOLDER / "src" / "ann" / "neural_network.py").is_file()


def test_a_single_file_is_not_a_repository(tmp_path, layout):
    with pytest.raises(BadSubmissionError, match="is neither a folder nor a .zip"):
        discover([write(tmp_path / "neural_network.py", "x = 1")], layout=layout)


def test_module_2a_message_for_other_files_is_unchanged(tmp_path):
    with pytest.raises(BadSubmissionError, match=r"is neither a folder, a \.zip, a \.ipynb nor a \.py\. "):
        discover([write(tmp_path / "answers.txt", "42")])


# ---------------------------------------------------------------- staging


def test_staging_writes_the_tree_the_parts_and_the_support(tmp_path, layout):
    repo = repository(tmp_path / "alice")
    write(repo / "src" / "ann" / "extra" / "helpers.py", "HELP = 1\n")
    write(repo / "src" / "data.csv", "1,2,3")  # not Python: not staged
    write(repo / "src" / "__pycache__" / "train.cpython-311.pyc", b"\0")
    write(repo / "src" / "venv" / "lib" / "site.py", "x = 1\n")
    write(repo / "train.py", "# a stray copy at the root\n")
    write(repo / "models" / "best_model.npy", b"\x93NUMPY model")
    write(repo / "best_config.json", '{"epochs": 1}')
    write(repo / "README.md", "# alice")
    staged = stage(Submission("alice", repo, "dir"), tmp_path / "staged", layout=layout)

    tree = staged.folder / TREE_FOLDER
    student = [name for name in staged_files(tree) if not name.startswith(("standins/", "home/"))]
    assert student == sorted(["best_config.json", "best_model.npy", "src/ann/extra/helpers.py",
                              *(name for name in REQUIRED)])
    assert (tree / "best_model.npy").read_bytes() == b"\x93NUMPY model"
    assert staged.warnings == ["best_model.npy: graded models/best_model.npy"]
    assert staged.exercises == {stem: "src/ann" for stem in PARTS}
    for stem in PARTS:
        assert (staged.folder / f"{stem}.py").read_text() == PART_TEXT
    assert (tree / STANDINS / "keras" / "datasets" / "mnist.py").is_file()
    assert (tree / STANDINS / "wandb" / "__init__.py").is_file()
    assert (tree / STANDINS / "tensorflow_keras" / "tensorflow" / "keras" / "datasets" / "mnist.py").is_file()
    assert not (tree / STANDINS / "__init__.py").exists()  # the grader's side of the stand-ins
    assert (tree / "home" / ".keras" / "datasets" / "mnist.npz").is_file()
    assert not list(tree.rglob("*.pyc"))
    for path in [staged.folder, *staged.folder.rglob("*")]:
        assert (path.stat().st_mode & 0o777) == (0o755 if path.is_dir() else 0o644), path


def test_staging_a_copy_of_the_solution_is_fast_and_small(tmp_path, layout):
    repo = shutil.copytree(SOLUTION, tmp_path / "solution")
    stage(Submission("warm", repo, "dir"), tmp_path / "warm", layout=layout)  # the data is made once per process
    import time

    began = time.perf_counter()
    staged = stage(Submission("solution", repo, "dir"), tmp_path / "staged", layout=layout)
    elapsed = time.perf_counter() - began
    size = sum(p.stat().st_size for p in staged.folder.rglob("*") if p.is_file())
    assert elapsed < 0.5 and size < 8 * 2**20, (elapsed, size)
    assert staged.problems == [] and staged.warnings == []


def test_missing_skeleton_files_are_named(tmp_path, layout):
    files = skeleton_files()
    del files["src/ann/optimizers.py"], files["src/inference.py"]
    staged = stage(Submission("alice", repository(tmp_path / "alice", files), "dir"), tmp_path / "s", layout=layout)
    assert staged.warnings == ["missing from the repository: src/ann/optimizers.py, src/inference.py; "
                               "what needs them cannot be graded."]
    assert staged.exercises == {stem: "src/ann" for stem in PARTS}


def test_a_repository_without_its_package_says_what_is_missing_and_what_is_there(tmp_path, layout):
    repo = tmp_path / "alice"
    write(repo / "README.md", "# A1")
    write(repo / "code" / "neural_network.py", "class NeuralNetwork: pass\n")
    write(repo / "A1.ipynb", "{}")
    write(repo / "src" / "ann" / "notes.txt", "todo")
    assert students(discover([repo], layout=layout)) == [("alice", "dir")]  # one report
    with pytest.raises(BadSubmissionError) as caught:
        stage(Submission("alice", repo, "dir"), tmp_path / "s", layout=layout)
    message = str(caught.value)
    assert message.startswith("alice holds no src/ann/ folder with Python files")
    assert ("Missing: all of the skeleton's files (src/ann/{activations,neural_layer,neural_network,"
            "objective_functions,optimizers}.py, src/{train,inference}.py, src/utils/data_loader.py). ") in message
    assert "Found instead: src/ann/ has no .py files in it; code/neural_network.py; " in message
    assert "at the top: A1.ipynb, README.md, code/, src/" in message
    assert str(tmp_path) not in message
    assert submission_sha256(Submission("alice", repo, "dir"), layout) == ""


def test_a_linked_package_is_named_as_a_link(tmp_path, layout):
    elsewhere = repository(tmp_path / "elsewhere")
    repo = tmp_path / "alice"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "ann").symlink_to(elsewhere / "src" / "ann")
    write(repo / "src" / "train.py", "x = 1\n")
    with pytest.raises(BadSubmissionError, match=r"src/ann is a symbolic link \(links are not followed"):
        stage(Submission("alice", repo, "dir"), tmp_path / "s", layout=layout)


def test_ann_at_the_root_is_graded_as_the_package_with_a_warning(tmp_path, layout):
    repo = repository(tmp_path / "alice", {name.removeprefix("src/"): text for name, text in skeleton_files().items()})
    staged = stage(Submission("alice", repo, "dir"), tmp_path / "s", layout=layout)
    tree = staged.folder / TREE_FOLDER
    assert (tree / "src" / "ann" / "neural_network.py").read_text() == "NAME = 'src/ann/neural_network.py'\n"
    assert (tree / "src" / "train.py").is_file() and (tree / "src" / "utils" / "data_loader.py").is_file()
    assert staged.warnings[0].startswith("no src/ann/ in the repository: graded ann/ as the package src/ann/")
    assert len(staged.warnings) == 1 and staged.exercises == {stem: "ann" for stem in PARTS}


def test_an_old_flat_repository_is_graded_as_the_package_with_a_warning(tmp_path, layout):
    repo = tmp_path / "alice-old"
    for name in ("train.py", "neural_network.py", "activations.py", "optimizers.py"):
        write(repo / name, f"from activations import *  # {name}\n")
    zipped(repo / "runs.zip", {"log.txt": "epoch 1"})
    staged = stage(discover([repo], layout=layout)[0], tmp_path / "s", layout=layout)
    tree = staged.folder / TREE_FOLDER / "src"
    names = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*.py"))
    assert names == ["activations.py", "ann/activations.py", "ann/neural_network.py", "ann/optimizers.py",
                     "ann/train.py", "neural_network.py", "optimizers.py", "train.py"]
    assert staged.warnings[0] == ("no src/ann/ in the repository: graded the Python files beside train.py and "
                                  "neural_network.py as the package src/ann/ (and as src/). Move them into "
                                  "src/ann/ as in the skeleton.")
    assert staged.warnings[1].startswith("missing from the repository: src/ann/neural_layer.py, "
                                         "src/ann/objective_functions.py, src/inference.py")


def test_the_skeleton_wins_over_an_older_copy_and_says_so(tmp_path, layout):
    repo = repository(tmp_path / "alice" / "new")
    for name in ("train.py", "neural_network.py"):
        write(tmp_path / "alice" / name, "# the old attempt\n")
    staged = stage(Submission("alice", tmp_path / "alice", "dir"), tmp_path / "s", layout=layout)
    assert staged.warnings == ["not graded: the submission's top folder (the graded package is new/src/ann/)"]
    assert (staged.folder / TREE_FOLDER / "src" / "ann" / "neural_network.py").is_file()
    assert repo.is_dir()


def test_two_equally_likely_repositories_are_refused(tmp_path, layout):
    write(tmp_path / "alice" / "train.py", "# which one?\n")
    repository(tmp_path / "alice" / "v1")
    repository(tmp_path / "alice" / "v2")
    with pytest.raises(BadSubmissionError, match=r"2 equally likely copies of the package src/ann/: "
                                                 r"v1/src/ann/, v2/src/ann/"):
        stage(Submission("alice", tmp_path / "alice", "dir"), tmp_path / "s", layout=layout)


def test_the_package_is_searched_two_folders_deep_and_no_deeper(tmp_path, layout):
    repository(tmp_path / "alice" / "a" / "b")
    stage(Submission("alice", tmp_path / "alice", "dir"), tmp_path / "s1", layout=layout)
    repository(tmp_path / "bob" / "a" / "b" / "c")
    with pytest.raises(BadSubmissionError, match="holds no src/ann/"):
        stage(Submission("bob", tmp_path / "bob", "dir"), tmp_path / "s2", layout=layout)


@pytest.mark.parametrize("hidden", [".git", "venv", ".venv", "node_modules", "__pycache__", "wandb", "__MACOSX"])
def test_tool_folders_are_never_searched(tmp_path, layout, hidden):
    repository(tmp_path / "alice" / hidden)
    write(tmp_path / "alice" / "README.md", "# alice")
    with pytest.raises(BadSubmissionError, match="holds no src/ann/"):
        stage(Submission("alice", tmp_path / "alice", "dir"), tmp_path / "s", layout=layout)


def test_zips_of_repositories_skip_tool_folders(tmp_path, layout):
    entries = {**skeleton_files("repo-main/"), "repo-main/best_model.npy": b"\x93NUMPY",
               **{f"repo-main/.git/objects/{i:02x}": b"git" for i in range(50)},
               "repo-main/venv/lib/python3.11/site.py": "x = 1\n"}
    archive = zipped(tmp_path / "bob.zip", entries)
    staged = stage(Submission("bob", archive, "zip"), tmp_path / "s", layout=layout)
    tree = staged.folder / TREE_FOLDER
    assert (tree / "best_model.npy").read_bytes() == b"\x93NUMPY"
    assert (tree / "src" / "ann" / "optimizers.py").is_file() and not list(tree.rglob("site.py"))
    assert staged.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert submission_sha256(Submission("bob", archive, "zip"), layout) == staged.sha256


# ---------------------------------------------------------------- caps and links


@pytest.mark.parametrize("cap, value, expected", [
    ("MAX_SOURCE_FILES", 5, r"src/ holds more than 5 \.py files"),
    ("MAX_SOURCE_FILE_BYTES", 60, r"src/ann/big\.py is 0\.0 MiB, over the 0 MiB limit for one Python file"),
    ("MAX_SOURCE_BYTES", 200, r"the Python files in src/ hold more than 0 MiB"),
    ("MAX_WALKED_ENTRIES", 6, r"src/ holds more than 6 files and folders"),
])
def test_over_a_cap_is_a_bad_submission_saying_which(tmp_path, layout, monkeypatch, cap, value, expected):
    repo = repository(tmp_path / "alice")
    write(repo / "src" / "ann" / "big.py", "# " + "x" * 100 + "\n")
    monkeypatch.setattr(repository_find, cap, value)
    with pytest.raises(BadSubmissionError, match=expected) as caught:
        stage(Submission("alice", repo, "dir"), tmp_path / "s", layout=layout)
    assert str(caught.value).startswith("alice: ") and "Keep only your code in src/" in str(caught.value)


def test_an_oversized_model_is_left_out_with_a_warning(tmp_path, layout, monkeypatch):
    repo = repository(tmp_path / "alice")
    write(repo / "best_model.npy", b"\0" * 2048)
    monkeypatch.setattr(repository_find, "MAX_OPTIONAL_BYTES", 1024)
    staged = stage(Submission("alice", repo, "dir"), tmp_path / "s", layout=layout)
    assert not (staged.folder / TREE_FOLDER / "best_model.npy").exists()
    assert staged.warnings == ["left out: best_model.npy is 0.0 MiB, over the 0 MiB limit; "
                               "what needs it cannot be graded"]


def test_a_crowded_data_folder_is_not_searched_for_code(tmp_path, layout, monkeypatch):
    repo = repository(tmp_path / "alice")
    for index in range(12):
        write(repo / "src" / "images" / f"{index}.png", b"png")
    write(repo / "src" / "images" / "hidden.py", "x = 1\n")
    monkeypatch.setattr(repository_find, "MAX_FOLDER_ENTRIES", 10)
    staged = stage(Submission("alice", repo, "dir"), tmp_path / "s", layout=layout)
    assert not (staged.folder / TREE_FOLDER / "src" / "images").exists()
    assert staged.warnings == ["not searched for Python files: src/images/ (more than 10 entries)"]


def test_links_are_never_staged_or_followed(tmp_path, layout):
    secret = write(tmp_path / "secret" / "key.py", "KEY = 'the grader machine'\n")
    repo = repository(tmp_path / "alice")
    (repo / "src" / "ann" / "stolen.py").symlink_to(secret)
    (repo / "src" / "library").symlink_to(secret.parent, target_is_directory=True)
    (repo / "best_model.npy").symlink_to(secret)
    os.mkfifo(repo / "src" / "ann" / "pipe.py")
    staged = stage(Submission("alice", repo, "dir"), tmp_path / "s", layout=layout)
    tree = staged.folder / TREE_FOLDER
    assert not any(p.is_symlink() for p in tree.rglob("*"))
    assert "the grader machine" not in "".join(p.read_text() for p in tree.rglob("*.py"))
    assert not (tree / "best_model.npy").exists()
    assert staged.warnings == [
        "left out: src/ann/stolen.py, src/library (symbolic links are not followed: put the files themselves "
        "in the repository)",
        "left out: best_model.npy (not a regular file; symbolic links are not followed)"]


# ---------------------------------------------------------------- the hash


def test_the_hash_covers_the_student_files_only(tmp_path, layout):
    first = repository(tmp_path / "one" / "alice")
    write(first / "best_model.npy", b"\x93NUMPY weights")
    staged = stage(Submission("alice", first, "dir"), tmp_path / "s1", layout=layout)
    assert staged.sha256 and submission_sha256(Submission("alice", first, "dir"), layout) == staged.sha256

    moved = tmp_path / "elsewhere" / "renamed"
    shutil.move(str(first), moved)
    write(moved / "README.md", "# touched")
    write(moved / "src" / "results.csv", "0.9")
    write(moved / ".git" / "HEAD", "ref: refs/heads/main")
    write(moved / "wandb" / "run.py", "x = 2\n")
    assert stage(Submission("alice", moved, "dir"), tmp_path / "s2", layout=layout).sha256 == staged.sha256

    write(moved / "src" / "ann" / "activations.py", "NAME = 'changed'\n")
    changed = submission_sha256(Submission("alice", moved, "dir"), layout)
    write(moved / "best_model.npy", b"\x93NUMPY other weights")
    assert len({staged.sha256, changed, submission_sha256(Submission("alice", moved, "dir"), layout)}) == 3


def test_the_hash_of_a_nested_repository_does_not_depend_on_its_folder(tmp_path, layout):
    repository(tmp_path / "a" / "alice")
    repository(tmp_path / "b" / "alice" / "repo-main")
    hashes = {submission_sha256(Submission("alice", path, "dir"), layout)
              for path in (tmp_path / "a" / "alice", tmp_path / "b" / "alice")}
    assert len(hashes) == 1 and "" not in hashes
