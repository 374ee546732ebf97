"""Whether a folder is one student's repository, or a folder of them (a class).

A repository is one submission whatever else it holds: an old repository with a zip of data in
it, or a zip of an earlier attempt, must give one report, not one per zip. So a folder is one
repository when it

- holds the package (`src/ann/` with a `.py` file in it), or
- holds something only a repository holds: the package's parent folder (`src/`) or the package
  itself at the top (`ann/`), `requirements.txt`, `setup.py`, `pyproject.toml`, or a file named
  like one of the assignment's Python files (`train.py`, `neural_network.py`, ...), or
- holds `.git` or a `README`, and fewer than two entries that are themselves repositories (by the
  two rules above) or zips. An instructor's class folder may well have a README or be under git;
  a class is then still told apart by the students' repositories or zips in it.

Anything else is not a repository; discovery then makes it a class, every subfolder and zip in it a
student (see `discover.py`). Folders that tools leave behind (`.git`, `venv`, `node_modules`,
`__pycache__`, `wandb`, ...) are never looked into, and links are never followed.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath
from typing import Iterable

from grader.submission.exercises import is_junk

# Besides hidden folders (`.git`, `.venv`) and exercises.JUNK_FOLDERS: folders that hold tools'
# output or installed packages, never a student's graded code.
SKIPPED_FOLDERS: frozenset[str] = frozenset({"venv", "env", "node_modules", "wandb", "__pycache__", "__MACOSX",
                                             "site-packages"})
PROJECT_FILES: tuple[str, ...] = ("requirements.txt", "setup.py", "pyproject.toml")
NOTE_FILES: tuple[str, ...] = (".git",)  # and any README*


def is_skipped(name: str) -> bool:
    """A folder never searched: hidden, or left by a tool (see SKIPPED_FOLDERS)."""
    return is_junk(name) or name in SKIPPED_FOLDERS


def is_real_folder(path: Path) -> bool:
    """A folder, not a link to one."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def is_real_file(path: Path) -> bool:
    """A regular file, not a link to one."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def has_python(folder: Path) -> bool:
    """A real folder holding at least one regular `.py` file directly."""
    if not is_real_folder(folder):
        return False
    try:
        with os.scandir(folder) as entries:
            return any(e.name.endswith(".py") and e.is_file(follow_symlinks=False) for e in entries)
    except OSError:
        return False


def holds_package(folder: Path, package: str) -> bool:
    """`folder/<package>` is a real folder with Python files in it (every folder on the way real)."""
    path = folder
    for part in PurePosixPath(package).parts:
        path = path / part
        if not is_real_folder(path):
            return False
    return has_python(path)


def subfolders(folder: Path) -> list[Path]:
    """The real, searchable subfolders of `folder`, sorted by name."""
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(e.path) for e in entries
                          if not is_skipped(e.name) and e.is_dir(follow_symlinks=False))
    except OSError:
        return []


def _entries(folder: Path) -> dict[str, str]:
    """name -> "dir", "file" or "other" (links are "other"), for every entry, hidden ones too."""
    kinds: dict[str, str] = {}
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                mode = entry.stat(follow_symlinks=False).st_mode
                kinds[entry.name] = "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"
    except OSError:
        pass
    return kinds


def repository_signs(package: str, python_files: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """(folder names, file names) that only a repository holds at its top, for `package` and the
    assignment's Python files (`src/train.py`, ...)."""
    parts = PurePosixPath(package).parts
    folders = frozenset(parts[:1] + parts[-1:])  # `src` and `ann`
    files = frozenset(PROJECT_FILES) | {PurePosixPath(name).name for name in python_files if name.endswith(".py")}
    return folders, files


def _has_code_signs(kinds: dict[str, str], signs: tuple[frozenset[str], frozenset[str]]) -> bool:
    folders, files = signs
    return (any(kinds.get(name) == "dir" for name in folders)
            or any(kinds.get(name) == "file" for name in files))


def _has_note_signs(kinds: dict[str, str]) -> bool:
    return any(name in kinds for name in NOTE_FILES) or any(
        name.casefold().startswith("readme") and kind == "file" for name, kind in kinds.items())


def _is_sure_repository(folder: Path, package: str, signs: tuple[frozenset[str], frozenset[str]]) -> bool:
    return holds_package(folder, package) or _has_code_signs(_entries(folder), signs)


def is_repository(folder: Path, package: str, signs: tuple[frozenset[str], frozenset[str]]) -> bool:
    """Whether `folder` is one repository (the rules of the module docstring)."""
    if not is_real_folder(folder):
        return False
    kinds = _entries(folder)
    if holds_package(folder, package) or _has_code_signs(kinds, signs):
        return True
    if not _has_note_signs(kinds):
        return False
    zips = sum(1 for name, kind in kinds.items() if kind == "file" and name.lower().endswith(".zip"))
    repositories = sum(1 for sub in subfolders(folder) if _is_sure_repository(sub, package, signs))
    return zips + repositories < 2


def repository_roots(folder: Path, package: str, signs: tuple[frozenset[str], frozenset[str]]) -> list[Path]:
    """`[folder]` when it is one repository; else its subfolders that are one or hold one just
    below (a zip's `repo-main/` unpacked into a student's folder)."""
    if is_repository(folder, package, signs):
        return [folder]
    return [sub for sub in subfolders(folder)
            if is_repository(sub, package, signs)
            or any(is_repository(inner, package, signs) for inner in subfolders(sub))]
