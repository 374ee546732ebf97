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

A folder whose only entry beside plain files is one subfolder with exercise files is one
submission (a zipped folder, nbgrader's `<student>/<assignment>/`); as soon as it holds a
second subfolder, it is a class, and every subfolder is a student, even one holding only a PDF.

Student ids name report files, so each is made safe once, here (`student_id`): readable
characters kept, the length capped, the grader's own file names (`summary`, ...) reserved, and a
short hash of the original name added whenever it had to change. `Submission.name` keeps the
name as submitted for the report.

The paths given are the instructor's: links among them, and links to student folders inside a
batch, are followed. Nothing inside a student's own submission is followed (see `staging.py`).
"""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from grader.errors import BadSubmissionError
from grader.submission.exercises import MODULE_2A_LAYOUT, is_junk
from grader.submission.layout import Layout

SubmissionKind = Literal["dir", "zip", "file"]

NBGRADER_SUBMITTED = "submitted"

MAX_ID_CHARS = 64  # well under a file name's 255 bytes, with room for temp-file prefixes and suffixes
# Names of the files the grader itself writes beside or instead of `<student>.json`/.html/.xml:
# summary.json and summary.html, results.json (Gradescope), grades.csv, nbgrader_export.csv,
# junit.xml, and the folders of the per-student formats.
RESERVED_IDS: frozenset[str] = frozenset({"summary", "results", "grades", "nbgrader_export", "junit",
                                          "gradescope", "feedback"})
_UNSAFE = re.compile(r"[^\w.\-]+")  # \w is Unicode-aware: accented names stay readable


@dataclass(frozen=True)
class Submission:
    """One student's work as found on disk (not yet read).

    `student` is the id reports are named by (safe as a file name); `name` is the folder, zip or
    file name it came from, when that differs ("" otherwise).
    """

    student: str
    path: Path
    kind: SubmissionKind
    name: str = field(default="", compare=False)


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def student_id(name: str) -> str:
    """A file-name-safe, stable id for a submission called `name`.

    Letters, digits, `_`, `.` and `-` are kept (runs of anything else become one `_`), leading
    dots dropped and the result capped at MAX_ID_CHARS; whenever that changed `name`, or `name`
    is one of the grader's own file names, `-` and 8 hex digits of the name's hash are added, so
    two names that look alike once cleaned still get different ids.
    """
    cleaned = _UNSAFE.sub("_", unicodedata.normalize("NFC", name)).lstrip(".")
    if cleaned == name and name and len(name) <= MAX_ID_CHARS and name.casefold() not in RESERVED_IDS:
        return name
    stem = cleaned[:MAX_ID_CHARS - 9].rstrip("._-") or "student"
    return f"{stem}-{_short_hash(name)}"


def _with_safe_id(submission: Submission) -> Submission:
    safe = student_id(submission.student)
    return submission if safe == submission.student else replace(submission, student=safe,
                                                                  name=submission.student)


def _name_of(path: Path) -> str:
    # `.` and `..` have no name of their own until resolved.
    return path.name if path.name not in ("", ".", "..") else path.resolve().name


def _is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


def _is_code_file(path: Path, layout: Layout) -> bool:
    return path.suffix.lower() in layout.extensions


def _file_submission(path: Path, layout: Layout) -> Submission:
    if layout.exercise_for_name(path.name) is not None:
        parent = _name_of(path.absolute().parent)
        return Submission(parent or path.stem, path, "file")
    return Submission(path.stem, path, "file")


def _is_gradable_file(path: Path, layout: Layout) -> bool:
    return _is_zip(path) or (layout.exercise_for_name(path.name) or layout.exercise_within_name(path.name)) is not None


def _batch_entries(folder: Path) -> list[Path]:
    with os.scandir(folder) as entries:
        return sorted(Path(e.path) for e in entries if not is_junk(e.name))


def _gradable_entries(folder: Path, layout: Layout) -> list[Path]:
    """Entries that are, or hold, something to grade: zips, exercise files, folders of them."""
    return [entry for entry in _batch_entries(folder)
            if (entry.is_dir() and layout.exercise_roots(entry))
            or (entry.is_file() and _is_gradable_file(entry, layout))]


def _subfolders(folder: Path) -> list[Path]:
    return [entry for entry in _batch_entries(folder) if entry.is_dir()]


def _discover_batch(folder: Path, layout: Layout) -> list[Submission]:
    submissions: list[Submission] = []
    for entry in _batch_entries(folder):
        if entry.is_dir():
            submissions.append(Submission(entry.name, entry, "dir"))
        elif entry.is_file() and _is_zip(entry):
            submissions.append(Submission(entry.stem, entry, "zip"))
        elif entry.is_file() and _is_code_file(entry, layout):
            submissions.append(_file_submission(entry, layout))
    if not _gradable_entries(folder, layout):
        raise BadSubmissionError(
            f"{folder} holds nothing to grade: no exercise files, no zips and no folders with "
            f"exercise files in it. Expected a folder per student (or a zip) holding {layout.expected_names()}.")
    return submissions


def _discover_folder(folder: Path, layout: Layout) -> list[Submission]:
    if folder.name == NBGRADER_SUBMITTED:
        return _discover_batch(folder, layout)
    roots = layout.exercise_roots(folder)
    if roots == [folder]:
        return [Submission(_name_of(folder), folder, "dir")]
    # An nbgrader course folder: its source/ and release/ hold exercise files too, not students'.
    if (folder / NBGRADER_SUBMITTED).is_dir():
        return _discover_batch(folder / NBGRADER_SUBMITTED, layout)
    # One subfolder with exercise files and nothing else gradable beside it: a zipped folder,
    # or nbgrader's <student>/<assignment>/. Anything more (a zip, a second student, even one
    # whose folder holds nothing gradable) is a batch, so that no student disappears.
    if len(roots) == 1 and _gradable_entries(folder, layout) == roots and _subfolders(folder) == roots:
        return [Submission(_name_of(folder), folder, "dir")]
    return _discover_batch(folder, layout)


def _discover_path(path: Path, layout: Layout) -> list[Submission]:
    if not path.exists():
        raise BadSubmissionError(
            f"{path} does not exist. Give a submission folder, a .zip, a single exercise file or a "
            f"folder of submissions; exercise files are named {layout.expected_names()}.")
    if path.is_dir():
        return _discover_folder(path, layout)
    if _is_zip(path):
        return [Submission(path.stem, path, "zip")]
    if _is_code_file(path, layout):
        if not _is_gradable_file(path, layout):
            raise BadSubmissionError(
                f"{path.name} is not named after an exercise{layout.suggestion_for(path.name)}; "
                f"rename it to {layout.expected_names()}.")
        return [_file_submission(path, layout)]
    raise BadSubmissionError(
        f"{path} is neither {_kinds_accepted(layout)}. "
        f"Expected a submission holding {layout.expected_names()}.")


def _kinds_accepted(layout: Layout) -> str:
    """"a folder, a .zip, a .ipynb nor a .py": what a path may be, for a layout's extensions."""
    kinds = ["a folder", "a .zip", *(f"a {extension}" for extension in layout.extensions)]
    return ", ".join(kinds[:-1]) + " nor " + kinds[-1]


def discover(paths: list[Path], *, layout: Layout = MODULE_2A_LAYOUT) -> list[Submission]:
    """Every submission under `paths`, sorted by student id (then path); `layout` says which files
    are exercise files (the assignment's).

    Raises BadSubmissionError when a path does not exist or holds nothing gradable, and when
    two submissions would share a student id (their reports would overwrite each other). Ids
    are safe file names (see `student_id`).
    """
    found: dict[str, Submission] = {}
    seen_paths: set[Path] = set()
    for raw in paths:
        for submission in map(_with_safe_id, _discover_path(Path(raw), layout)):
            resolved = submission.path.resolve()
            if resolved in seen_paths:  # the same path named twice is one submission
                continue
            seen_paths.add(resolved)
            earlier = found.get(submission.student)
            if earlier is not None:
                first, second = sorted([str(earlier.path), str(submission.path)])
                raise BadSubmissionError(
                    f"two submissions for student {submission.name or submission.student!r}: {first} and {second}. "
                    "Keep one of them, or rename one so that each student id is used once.")
            found[submission.student] = submission
    return sorted(found.values(), key=lambda s: (s.student, str(s.path)))
