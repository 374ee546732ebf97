"""Safe extraction of a student's zip: nothing outside the target, no links, bounded size.

Every entry is checked before anything is written, so a zip with a path outside the target
(`../x`, `/etc/x`, `C:\\x`), two names that are one file on Windows or macOS (`Ex1.py` and
`ex1.py`), or a password is refused as a whole, with a message naming the entry. Links and
other special files are not written and are listed in `ExtractedZip.refused`, so that the
caller can report them against the exercise they stand for.

An entry nested deeper than `MAX_DEPTH` folders or `MAX_PATH_BYTES` of path is refused too,
before the host's own limit (PATH_MAX) could fail with a message naming the grader's folders.

Sizes are counted on the bytes actually decompressed, never on the sizes the zip declares: a
zip bomb declares whatever it likes. On any failure the target is left empty.
"""
from __future__ import annotations

import lzma
import re
import shutil
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from grader.errors import BadSubmissionError

MiB = 1024 * 1024
MAX_TOTAL_BYTES = 50 * MiB
MAX_FILES = 500
MAX_FILE_BYTES = 20 * MiB

# Entries beyond this many (counting skipped ones) are refused before any is looked at.
ENTRIES_PER_FILE_ALLOWED = 4

# Left behind by macOS's Finder and by Jupyter; never part of what a student means to submit.
IGNORED_FOLDERS = frozenset({"__MACOSX", ".ipynb_checkpoints"})

_CHUNK = 64 * 1024
_MAX_NAME_BYTES = 255
# A whole entry path: far below the host's PATH_MAX (4096) once under the grader's scratch folder.
MAX_PATH_BYTES = 1024
MAX_DEPTH = 32
_DRIVE = re.compile(r"^[A-Za-z]:")
# What reading a damaged member raises, depending on its compression method.
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError,
                NotImplementedError, RuntimeError)

_HOW_TO_ZIP = ("Make the zip again from the folder holding your exercise files "
               "(for example with your file manager's 'Compress' command).")


@dataclass
class ExtractedZip:
    """What `safe_extract` wrote (relative POSIX paths, in archive order) and what it refused."""

    files: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # relative path -> why it was not written


def _mib(n: int) -> str:
    return f"{n / MiB:.1f} MiB"


def _entry_parts(zip_name: str, entry: str) -> tuple[str, ...]:
    """The path components of an entry, refusing anything that would land outside the target."""
    unified = entry.replace("\\", "/")  # zips made on Windows may use backslashes
    if unified.startswith("/") or _DRIVE.match(unified):
        raise BadSubmissionError(
            f"{zip_name}: entry {entry!r} is an absolute path, which could write anywhere on the "
            f"grading machine; the zip was refused. {_HOW_TO_ZIP}")
    parts = tuple(p for p in unified.split("/") if p not in ("", "."))
    if ".." in parts:
        raise BadSubmissionError(
            f"{zip_name}: entry {entry!r} climbs out of the zip's folder with '..'; the zip was "
            f"refused. {_HOW_TO_ZIP}")
    for part in parts:
        if len(part.encode("utf-8", "surrogateescape")) > _MAX_NAME_BYTES:
            raise BadSubmissionError(
                f"{zip_name}: entry {_shown(entry)} has a name longer than {_MAX_NAME_BYTES} bytes; "
                "give it a shorter name and zip it again.")
    if len(parts) > MAX_DEPTH or len("/".join(parts).encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        raise BadSubmissionError(
            f"{zip_name}: entry {_shown(entry)} is nested too deep (more than {MAX_DEPTH} folders or "
            f"{MAX_PATH_BYTES} bytes of path); put your exercise files at most one folder deep and zip again.")
    return parts


def _shown(entry: str, limit: int = 80) -> str:
    """An entry's name for a message, its middle left out when long (names can be kilobytes)."""
    return repr(entry) if len(entry) <= limit else repr(entry[:40] + " ... " + entry[-35:])


def _entry_kind(info: zipfile.ZipInfo) -> str:
    """"dir", "file", "link" or "special", from the Unix mode the zip stores (if any)."""
    file_type = stat.S_IFMT(info.external_attr >> 16)
    if info.is_dir() or file_type == stat.S_IFDIR:
        return "dir"
    if file_type == stat.S_IFLNK:
        return "link"
    if file_type in (0, stat.S_IFREG):  # 0: made on a system that stores no Unix mode
        return "file"
    return "special"


def _folded(parts: tuple[str, ...]) -> tuple[str, ...]:
    """The key under which case-insensitive, normalising file systems see a path."""
    return tuple(unicodedata.normalize("NFC", p).casefold() for p in parts)


@dataclass
class _Plan:
    folders: list[tuple[str, ...]] = field(default_factory=list)
    files: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def _plan(archive: zipfile.ZipFile, zip_name: str, max_files: int,
          skip_folders: frozenset[str] = IGNORED_FOLDERS) -> _Plan:
    entries = archive.infolist()
    if len(entries) > ENTRIES_PER_FILE_ALLOWED * max_files:
        raise BadSubmissionError(
            f"{zip_name} holds {len(entries)} entries; at most {max_files} files are accepted. "
            "Zip only your exercise files.")
    plan = _Plan()
    file_names: dict[tuple[str, ...], str] = {}  # folded path -> entry name
    folder_names: dict[tuple[str, ...], str] = {}

    def collision(first: str, second: str) -> BadSubmissionError:
        return BadSubmissionError(
            f"{zip_name}: entries {first!r} and {second!r} are the same file on Windows and macOS "
            "(names differ only in case or Unicode form, or a file has a folder's name); "
            "keep one of them and zip again.")

    def add_folder(key: tuple[str, ...], entry: str) -> None:
        for depth in range(1, len(key) + 1):
            prefix = key[:depth]
            if prefix in file_names:
                raise collision(file_names[prefix], entry)
            folder_names.setdefault(prefix, entry)

    for info in entries:
        parts = _entry_parts(zip_name, info.filename)
        if not parts or any(p in skip_folders for p in parts):
            continue
        if info.flag_bits & 0x1:
            raise BadSubmissionError(
                f"{zip_name} is password-protected ({info.filename!r}); zip it again without a password.")
        kind = _entry_kind(info)
        relative = "/".join(parts)
        if kind == "link":
            plan.refused[relative] = "a symbolic link (links are not followed: put the file itself in the zip)"
            continue
        if kind == "special":
            plan.refused[relative] = "not a regular file (a device, pipe or socket)"
            continue
        key = _folded(parts)
        if kind == "dir":
            add_folder(key, info.filename)
            plan.folders.append(parts)
            continue
        if key in file_names or key in folder_names:
            raise collision(file_names.get(key) or folder_names[key], info.filename)
        add_folder(key[:-1], info.filename)
        file_names[key] = info.filename
        plan.files.append((info, parts))
    if len(plan.files) > max_files:
        raise BadSubmissionError(
            f"{zip_name} holds {len(plan.files)} files; at most {max_files} are accepted. "
            "Zip only your exercise files.")
    return plan


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, zip_name: str) -> Iterator[bytes]:
    """The decompressed bytes of one member; a damaged member becomes a BadSubmissionError."""
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                yield chunk
    except _READ_ERRORS as exc:
        raise BadSubmissionError(
            f"{zip_name}: {info.filename!r} cannot be decompressed ({exc}). The zip is damaged or "
            f"uses an unusual compression method. {_HOW_TO_ZIP}") from exc


