"""File names derived from student ids, and atomic text writes for every report format.

A student id comes from a folder or file name, or from a report another machine wrote; before it
names a file it must be a plain name, never a path that could leave the report folder.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

_FORBIDDEN = ("/", "\\", "\x00")


def checked_student(student: str) -> str:
    """`student`, when it can name a file; ValueError otherwise."""
    if not student or student in (".", "..") or any(c in student for c in _FORBIDDEN):
        raise ValueError(f"student id {student!r} cannot name a report file: it must be a plain name "
                         "without '/', '\\' or NUL; rename the submission or fix the report's 'student'")
    return student


def student_path(out_dir: Path, folder: str, student: str, suffix: str) -> Path:
    """`out_dir/folder/<student><suffix>`, e.g. `grades/junit/s001.xml`."""
    return Path(out_dir) / folder / f"{checked_student(student)}{suffix}"


def write_text_atomic(path: Path, text: str, *, encoding: str = "utf-8", newline: str = "") -> Path:
    """Write `text` to `path` so that readers see the old file or the new one, never half of it.

    `newline=""` writes line endings exactly as they are in `text` (the CSV writer's `\\r\\n`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline=newline) as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
