"""From the paths an instructor names to a sorted list of submissions, one per student.

A path is one of:

- a `.zip`: one submission; the student is the zip's name without `.zip`;
- a `.ipynb`/`.py` named after an exercise (`ex3_mlp_backprop.ipynb`, see `exercises.py`): one
  submission; the student is the *parent folder's* name, since the file name says which exercise
  it is, not whose (`alice/ex3_mlp_backprop.ipynb` is alice's);
- a `.ipynb`/`.py` with an exercise stem inside a longer name (`alice_ex3_mlp_backprop.ipynb`,
  as LMS downloads are named): one submission; the student is the file name without extension;
- a folder holding exercise files directly, or a folder whose only gradable entry is one
  subfolder holding them (`alice/hw/...`, nbgrader's `<student>/<assignment>/`): one submission;
  the student is the folder's name;
- nbgrader's `submitted/` folder, or a course folder that holds one: a batch of its student
  folders;
- any other folder: a batch. Each visible subfolder, zip and `.ipynb`/`.py` in it is one
  submission, even one that turns out to hold nothing gradable, so that no student silently
  disappears from the grades (staging then reports what is wrong). Other files are skipped.

A batch of one student folder looks exactly like a submission in a single subfolder and is
taken as one submission named after the batch folder: pass the student folder itself instead.

The paths given are the instructor's: links among them, and links to student folders inside a
batch, are followed. Nothing inside a student's own submission is followed (see `staging.py`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader.errors import BadSubmissionError
from grader.submission.exercises import (
    EXTENSIONS,
    exercise_for_name,
    exercise_roots,
    exercise_within_name,
    expected_names,
    is_junk,
    suggestion_for,
)

SubmissionKind = Literal["dir", "zip", "file"]

NBGRADER_SUBMITTED = "submitted"


@dataclass(frozen=True)
class Submission:
    """One student's work as found on disk (not yet read)."""

    student: str
    path: Path
    kind: SubmissionKind


def _name_of(path: Path) -> str:
    # `.` and `..` have no name of their own until resolved.
    return path.name if path.name not in ("", ".", "..") else path.resolve().name


def _is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


def _is_code_file(path: Path) -> bool:
    return path.suffix.lower() in EXTENSIONS


def _file_submission(path: Path) -> Submission:
    if exercise_for_name(path.name) is not None:
        parent = _name_of(path.absolute().parent)
        return Submission(parent or path.stem, path, "file")
    return Submission(path.stem, path, "file")


def _is_gradable_file(path: Path) -> bool:
    return _is_zip(path) or (exercise_for_name(path.name) or exercise_within_name(path.name)) is not None


def _batch_entries(folder: Path) -> list[Path]:
    with os.scandir(folder) as entries:
        return sorted(Path(e.path) for e in entries if not is_junk(e.name))


def _gradable_entries(folder: Path) -> list[Path]:
    """Entries that are, or hold, something to grade: zips, exercise files, folders of them."""
    return [entry for entry in _batch_entries(folder)
            if (entry.is_dir() and exercise_roots(entry)) or (entry.is_file() and _is_gradable_file(entry))]


def _discover_batch(folder: Path) -> list[Submission]:
    submissions: list[Submission] = []
    for entry in _batch_entries(folder):
        if entry.is_dir():
            submissions.append(Submission(entry.name, entry, "dir"))
        elif entry.is_file() and _is_zip(entry):
            submissions.append(Submission(entry.stem, entry, "zip"))
        elif entry.is_file() and _is_code_file(entry):
            submissions.append(_file_submission(entry))
    if not _gradable_entries(folder):
        raise BadSubmissionError(
            f"{folder} holds nothing to grade: no exercise files, no zips and no folders with "
            f"exercise files in it. Expected a folder per student (or a zip) holding {expected_names()}.")
    return submissions


def _discover_folder(folder: Path) -> list[Submission]:
    if folder.name == NBGRADER_SUBMITTED:
        return _discover_batch(folder)
    roots = exercise_roots(folder)
    if roots == [folder]:
        return [Submission(_name_of(folder), folder, "dir")]
    # An nbgrader course folder: its source/ and release/ hold exercise files too, not students'.
    if (folder / NBGRADER_SUBMITTED).is_dir():
        return _discover_batch(folder / NBGRADER_SUBMITTED)
    # One subfolder with exercise files and nothing else gradable beside it: a zipped folder,
    # or nbgrader's <student>/<assignment>/. Anything more (a zip, a second student) is a batch.
    if len(roots) == 1 and _gradable_entries(folder) == roots:
        return [Submission(_name_of(folder), folder, "dir")]
    return _discover_batch(folder)


def _discover_path(path: Path) -> list[Submission]:
    if not path.exists():
        raise BadSubmissionError(
            f"{path} does not exist. Give a submission folder, a .zip, a single exercise file or a "
            f"folder of submissions; exercise files are named {expected_names()}.")
    if path.is_dir():
        return _discover_folder(path)
    if _is_zip(path):
        return [Submission(path.stem, path, "zip")]
    if _is_code_file(path):
        if not _is_gradable_file(path):
            raise BadSubmissionError(
                f"{path.name} is not named after an exercise{suggestion_for(path.name)}; "
                f"rename it to {expected_names()}.")
        return [_file_submission(path)]
    raise BadSubmissionError(
        f"{path} is neither a folder, a .zip, a .ipynb nor a .py. "
        f"Expected a submission holding {expected_names()}.")


def discover(paths: list[Path]) -> list[Submission]:
    """Every submission under `paths`, sorted by student id (then path).

    Raises BadSubmissionError when a path does not exist or holds nothing gradable, and when
    two submissions would share a student id (their reports would overwrite each other).
    """
    found: dict[str, Submission] = {}
    seen_paths: set[Path] = set()
    for raw in paths:
        for submission in _discover_path(Path(raw)):
            resolved = submission.path.resolve()
            if resolved in seen_paths:  # the same path named twice is one submission
                continue
            seen_paths.add(resolved)
            earlier = found.get(submission.student)
            if earlier is not None:
                first, second = sorted([str(earlier.path), str(submission.path)])
                raise BadSubmissionError(
                    f"two submissions for student {submission.student!r}: {first} and {second}. "
                    "Keep one of them, or rename one so that each student id is used once.")
            found[submission.student] = submission
    return sorted(found.values(), key=lambda s: (s.student, str(s.path)))
