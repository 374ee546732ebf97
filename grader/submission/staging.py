"""Write what the sandboxed worker may see of one submission into one folder.

What is written is the assignment's layout's to say (`layout.py`): this module unpacks a zip
and hands the folder to `layout.stage_root`, and hashes what it returns. A repository layout
writes a `tree/` and one module per part (`repository_staging.py`); the rest of this docstring
is the flat layout's staging, kept here.

The staged folder holds, for each exercise found, `NAME.py` (a module, as UTF-8 text) or
`NAME.cells.json` (a notebook: `{"cells": [{"index": i, "source": "..."}]}`, see
`notebook.py`), and nothing else. It and its files are world-readable, so a worker running as
an unprivileged user can read them (the folders above it must let that user through).

What stops the whole submission raises BadSubmissionError (a zip that cannot be read, no
exercise files, exercise files in several folders). What concerns one exercise is a problem
for that exercise only and the others are still staged:

- `bad_submission`: a symbolic link (links inside a submission are never followed), not a
  regular file, over `MAX_EXERCISE_FILE_BYTES`, a module that is not UTF-8, an unreadable
  notebook. The exercise is not staged.
- `syntax`: a module Python cannot parse. It is staged anyway, so the worker reports the error
  as it would any other, and flagged here so the report says so even if the worker is not run.

Staging runs in the grader's own process, on input the student chose, so it has limits of its
own and exceeding any is a `bad_submission` saying what to fix: `MAX_SUBMISSION_ENTRIES` entries
in the submission folder (and in its exercise folder), `MAX_EXERCISE_FILE_BYTES` per file,
`notebook.MAX_CELLS` cells per notebook, the zip limits of `unpack.py`, and `STAGING_BUDGET_S`
seconds in all. Its messages name paths relative to the submission, never the grader's folders.

The submission's `sha256` identifies what was graded: for a zip the zip's bytes; for a folder
or a single file a hash over the sorted (path relative to the exercise folder, bytes) of the
files matched to exercises, so moving the folder or touching ignored files leaves it unchanged.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from grader.errors import BadSubmissionError
from grader.results import GradingError
from grader.submission.discover import Submission
from grader.submission.exercises import MODULE_2A_LAYOUT, FlatLayout, is_junk
from grader.submission.layout import Layout
from grader.submission.notebook import parse_cells
from grader.submission.unpack import MAX_FILE_BYTES, MAX_FILES, ExtractedZip, safe_extract

MAX_EXERCISE_FILE_BYTES = MAX_FILE_BYTES
# Entries a submission folder may hold (files and folders where the exercise files are looked
# for), as for a zip; more is a bad submission, not a list of thousands of ignored names.
MAX_SUBMISSION_ENTRIES = 4 * MAX_FILES
MAX_NAMES_SHOWN = 20  # names in one "not graded" warning
STAGING_BUDGET_S = 30.0  # seconds for reading, unpacking and converting one submission

_HASH_SCHEME = b"backprop-grader/submission-files/1\0"
_CHUNK = 1024 * 1024


@dataclass
class StagedSubmission:
    """The staged folder and what went into it.

    `exercises`: stem -> the file's name as in the submission, for each exercise staged.
    `problems`: per-exercise `bad_submission`/`syntax` errors for the report.
    `warnings`: files ignored, choices made, notebook cells not run; grading goes on.
    """

    folder: Path
    exercises: dict[str, str] = field(default_factory=dict)
    problems: list[GradingError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sha256: str = ""


class _ExerciseProblem(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


# ---------------------------------------------------------------- finding the exercise folder

def _visible(folder: Path) -> list[Path]:
    with os.scandir(folder) as entries:
        return sorted(Path(e.path) for e in entries if not is_junk(e.name))


def _described(paths: list[Path], base: Path, layout: FlatLayout) -> list[str]:
    """Names relative to `base`, folders with a trailing '/', near-misses with a suggestion."""
    return [p.relative_to(base).as_posix() + ("/" if not p.is_symlink() and p.is_dir() else "")
            + layout.suggestion_for(p.name) for p in paths]


def _exercise_folder(folder: Path, label: str, left_out: dict[str, str], layout: FlatLayout) -> Path:
    """The one folder of `folder` (itself or a subfolder) that holds the exercise files."""
    roots = layout.exercise_roots(folder)
    if len(roots) == 1:
        return roots[0]
    if roots:
        names = ", ".join(root.name + "/" for root in roots)
        raise BadSubmissionError(
            f"{label} holds exercise files in several folders ({names}); "
            "put the files you want graded into one folder and submit that.")
    found = _described(_visible(folder), folder, layout)
    shown = "; found: " + ", ".join(found[:12]) + (" ..." if len(found) > 12 else "") if found else ""
    links = ("; left out: " + ", ".join(f"{name} ({why})" for name, why in sorted(left_out.items()))
             if left_out else "")
    raise BadSubmissionError(
        f"{label} holds no exercise files{shown}{links}. Expected {layout.expected_names()}, "
        "directly in the submission or in a single folder inside it.")


def _ignored_warning(names: list[str]) -> list[str]:
    if not names:
        return []
    shown = ", ".join(names[:MAX_NAMES_SHOWN])
    more = f" and {len(names) - MAX_NAMES_SHOWN} more" if len(names) > MAX_NAMES_SHOWN else ""
    return [f"not graded (not exercise files): {shown}{more}"]


def _check_entry_count(folder: Path, label: str, layout: FlatLayout) -> None:
    with os.scandir(folder) as entries:
        count = sum(1 for _ in entries)
    if count > MAX_SUBMISSION_ENTRIES:
        raise BadSubmissionError(
            f"{label} holds {count} files and folders; at most {MAX_SUBMISSION_ENTRIES} are accepted. "
            f"Submit only your exercise files ({layout.expected_names()}).")


# ---------------------------------------------------------------- reading one exercise file

def _read_capped(path: Path, name: str, follow_links: bool) -> bytes:
    info = os.stat(path) if follow_links else os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise _ExerciseProblem("bad_submission",
                               f"{name} is a symbolic link; links are not followed, so put the file "
                               "itself in the submission.")
    if not stat.S_ISREG(info.st_mode):
        raise _ExerciseProblem("bad_submission", f"{name} is not a regular file; submit the file itself.")
    too_big = _ExerciseProblem(
        "bad_submission",
        f"{name} is larger than {MAX_EXERCISE_FILE_BYTES // (1024 * 1024)} MiB. For a notebook, clear "
        "its outputs (Kernel > Restart & Clear Output) and save it again.")
    if info.st_size > MAX_EXERCISE_FILE_BYTES:
        raise too_big
    flags = os.O_RDONLY | (0 if follow_links else os.O_NOFOLLOW)
    with os.fdopen(os.open(path, flags), "rb") as handle:
        data = handle.read(MAX_EXERCISE_FILE_BYTES + 1)
    if len(data) > MAX_EXERCISE_FILE_BYTES:  # it grew after the size check
        raise too_big
    return data


def _syntax_problem(text: str, name: str) -> Optional[str]:
    try:
        ast.parse(text, filename=name)
    except SyntaxError as exc:
        where = f" line {exc.lineno}" if exc.lineno else ""
        return (f"{name}{where}: {exc.msg}. The module cannot be imported until this is fixed; "
                "run the file once before submitting.")
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        return f"{name}: Python cannot parse this file ({exc}). Fix it and run it once before submitting."
    return None


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)


def _stage_module(stem: str, name: str, data: bytes, dest: Path) -> list[GradingError]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _ExerciseProblem(
            "bad_submission",
            f"{name} is not UTF-8 text (byte {data[exc.start]:#04x} on line {line}). Save it with "
            "UTF-8 encoding in your editor and submit it again.") from exc
    _write(dest / f"{stem}.py", text)
    problem = _syntax_problem(text, name)
    return [GradingError("syntax", problem, stem)] if problem else []


def _stage_notebook(stem: str, name: str, data: bytes, dest: Path, deadline: Optional[float]) -> list[str]:
    try:
        notebook = parse_cells(data, name, deadline=deadline)
    except BadSubmissionError as exc:
        raise _ExerciseProblem("bad_submission", str(exc)) from exc
    cells = [{"index": index, "source": source} for index, source in notebook.cells]
    _write(dest / f"{stem}.cells.json", json.dumps({"cells": cells}, indent=1))
    if not cells:
        return [*notebook.warnings, f"{name} has no code cells to run."]
    return notebook.warnings


def _out_of_time(label: str) -> BadSubmissionError:
    return BadSubmissionError(
        f"{label} took longer than the grader's {STAGING_BUDGET_S:.0f} s budget for reading a "
        "submission; submit only your exercise files, with few and short cells, and outputs cleared.")


def _stage_files(matched: dict[str, Path], dest: Path, staged: StagedSubmission,
                 follow_links: bool = False, deadline: Optional[float] = None) -> None:
    for stem, path in matched.items():  # in the assignment's order (the layout's)
        name = path.name
        if deadline is not None and time.monotonic() > deadline:
            raise _out_of_time(name)
        try:
            data = _read_capped(path, name, follow_links)
            if name.lower().endswith(".ipynb"):
                staged.warnings.extend(_stage_notebook(stem, name, data, dest, deadline))
            else:
                staged.problems.extend(_stage_module(stem, name, data, dest))
        except _ExerciseProblem as problem:
            staged.problems.append(GradingError(problem.kind, problem.message, stem))
            continue
        except OSError as exc:
            staged.problems.append(GradingError(
                "bad_submission", f"{name} cannot be read ({exc.strerror or exc}).", stem))
            continue
        staged.exercises[stem] = name


# ---------------------------------------------------------------- the submission's hash

def _file_digest(path: Path, follow_links: bool) -> bytes:
    info = os.stat(path) if follow_links else os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return b"link:" + os.fsencode(os.readlink(path))
    if not stat.S_ISREG(info.st_mode):
        return b"special:" + str(stat.S_IFMT(info.st_mode)).encode()  # never open a pipe
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.digest()


def files_sha256(root: Path, files: list[Path], follow_links: bool = False) -> str:
    """A hash over the sorted (path relative to `root`, bytes) of `files`, each length-prefixed."""
    digest = hashlib.sha256(_HASH_SCHEME)
    for relative, path in sorted((p.relative_to(root).as_posix(), p) for p in files):
        name = relative.encode("utf-8", "surrogateescape")
        content = _file_digest(path, follow_links)
        digest.update(len(name).to_bytes(8, "big") + name + len(content).to_bytes(8, "big") + content)
    return digest.hexdigest()


def zip_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------- one submission

def _prepare(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ValueError(f"stage needs an empty folder to write into; {dest} is not empty")
    dest.chmod(0o755)


def stage_flat_folder(folder: Path, label: str, dest: Path, staged: StagedSubmission, layout: FlatLayout,
                      left_out: Optional[dict[str, str]] = None,
                      deadline: Optional[float] = None) -> tuple[Path, list[Path]]:
    """FlatLayout.stage_root: stage the exercise files of a submission folder; returns its
    exercise folder and files."""
    left_out = left_out or {}
    _check_entry_count(folder, label, layout)
    root = _exercise_folder(folder, label, left_out, layout)
    if root != folder:
        _check_entry_count(root, f"{label}/{root.relative_to(folder).as_posix()}", layout)
    found = layout.find_exercise_files(root)
    staged.warnings.extend(found.notes)
    outer = [p for p in _visible(folder) if p != root] if root != folder else []
    staged.warnings.extend(_ignored_warning(_described(outer + found.ignored, folder, layout)))
    root_prefix = root.relative_to(folder).as_posix()
    for relative, why in sorted(left_out.items()):
        parent, _, base = relative.rpartition("/")
        stem = layout.exercise_for_name(base)
        if stem is not None and (parent or ".") == root_prefix and stem not in found.matched:
            staged.problems.append(GradingError("bad_submission", f"{base} is {why}.", stem))
        else:
            staged.warnings.append(f"left out of the zip: {relative}, {why}.")
    _stage_files(found.matched, dest, staged, deadline=deadline)
    return root, list(found.matched.values())


def flat_graded_files(folder: Path, layout: FlatLayout) -> tuple[Path, list[Path]]:
    """FlatLayout.graded_files: the exercise folder of `folder` and the files matched in it."""
    root = _exercise_folder(folder, folder.name, {}, layout)
    return root, list(layout.find_exercise_files(root).matched.values())


def stage(submission: Submission, dest: Path, *, budget_s: float = STAGING_BUDGET_S,
          layout: Layout = MODULE_2A_LAYOUT) -> StagedSubmission:
    """Stage `submission` into `dest` (created if missing, else it must be empty); `layout` (the
    assignment's) says which of its files are exercise files.

    Raises BadSubmissionError when nothing of the submission can be graded, when it is over a
    limit (files, cells, bytes) or when staging takes longer than `budget_s`; problems with a
    single exercise are returned in `problems` instead. Messages name paths relative to the
    submission only.
    """
    label = submission.path.name or str(submission.path)
    try:
        return _stage(submission, Path(dest), label, time.monotonic() + budget_s, layout)
    except OSError as exc:  # the host's own message would name the grader's folders
        raise BadSubmissionError(
            f"{label} cannot be read ({exc.strerror or type(exc).__name__}); submit only your "
            f"exercise files ({layout.expected_names()}).") from exc


def _stage(submission: Submission, dest: Path, label: str, deadline: float, layout: Layout) -> StagedSubmission:
    _prepare(dest)
    staged = StagedSubmission(folder=dest)
    if submission.kind == "zip":
        staged.sha256 = zip_sha256(submission.path)
        with tempfile.TemporaryDirectory(prefix="backprop-grader-unzip-") as scratch:
            unzipped = Path(scratch, "zip")
            extracted: ExtractedZip = safe_extract(submission.path, unzipped, **layout.extract_limits())
            if time.monotonic() > deadline:
                raise _out_of_time(label)
            layout.stage_root(unzipped, label, dest, staged, left_out=extracted.refused, deadline=deadline)
    elif submission.kind == "dir":
        root, files = layout.stage_root(submission.path, label, dest, staged, deadline=deadline)
        staged.sha256 = files_sha256(root, files)
    elif submission.kind == "file":
        # The path was named by the instructor (or found in their batch folder): it may be followed.
        stem = layout.exercise_for_name(label) or layout.exercise_within_name(label)
        if stem is None:
            raise BadSubmissionError(
                f"{label} is not named after an exercise{layout.suggestion_for(label)}; rename it to "
                f"{layout.expected_names()}.")
        _stage_files({stem: submission.path}, dest, staged, follow_links=True, deadline=deadline)
        staged.sha256 = files_sha256(submission.path.parent, [submission.path], follow_links=True)
    else:
        raise ValueError(f"unknown submission kind {submission.kind!r}; expected dir, zip or file")
    return staged


def submission_sha256(submission: Submission, layout: Layout = MODULE_2A_LAYOUT) -> str:
    """The hash `stage` would record, without staging (to tell whether a report is up to date).

    Empty when the submission cannot be read; such a submission is always graded again.
    """
    try:
        if submission.kind == "zip":
            return zip_sha256(submission.path)
        if submission.kind == "file":
            return files_sha256(submission.path.parent, [submission.path], follow_links=True)
        return files_sha256(*layout.graded_files(submission.path))
    except (BadSubmissionError, OSError, ValueError):
        return ""
