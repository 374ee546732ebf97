"""The staged folder's `tree/`: a repository's files, copied into each worker's submission folder.

A flat assignment's staged folder holds only `NAME.py` and `NAME.cells.json`. A repository
assignment (see `grader/submission/repository.py`) also stages `tree/`: the student's `src/`
Python files, the trained model and its configuration, and what the course's code needs beside
them (stand-in libraries, a data cache). The worker reads it as `<submission>/tree/...`.

The copy gives the worker the same snapshot guarantees as the flat files: regular files only,
never a link (a link is left out, and a linked folder is never entered), and bounded, so a
staged folder that is somehow not staging's output cannot fill the disk. The caps are above
what staging ever writes (`tests/grader/worker/test_tree_copy.py` checks that); what is over
them is left out, like any other file that is not staging's output.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import Optional

TREE_FOLDER = "tree"  # the name of the folder in the staged folder and in the worker's copy

MiB = 2**20
MAX_TREE_FILES = 1000
MAX_TREE_FILE_BYTES = 64 * MiB
MAX_TREE_BYTES = 192 * MiB
MAX_TREE_DEPTH = 24
_CHUNK = MiB


@dataclass
class TreeCopy:
    """What `copy_tree` did: files and bytes copied, relative paths left out."""

    files: int = 0
    bytes: int = 0
    left_out: list[str] = field(default_factory=list)


def copy_tree(source: str, target: str) -> TreeCopy:
    """Copy the regular files and folders under `source` into `target` (created), within the caps.

    Files become 0644 and folders 0755, so a worker under another uid can read them and never
    write them.
    """
    done = TreeCopy()
    _make_folder(target)
    _copy_folder(source, target, "", 0, done)
    return done


def _make_folder(path: str) -> None:
    os.makedirs(path, mode=0o755, exist_ok=True)
    os.chmod(path, 0o755)


def _copy_folder(source: str, target: str, relative: str, depth: int, done: TreeCopy) -> None:
    with os.scandir(source) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        name = f"{relative}{entry.name}"
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode) and depth < MAX_TREE_DEPTH:
            _make_folder(os.path.join(target, entry.name))
            _copy_folder(entry.path, os.path.join(target, entry.name), f"{name}/", depth + 1, done)
        elif stat.S_ISREG(info.st_mode) and done.files < MAX_TREE_FILES:
            copied = _copy_file(entry.path, os.path.join(target, entry.name), _room(done))
            if copied is None:
                done.left_out.append(name)
                continue
            done.files += 1
            done.bytes += copied
        else:  # a link, a pipe, too deep, or past the file count
            done.left_out.append(name)


def _room(done: TreeCopy) -> int:
    """The most bytes the next file may have."""
    return min(MAX_TREE_FILE_BYTES, MAX_TREE_BYTES - done.bytes)


def _copy_file(source: str, target: str, limit: int) -> Optional[int]:
    """Copy `source` (never through a link) if it holds at most `limit` bytes; its size, or None.

    The bytes are counted as they are read, so a file that grows after it was listed still
    cannot pass the cap.
    """
    size = 0
    with os.fdopen(os.open(source, os.O_RDONLY | os.O_NOFOLLOW), "rb") as src, open(target, "xb") as out:
        while chunk := src.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                break
            out.write(chunk)
    if size > limit:
        os.unlink(target)
        return None
    os.chmod(target, 0o644)
    return size
