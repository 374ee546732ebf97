"""From paths to submissions: single ones, batches, nbgrader's layout, and what is refused."""
from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from grader.errors import BadSubmissionError
from grader.submission.discover import MAX_ID_CHARS, RESERVED_IDS, Submission, discover, student_id
from grader.submission.exercises import EXERCISES

from .factories import EX1, EX2, EX3, make_zip, notebook_text, student_folder, write


def test_a_folder_with_exercise_files_is_one_submission(tmp_path):
    folder = student_folder(tmp_path, "alice", EX1, EX3)
    assert discover([folder]) == [Submission("alice", folder, "dir")]


def test_a_folder_with_its_files_in_a_single_subfolder_is_one_submission(tmp_path):
    folder = tmp_path / "alice"
    student_folder(folder, "module2a", EX1)
    write(folder / "README.txt", "hello")
    assert discover([folder]) == [Submission("alice", folder, "dir")]


def test_a_zip_is_one_submission_named_after_the_zip(tmp_path):
    archive = make_zip(tmp_path / "bob.zip", {f"{EX1}.py": "x = 1"})
    assert discover([archive]) == [Submission("bob", archive, "zip")]


def test_an_exercise_file_is_its_folders_submission(tmp_path):
    path = write(tmp_path / "carol" / f"{EX3}.ipynb", notebook_text("x = 1"))
    assert discover([path]) == [Submission("carol", path, "file")]


def test_a_file_with_a_stem_inside_its_name_is_named_after_the_file(tmp_path):
    path = write(tmp_path / "downloads" / f"dave_{EX2}.py", "x = 1")
    assert discover([path]) == [Submission(f"dave_{EX2}", path, "file")]


def test_a_relative_dot_path_takes_the_folders_name(tmp_path, monkeypatch):
    folder = student_folder(tmp_path, "erin", EX1)
    monkeypatch.chdir(folder)
    (found,) = discover([Path(".")])
    assert found.student == "erin" and found.kind == "dir"


def test_a_batch_of_mixed_folders_zips_and_files(tmp_path):
    batch = tmp_path / "class"
    alice = student_folder(batch, "alice", EX1)
    bob = make_zip(batch / "bob.zip", {f"bob/{EX3}.py": "x = 1"})
    carol = write(batch / f"carol_{EX2}.ipynb", notebook_text("x = 1"))
    dave = student_folder(batch / "dave", "module2a", EX3)  # nested once, as nbgrader does
    empty = batch / "erin"
    empty.mkdir()  # nothing gradable: still listed, so staging reports it
    write(batch / "grades.csv", "id,score")
    write(batch / ".hidden.py", "x = 1")
    (batch / "__MACOSX").mkdir()
    assert discover([batch]) == [
        Submission("alice", alice, "dir"),
        Submission("bob", bob, "zip"),
        Submission(f"carol_{EX2}", carol, "file"),
        Submission("dave", dave.parent, "dir"),
        Submission("erin", empty, "dir"),
    ]


def test_nbgrader_submitted_folder_is_a_batch_of_student_folders(tmp_path):
    submitted = tmp_path / "course" / "submitted"
    for student in ("s002", "s001"):
        folder = student_folder(submitted / student, "module2a", EX1, EX2)
        write(folder / "timestamp.txt", "2024-01-01 10:00:00")
    # The course folder also holds source/ and release/, with exercise files that are nobody's.
    student_folder(tmp_path / "course" / "source", "module2a", EX1)
    student_folder(tmp_path / "course" / "release", "module2a", EX1)
    expected = [Submission("s001", submitted / "s001", "dir"), Submission("s002", submitted / "s002", "dir")]
    assert discover([submitted]) == expected
    assert discover([tmp_path / "course"]) == expected


def test_a_single_student_under_submitted_is_still_a_batch(tmp_path):
    submitted = tmp_path / "submitted"
    student_folder(submitted / "s001", "module2a", EX1)
    assert discover([submitted]) == [Submission("s001", submitted / "s001", "dir")]


def test_several_paths_are_merged_and_sorted(tmp_path):
    zed = student_folder(tmp_path, "zed", EX1)
    amy = student_folder(tmp_path, "amy", EX1)
    assert [s.student for s in discover([zed, amy])] == ["amy", "zed"]
    assert discover([zed, amy, zed]) == discover([amy, zed])  # a path named twice counts once


