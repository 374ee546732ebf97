"""Staging: only exercise files reach the worker's folder; one bad file spoils only its exercise."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from grader.errors import BadSubmissionError
from grader.results import GradingError
from grader.submission import staging
from grader.submission.discover import Submission, discover
from grader.submission.staging import stage

from .factories import (
    EX1,
    EX2,
    EX3,
    EX4,
    LINK_MODE,
    code,
    make_zip,
    notebook_text,
    student_folder,
    write,
    write_module,
    write_notebook,
)


def staged_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def dir_submission(folder: Path) -> Submission:
    return Submission(folder.name, folder, "dir")


def test_a_folder_is_staged_as_modules_and_cell_lists_only(tmp_path):
    folder = tmp_path / "alice"
    write_notebook(folder, EX1, "import numpy as np", "%matplotlib inline\nx = 1",
                   code("assert x == 1", grade=True, solution=False))
    write_module(folder, EX3, "def forward():\n    return 1\n")
    write(folder / "notes.txt", "my notes")
    write(folder / "helper.py", "SECRET = 1")
    write(folder / "data" / "x.npy", b"\x93NUMPY")
    result = stage(dir_submission(folder), tmp_path / "staged")

    assert staged_files(result.folder) == [f"{EX1}.cells.json", f"{EX3}.py"]
    assert json.loads((result.folder / f"{EX1}.cells.json").read_text()) == {
        "cells": [{"index": 0, "source": "import numpy as np"}, {"index": 1, "source": "pass\nx = 1"}]}
    assert (result.folder / f"{EX3}.py").read_text() == "def forward():\n    return 1\n"
    assert result.exercises == {EX1: f"{EX1}.ipynb", EX3: f"{EX3}.py"}
    assert result.problems == []
    assert result.warnings == ["not graded (not exercise files): data/, helper.py, notes.txt"]


def test_the_staged_folder_is_world_readable(tmp_path):
    old_umask = os.umask(0o077)
    try:
        result = stage(dir_submission(student_folder(tmp_path, "alice", EX1, EX2)), tmp_path / "staged")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(result.folder.stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in result.folder.iterdir()} == {0o644}


def test_a_notebook_wins_over_a_module_and_the_warning_says_so(tmp_path):
    folder = student_folder(tmp_path, "alice", EX1)
    write_module(folder, EX1, "x = 2")
    result = stage(dir_submission(folder), tmp_path / "staged")
    assert staged_files(result.folder) == [f"{EX1}.cells.json"]
    assert any(f"graded {EX1}.ipynb and ignored {EX1}.py" in w for w in result.warnings)


def test_a_zipped_folder_is_staged_and_hashed_by_its_bytes(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    archive = make_zip(tmp_path / "bob.zip", {
        f"bob/{EX1}.ipynb": notebook_text("x = 1"),
        f"bob/{EX2}.py": "y = 2\n",
        "bob/readme.md": "hi",
        f"__MACOSX/bob/._{EX2}.py": b"\x00",
    })
    result = stage(Submission("bob", archive, "zip"), tmp_path / "staged")
    assert staged_files(result.folder) == [f"{EX1}.cells.json", f"{EX2}.py"]
    assert result.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert result.warnings == ["not graded (not exercise files): bob/readme.md"]
    assert list(scratch.iterdir()) == []  # the private extraction folder is gone


def test_a_link_in_a_zip_spoils_only_its_exercise(tmp_path):
    archive = make_zip(tmp_path / "bob.zip", {f"{EX1}.py": "/etc/passwd", f"{EX2}.py": "y = 2",
                                              "other": "/etc"},
                       modes={f"{EX1}.py": LINK_MODE, "other": LINK_MODE})
    result = stage(Submission("bob", archive, "zip"), tmp_path / "staged")
    assert staged_files(result.folder) == [f"{EX2}.py"]
    (problem,) = result.problems
    assert problem.kind == "bad_submission" and problem.exercise == EX1
    assert "symbolic link" in problem.message and "put the file itself in the zip" in problem.message
    assert any("left out of the zip: other" in w for w in result.warnings)


def test_a_zip_of_nothing_but_a_link_says_so(tmp_path):
    archive = make_zip(tmp_path / "bob.zip", {f"{EX1}.py": "/etc/passwd"}, modes={f"{EX1}.py": LINK_MODE})
    with pytest.raises(BadSubmissionError) as caught:
        stage(Submission("bob", archive, "zip"), tmp_path / "staged")
    assert "holds no exercise files" in str(caught.value) and "symbolic link" in str(caught.value)


def test_a_bad_zip_stops_the_submission(tmp_path):
    path = write(tmp_path / "bob.zip", b"this is not a zip")
    with pytest.raises(BadSubmissionError, match="bob.zip is not a readable zip file"):
        stage(Submission("bob", path, "zip"), tmp_path / "staged")


def test_a_link_pointing_outside_is_never_followed(tmp_path):
    secret = write(tmp_path / "secret" / "answers.py", "SOLUTION = 42\n")
    folder = student_folder(tmp_path, "alice", EX2)
    os.symlink(secret, folder / f"{EX1}.py")
    result = stage(dir_submission(folder), tmp_path / "staged")
    assert staged_files(result.folder) == [f"{EX2}.cells.json"]
    assert result.problems == [GradingError(
        "bad_submission",
        f"{EX1}.py is a symbolic link; links are not followed, so put the file itself in the submission.",
        EX1)]
    assert all("SOLUTION" not in p.read_text() for p in result.folder.iterdir())


def test_a_pipe_named_like_an_exercise_is_not_opened(tmp_path):
    folder = student_folder(tmp_path, "alice", EX2)
    os.mkfifo(folder / f"{EX1}.py")
    result = stage(dir_submission(folder), tmp_path / "staged")  # would hang if opened
    assert [(p.kind, p.exercise) for p in result.problems] == [("bad_submission", EX1)]
    assert "not a regular file" in result.problems[0].message
    assert len(result.sha256) == 64


def test_a_module_that_is_not_utf8_spoils_only_its_exercise(tmp_path):
    folder = student_folder(tmp_path, "alice", EX2)
    write(folder / f"{EX1}.py", "# coding: latin-1\nname = 'caf\u00e9'\n".encode("latin-1"))
    result = stage(dir_submission(folder), tmp_path / "staged")
    assert staged_files(result.folder) == [f"{EX2}.cells.json"]
    (problem,) = result.problems
    assert (problem.kind, problem.exercise) == ("bad_submission", EX1)
    assert "is not UTF-8 text (byte 0xe9 on line 2)" in problem.message and "UTF-8 encoding" in problem.message
    assert result.exercises == {EX2: f"{EX2}.ipynb"}


def test_a_module_with_a_syntax_error_is_staged_and_flagged(tmp_path):
    folder = tmp_path / "alice"
    write_module(folder, EX3, "def forward(:\n    pass\n")
    write_module(folder, EX4, "class Value:\n    pass\n")
    result = stage(dir_submission(folder), tmp_path / "staged")
    assert staged_files(result.folder) == [f"{EX3}.py", f"{EX4}.py"]
    (problem,) = result.problems
    assert (problem.kind, problem.exercise) == ("syntax", EX3)
    assert problem.message.startswith(f"{EX3}.py line 1: ") and "run the file once" in problem.message
    assert result.exercises == {EX3: f"{EX3}.py", EX4: f"{EX4}.py"}


def test_a_module_with_null_bytes_is_flagged(tmp_path):
    folder = tmp_path / "alice"
    write(folder / f"{EX3}.py", b"x = 1\x00\n")
    result = stage(dir_submission(folder), tmp_path / "staged")
    assert [(p.kind, p.exercise) for p in result.problems] == [("syntax", EX3)]


def test_an_unreadable_notebook_spoils_only_its_exercise(tmp_path):
    folder = student_folder(tmp_path, "alice", EX2)
    write(folder / f"{EX1}.ipynb", '{"cells": [')
    result = stage(dir_submission(folder), tmp_path / "staged")
    assert staged_files(result.folder) == [f"{EX2}.cells.json"]
    (problem,) = result.problems
    assert (problem.kind, problem.exercise) == ("bad_submission", EX1)
    assert f"{EX1}.ipynb cannot be read as a Jupyter notebook" in problem.message


def test_a_file_over_the_size_cap_spoils_only_its_exercise(tmp_path, monkeypatch):
    monkeypatch.setattr(staging, "MAX_EXERCISE_FILE_BYTES", 1000)
    folder = student_folder(tmp_path, "alice", EX2)
    write_module(folder, EX1, "x = 1\n" * 200)
    result = stage(dir_submission(folder), tmp_path / "staged")
    assert [(p.kind, p.exercise) for p in result.problems] == [("bad_submission", EX1)]
    assert "larger than" in result.problems[0].message and "clear its outputs" in result.problems[0].message


def test_a_notebook_without_code_cells_is_staged_with_a_warning(tmp_path):
    folder = tmp_path / "alice"
    write(folder / f"{EX1}.ipynb", notebook_text(markdown_first=True))
    result = stage(dir_submission(folder), tmp_path / "staged")
    assert json.loads((result.folder / f"{EX1}.cells.json").read_text()) == {"cells": []}
    assert result.warnings == [f"{EX1}.ipynb has no code cells to run."]


def test_a_single_file_submission(tmp_path):
    path = write(tmp_path / "downloads" / f"carol_{EX3}.py", "x = 1\n")
    write(tmp_path / "downloads" / f"{EX1}.py", "not carol's")
    result = stage(Submission(f"carol_{EX3}", path, "file"), tmp_path / "staged")
    assert staged_files(result.folder) == [f"{EX3}.py"]
    assert result.exercises == {EX3: f"carol_{EX3}.py"}


def test_a_single_file_not_named_after_an_exercise(tmp_path):
    path = write(tmp_path / "helper.py", "x = 1\n")
    with pytest.raises(BadSubmissionError, match="helper.py is not named after an exercise"):
        stage(Submission("helper", path, "file"), tmp_path / "staged")


def test_no_exercise_files_lists_what_was_found_with_suggestions(tmp_path):
    folder = tmp_path / "alice"
    write(folder / "ex1_activation_losses.ipynb", "{}")
    write(folder / "notes.txt", "")
    with pytest.raises(BadSubmissionError) as caught:
        stage(dir_submission(folder), tmp_path / "staged")
    message = str(caught.value)
    assert "alice holds no exercise files" in message
    assert "ex1_activation_losses.ipynb (did you mean ex1_activations_losses.ipynb?)" in message
    assert EX4 in message


def test_exercise_files_in_several_folders_are_ambiguous(tmp_path):
    folder = tmp_path / "alice"
    student_folder(folder, "draft", EX1)
    student_folder(folder, "final", EX1)
    with pytest.raises(BadSubmissionError, match=r"several folders \(draft/, final/\); put the files"):
        stage(dir_submission(folder), tmp_path / "staged")


def test_the_destination_must_be_empty(tmp_path):
    folder = student_folder(tmp_path, "alice", EX1)
    write(tmp_path / "staged" / "old.py", "")
    with pytest.raises(ValueError, match="not empty"):
        stage(dir_submission(folder), tmp_path / "staged")


def test_nbgrader_layout_end_to_end(tmp_path):
    submitted = tmp_path / "submitted"
    folder = student_folder(submitted / "s001", "module2a", EX1, EX3)
    write(folder / "timestamp.txt", "2024-01-01")
    (submission,) = discover([submitted])
    result = stage(submission, tmp_path / "staged")
    assert staged_files(result.folder) == [f"{EX1}.cells.json", f"{EX3}.cells.json"]
    assert result.warnings == ["not graded (not exercise files): module2a/timestamp.txt"]


def test_a_batch_goes_on_past_a_bad_submission(tmp_path):
    batch = tmp_path / "class"
    student_folder(batch, "alice", EX1)
    make_zip(batch / "bob.zip", {f"{EX2}.py": "y = 2"})
    write(batch / "carol.zip", b"broken")
    (batch / "dave").mkdir()
    outcomes = {}
    for submission in discover([batch]):
        try:
            outcomes[submission.student] = staged_files(stage(submission, tmp_path / submission.student).folder)
        except BadSubmissionError as exc:
            outcomes[submission.student] = str(exc).split(" ", 2)[:2]
    assert outcomes == {"alice": [f"{EX1}.cells.json"], "bob": [f"{EX2}.py"],
                        "carol": ["carol.zip", "is"], "dave": ["dave", "holds"]}


def _hash_of(folder: Path, tmp_path: Path, name: str) -> str:
    return stage(dir_submission(folder), tmp_path / name).sha256


def test_the_hash_depends_on_the_graded_files_only(tmp_path):
    first = student_folder(tmp_path / "a", "alice", EX1, EX3)
    second = Path(shutil.copytree(first, tmp_path / "b" / "bob"))  # same files, another place
    write(second / "notes.txt", "ignored files do not count")
    os.utime(second / f"{EX1}.ipynb", (0, 0))
    reference = _hash_of(first, tmp_path, "s1")
    assert len(reference) == 64
    assert _hash_of(second, tmp_path, "s2") == reference
    assert _hash_of(first, tmp_path, "s3") == reference  # and it is stable

    data = bytearray((second / f"{EX3}.ipynb").read_bytes())
    data[-2] ^= 0x01  # one bit of one byte
    (second / f"{EX3}.ipynb").write_bytes(bytes(data))
    assert _hash_of(second, tmp_path, "s4") != reference


def test_the_hash_sees_names_as_well_as_bytes(tmp_path):
    folder = tmp_path / "alice"
    write_module(folder, EX1, "x = 1\n")
    before = _hash_of(folder, tmp_path, "s1")
    (folder / f"{EX1}.py").rename(folder / f"{EX1} (1).py")
    assert _hash_of(folder, tmp_path, "s2") != before


def test_a_single_files_hash_does_not_depend_on_where_it_is(tmp_path):
    first = write(tmp_path / "a" / f"{EX1}.py", "x = 1\n")
    second = write(tmp_path / "b" / "c" / f"{EX1}.py", "x = 1\n")
    hashes = [stage(Submission("s", path, "file"), tmp_path / f"st{i}").sha256
              for i, path in enumerate([first, second])]
    assert hashes[0] == hashes[1]
    assert hashes[0] == stage(dir_submission(first.parent), tmp_path / "st3").sha256