def _write_files(archive: zipfile.ZipFile, plan: _Plan, dest: Path, zip_name: str,
                 max_total_bytes: int, max_file_bytes: int) -> list[str]:
    written: list[str] = []
    total = 0
    for parts in plan.folders:
        dest.joinpath(*parts).mkdir(parents=True, exist_ok=True)
    for info, parts in plan.files:
        target = dest.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        with open(target, "xb") as out:  # "x": never write through anything already there
            for chunk in _chunks(archive, info, zip_name):
                size += len(chunk)
                total += len(chunk)
                if size > max_file_bytes:
                    raise BadSubmissionError(
                        f"{zip_name}: {info.filename!r} is more than {_mib(max_file_bytes)} once "
                        "unzipped, over the limit for one file. For a notebook, clear its outputs "
                        "(Kernel > Restart & Clear Output), save, and zip again.")
                if total > max_total_bytes:
                    raise BadSubmissionError(
                        f"{zip_name} is more than {_mib(max_total_bytes)} once unzipped, over the "
                        "limit for a submission. Zip only your exercise files, with outputs cleared.")
                out.write(chunk)
        target.chmod(0o644)
        written.append("/".join(parts))
    return written


def _empty(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def safe_extract(zip_path: Path, dest: Path, *, max_total_bytes: int = MAX_TOTAL_BYTES,
                 max_files: int = MAX_FILES, max_file_bytes: int = MAX_FILE_BYTES,
                 skip_folders: frozenset[str] = IGNORED_FOLDERS) -> ExtractedZip:
    """Extract `zip_path` into `dest` (created if missing, else it must be empty).

    Entries inside a folder named in `skip_folders` are not written (a repository's `.git/` or
    `venv/` holds nothing graded); they still count towards the entries a zip may hold.

    Raises BadSubmissionError, with what to fix, for a file that is not a readable zip, an
    unsafe or colliding entry name, a password, more than `max_files` files, or more than
    `max_file_bytes` in one file or `max_total_bytes` in all once decompressed.
    """
    zip_path, dest = Path(zip_path), Path(dest)
    zip_name = zip_path.name
    if zip_path.stat().st_size > max_total_bytes:
        raise BadSubmissionError(
            f"{zip_name} is {_mib(zip_path.stat().st_size)}, over the {_mib(max_total_bytes)} limit "
            "for a submission. Zip only your exercise files, with outputs cleared.")
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ValueError(f"safe_extract needs an empty target folder; {dest} is not empty")
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise BadSubmissionError(
            f"{zip_name} is not a readable zip file ({exc}). {_HOW_TO_ZIP}") from exc
    try:
        with archive:
            plan = _plan(archive, zip_name, max_files, skip_folders)
            try:
                files = _write_files(archive, plan, dest, zip_name, max_total_bytes, max_file_bytes)
            except OSError as exc:  # the host refused a name or a write; its message holds host paths
                raise BadSubmissionError(
                    f"{zip_name} cannot be unpacked ({exc.strerror or type(exc).__name__}). "
                    f"{_HOW_TO_ZIP}") from exc
    except BaseException:
        _empty(dest)
        raise
    return ExtractedZip(files=files, refused=plan.refused)