def test_the_order_does_not_depend_on_the_file_system(tmp_path):
    names = [f"s{i:03d}" for i in range(20)]
    random.Random(0).shuffle(names)
    for name in names:
        student_folder(tmp_path / "batch", name, EX1)
    assert [s.student for s in discover([tmp_path / "batch"])] == sorted(names)


def test_duplicate_student_ids_name_both_paths(tmp_path):
    batch = tmp_path / "batch"
    folder = student_folder(batch, "alice", EX1)
    archive = make_zip(batch / "alice.zip", {f"{EX1}.py": "x = 1"})
    with pytest.raises(BadSubmissionError) as caught:
        discover([batch])
    message = str(caught.value)
    assert "'alice'" in message and str(folder) in message and str(archive) in message
    assert "Keep one" in message


def test_duplicates_across_paths_are_refused_too(tmp_path):
    first = student_folder(tmp_path / "a", "alice", EX1)
    second = student_folder(tmp_path / "b", "alice", EX1)
    with pytest.raises(BadSubmissionError, match="two submissions for student 'alice'"):
        discover([first, second])


def test_a_missing_path_says_what_was_expected(tmp_path):
    with pytest.raises(BadSubmissionError) as caught:
        discover([tmp_path / "nope"])
    message = str(caught.value)
    assert "does not exist" in message
    assert all(stem in message for stem in EXERCISES)


def test_a_folder_with_nothing_gradable_lists_the_stems(tmp_path):
    write(tmp_path / "empty" / "notes.txt", "hello")
    write(tmp_path / "empty" / "sub" / "x.py", "x = 1")
    with pytest.raises(BadSubmissionError) as caught:
        discover([tmp_path / "empty"])
    message = str(caught.value)
    assert "nothing to grade" in message
    assert all(stem in message for stem in EXERCISES)


def test_a_single_file_not_named_after_an_exercise_is_refused_with_a_suggestion(tmp_path):
    path = write(tmp_path / "ex1_activation_losses.ipynb", "{}")
    with pytest.raises(BadSubmissionError) as caught:
        discover([path])
    assert "did you mean ex1_activations_losses.ipynb?" in str(caught.value)
    assert "rename it" in str(caught.value)


def test_another_kind_of_file_is_refused(tmp_path):
    path = write(tmp_path / "alice.tar.gz", b"\x1f\x8b")
    with pytest.raises(BadSubmissionError, match="neither a folder, a .zip"):
        discover([path])


def test_a_batch_given_through_a_link_is_followed(tmp_path):
    batch = tmp_path / "batch"
    alice = student_folder(batch, "alice", EX1)
    student_folder(batch, "bob", EX1)
    os.symlink(batch, tmp_path / "link")
    assert [s.student for s in discover([tmp_path / "link"])] == ["alice", "bob"]
    assert discover([tmp_path / "link" / "alice"])[0].path.resolve() == alice.resolve()


# ---------------------------------------------------------------- safe student ids


@pytest.mark.parametrize("name", ["alice", "s001", "José", "o_neil-2.v1"])
def test_a_plain_name_is_its_own_id(name):
    assert student_id(name) == name


@pytest.mark.parametrize("name", ["a\\b", "x" * 250, "summary", "Summary", "results", "..", "a b", "a\x00b"])
def test_an_unsafe_or_reserved_name_gets_a_stable_distinct_id(name):
    sid = student_id(name)
    assert sid != name and sid == student_id(name) and len(sid) <= MAX_ID_CHARS
    assert not sid.startswith(".") and all(c not in sid for c in "/\\\x00 ")
    assert sid.casefold() not in RESERVED_IDS


def test_names_that_clean_up_alike_keep_apart():
    assert len({student_id(n) for n in ("a b", "a/b", "a\\b", "a?b", "a_b")}) == 5


def test_discovery_renames_and_remembers_the_name(tmp_path):
    batch = tmp_path / "batch"
    student_folder(batch, "summary", EX1)
    student_folder(batch, "bob", EX1)
    found = {s.name or s.student: s for s in discover([batch])}
    assert found["summary"].student == student_id("summary") and found["bob"].student == "bob"
    assert found["bob"].name == ""
