"""Write a repository submission into the staged folder: its files under `tree/`, one module per part.

The staged folder of a repository assignment holds:

- `tree/src/**.py`: every `.py` file of the repository's source folder (`repository_find.py` says
  which, and under which name), and nothing else of the student's code;
- `tree/<name>` for each optional file found (`best_model.npy`, `best_config.json`);
- what the course's code needs beside them, written by the layout's `support` function into
  `tree/` (for da6401-a1: stand-in libraries and a data cache);
- `<stem>.py` for each part: a copy of the layout's `part_source`, the grader's own trusted module.
  The worker's loader imports it as a flat module, as it would a student's `ex3_mlp_backprop.py`;
  it reaches the student's package through `tree/` (beside its own file in the worker's copy).

Student files are read without following links and within the plan's caps, counted on the bytes
actually read; what went over is a `bad_submission` saying which file. Files become 0644 and
folders 0755, so a worker under another uid can read them (`grader/worker/tree_copy.py` copies
`tree/` into each worker's sandbox).
"""
from __future__ import annotations

import importlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from grader.errors import BadSubmissionError, GraderError
from grader.submission.repository_find import MAX_OPTIONAL_BYTES, MAX_SOURCE_FILE_BYTES, RepositoryPlan, plan_repository
from grader.worker.tree_copy import TREE_FOLDER

if TYPE_CHECKING:
    from grader.submission.repository import RepositoryLayout
    from grader.submission.staging import StagedSubmission

_CHUNK = 1024 * 1024


def _make_folders(path: Path, top: Path) -> None:
    """`path` and its parents up to `top`, each 0755."""
    missing = []
    while path != top and not path.is_dir():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o755)
        folder.chmod(0o755)


def _copy_capped(source: Path, target: Path, limit: int, name: str) -> None:
    """Copy a student's file, never through a link, refusing it once more than `limit` bytes are read."""
    size = 0
    with os.fdopen(os.open(source, os.O_RDONLY | os.O_NOFOLLOW), "rb") as src, open(target, "xb") as out:
        while chunk := src.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise BadSubmissionError(
                    f"{name} is more than {limit // _CHUNK} MiB (it grew while it was read); submit it again.")
            out.write(chunk)
    target.chmod(0o644)


def _write_file(target: Path, data: bytes) -> None:
    target.write_bytes(data)
    target.chmod(0o644)


def _part_bytes(layout: RepositoryLayout) -> bytes:
    try:
        return layout.part_source.read_bytes()
    except OSError as exc:  # the grader's own file: never the student's fault
        raise GraderError(f"the assignment's part module {layout.part_source} cannot be read: {exc}") from exc


def support_function(spec: str) -> Optional[Callable[[Path], None]]:
    """The function a layout's `support` names (`"module:function"`), or None for ""."""
    if not spec:
        return None
    module, _, name = spec.partition(":")
    function = getattr(importlib.import_module(module), name, None)
    if not callable(function):
        raise GraderError(f"the layout's support {spec!r} names no function (expected 'module:function')")
    return function


def write_plan(plan: RepositoryPlan, dest: Path, folder: Path, deadline: Optional[float] = None) -> None:
    """The plan's student files into `dest/tree/`."""
    tree = dest / TREE_FOLDER
    _make_folders(tree, dest)
    for path, name in plan.sources:
        if deadline is not None and time.monotonic() > deadline:
            raise BadSubmissionError("copying the repository's Python files took longer than the grader's budget; "
                                     "submit only your code.")
        target = tree / name
        _make_folders(target.parent, tree)
        _copy_capped(path, target, MAX_SOURCE_FILE_BYTES, path.relative_to(folder).as_posix())
    for name, path in plan.optional.items():
        _copy_capped(path, tree / name, MAX_OPTIONAL_BYTES, path.relative_to(folder).as_posix())


def stage_repository(folder: Path, label: str, dest: Path, staged: StagedSubmission, layout: RepositoryLayout, *,
                     left_out: Optional[dict[str, str]] = None,
                     deadline: Optional[float] = None) -> tuple[Path, list[Path]]:
    """RepositoryLayout.stage_root: stage the repository in `folder` into `dest` (see the module
    docstring); returns the repository's root and the student files staged, for the hash."""
    plan = plan_repository(folder, label, layout, left_out=left_out, deadline=deadline)
    write_plan(plan, dest, folder, deadline)
    support = support_function(layout.support)
    if support is not None:
        support(dest / TREE_FOLDER)
    part = _part_bytes(layout)
    for stem in layout.stems:
        _write_file(dest / f"{stem}.py", part)
        staged.exercises[stem] = plan.package_label
    staged.warnings.extend(plan.warnings)
    return plan.found.root, plan.graded
