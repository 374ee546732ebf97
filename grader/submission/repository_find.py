"""Which of a repository submission's files are graded, and under which names the worker sees them.

The package (`src/ann/`, holding a `.py` file) is looked for in the submission folder and up to
two folders below it (a zip of `repo-main/`, a folder `assignment-1-<user>/` inside a student's
folder), never inside `.git`, virtual environments or tools' output (`repository_shape.py`),
never through a link. Where several folders qualify, the best kind wins, then the shallowest:

1. `package`: `<root>/src/ann/` as in the skeleton; `src/` is the source folder;
2. `package_at_root`: `<root>/ann/` without `src/`; `<root>` is the source folder, graded as if it
   were `src/` (a warning says so);
3. `flat`: an older layout with the layout's `flat_markers` (`train.py`, `neural_network.py`) side
   by side in `<root>`; `<root>` is the source folder and its top-level `.py` files are also the
   package `ann` (a warning says so).

Two packages of the same kind at the same depth are ambiguous: the submission is refused with
both named. No package at all is refused with what is missing and what was found instead.

The plan (`plan_repository`) lists every `.py` file under the source folder, within caps (count,
bytes per file, bytes in all, entries walked), and the optional files (`best_model.npy`,
`best_config.json`) at the root or in the layout's `optional_places`. Staging writes exactly
these (`repository_staging.py`) and the submission's hash covers exactly these, so moving the
folder or touching any other file leaves the hash unchanged.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Optional

from grader.errors import BadSubmissionError
from grader.submission.exercises import is_junk
from grader.submission.repository_shape import (has_python, holds_package, is_real_file, is_real_folder,
                                                is_skipped, subfolders)

if TYPE_CHECKING:
    from grader.submission.repository import RepositoryLayout

MiB = 1024 * 1024
SEARCH_DEPTH = 2  # folders below the submission where the repository may start
MAX_CANDIDATES = 400  # folders looked at for a package
MAX_SOURCE_FILES = 300
MAX_SOURCE_FILE_BYTES = 1 * MiB
MAX_SOURCE_BYTES = 16 * MiB
MAX_OPTIONAL_BYTES = 64 * MiB  # best_model.npy and best_config.json, each
MAX_FOLDER_ENTRIES = 2000  # a folder with more (a data set) is not searched for code
MAX_WALKED_ENTRIES = 20000
MAX_SOURCE_DEPTH = 12
MAX_NAMES_SHOWN = 12

KINDS = ("package", "package_at_root", "flat")  # best first


@dataclass(frozen=True)
class Found:
    """Where the package is: `root` the repository, `source` the folder staged as `src/`, `package`
    the folder graded as the package, `kind` one of KINDS, `depth` of `root` below the submission."""

    root: Path
    source: Path
    package: Path
    kind: str
    depth: int


@dataclass
class RepositoryPlan:
    """What staging writes: `sources` as (file, name in the staged tree), `optional` as name -> file,
    and the warnings to report (assumptions made, files left out, files missing)."""

    found: Found
    package_label: str = ""  # the package as the report names it: `src/ann`, `ann`, `neural_network.py`
    sources: list[tuple[Path, str]] = field(default_factory=list)
    optional: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def graded(self) -> list[Path]:
        """Every student file staged, once (the hash's files)."""
        unique = {path: None for path, _ in self.sources}
        unique.update({path: None for path in self.optional.values()})
        return list(unique)


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def _folder_name(path: Path, folder: Path) -> str:
    """A folder's name for messages: `repo-main/src/`, or "the submission's top folder"."""
    return "the submission's top folder" if path == folder else _relative(path, folder) + "/"


def grouped_paths(paths: tuple[str, ...]) -> str:
    """`src/ann/{a,b}.py, src/train.py`: paths sharing a folder and a suffix written once, in order."""
    groups: dict[tuple[str, str], list[str]] = {}
    for path in paths:
        pure = PurePosixPath(path)
        groups.setdefault((pure.parent.as_posix(), pure.suffix), []).append(pure.stem)
    written = []
    for (parent, suffix), stems in groups.items():
        prefix = "" if parent == "." else parent + "/"
        written.append(f"{prefix}{stems[0]}{suffix}" if len(stems) == 1 else f"{prefix}{{{','.join(stems)}}}{suffix}")
    return ", ".join(written)


def _shown(names: list[str]) -> str:
    more = f" and {len(names) - MAX_NAMES_SHOWN} more" if len(names) > MAX_NAMES_SHOWN else ""
    return ", ".join(names[:MAX_NAMES_SHOWN]) + more


# ---------------------------------------------------------------- finding the package

def _candidates(folder: Path) -> list[tuple[int, Path]]:
    """(depth, folder) for the submission folder and the searchable folders up to SEARCH_DEPTH below."""
    found = [(0, folder)]
    frontier = [folder]
    for depth in range(1, SEARCH_DEPTH + 1):
        frontier = [sub for parent in frontier for sub in subfolders(parent)][:MAX_CANDIDATES]
        found += [(depth, sub) for sub in frontier]
    return found[:MAX_CANDIDATES]


def _match(root: Path, depth: int, layout: RepositoryLayout) -> Optional[Found]:
    """The best kind of package `root` holds, if any."""
    source, name = layout.source_folder, layout.package_name
    if holds_package(root, layout.package):
        return Found(root, root / source, root / layout.package, "package", depth)
    if has_python(root / name):
        return Found(root, root, root / name, "package_at_root", depth)
    if layout.flat_markers and all(is_real_file(root / marker) for marker in layout.flat_markers):
        return Found(root, root, root, "flat", depth)
    return None


def find_package(folder: Path, label: str, layout: RepositoryLayout,
                 left_out: Optional[dict[str, str]] = None) -> tuple[Found, list[str]]:
    """The package to grade, and warnings about the other candidates passed over."""
    matches: dict[Path, Found] = {}
    for depth, candidate in _candidates(folder):
        found = _match(candidate, depth, layout)
        if found is not None and found.package not in matches:  # `src/` of a root is a candidate too
            matches[found.package] = found
    if not matches:
        raise BadSubmissionError(no_package_message(folder, label, layout, left_out or {}))
    ranked = sorted(matches.values(), key=lambda f: (KINDS.index(f.kind), f.depth, str(f.package)))
    best = ranked[0]
    tied = [f for f in ranked if (f.kind, f.depth) == (best.kind, best.depth)]
    if len(tied) > 1:
        names = ", ".join(_folder_name(f.package, folder) for f in tied)
        raise BadSubmissionError(
            f"{label} holds {len(tied)} equally likely copies of the package {layout.package}/: {names}. "
            "Keep one repository in the submission and submit again.")
    others = [_folder_name(f.package, folder) for f in ranked[1:]]
    graded = _folder_name(best.package, folder)
    notes = [f"not graded: {_shown(others)} (the graded package is {graded})"] if others else []
    return best, notes


def _assumption(found: Found, folder: Path, layout: RepositoryLayout) -> list[str]:
    """The warning saying what was assumed when the repository is not laid out like the skeleton."""
    where = "" if found.root == folder else f" (in {_folder_name(found.root, folder)})"
    if found.kind == "package_at_root":
        return [f"no {layout.package}/ in the repository{where}: graded {layout.package_name}/ as the package "
                f"{layout.package}/, and the Python files beside it as if they were in {layout.source_folder}/. "
                f"Move them into {layout.source_folder}/ as in the skeleton."]
    if found.kind == "flat":
        markers = " and ".join(layout.flat_markers)
        return [f"no {layout.package}/ in the repository{where}: graded the Python files beside {markers} as "
                f"the package {layout.package}/ (and as {layout.source_folder}/). Move them into "
                f"{layout.package}/ as in the skeleton."]
    return []


# ---------------------------------------------------------------- what is missing

def _guessed_root(folder: Path, layout: RepositoryLayout) -> Path:
    """The folder a repository without its package most likely starts in: the submission, or the
    one folder it holds alone (a zip's `repo-main/`), unless that folder is the source folder."""
    root = folder
    for _ in range(SEARCH_DEPTH):
        try:
            with os.scandir(root) as entries:
                visible = [e for e in entries if not is_junk(e.name)]
        except OSError:
            break
        if (len(visible) != 1 or not visible[0].is_dir(follow_symlinks=False)
                or visible[0].name in (layout.source_folder, layout.package_name)):
            break
        root = Path(visible[0].path)
    return root


def _lookalikes(root: Path, wanted: frozenset[str], expected: frozenset[str]) -> list[str]:
    """Files named like the assignment's files but elsewhere (bounded walk, links not followed)."""
    found, walked, stack = [], 0, [(root, 0)]
    while stack and walked < MAX_FOLDER_ENTRIES:
        current, depth = stack.pop()
        try:
            with os.scandir(current) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError:
            continue
        walked += len(entries)
        for entry in entries:
            relative = Path(entry.path).relative_to(root).as_posix()
            if entry.is_dir(follow_symlinks=False):
                if not is_skipped(entry.name) and depth < 4:
                    stack.append((Path(entry.path), depth + 1))
            elif entry.name in wanted and relative not in expected:
                found.append(relative + (" (a symbolic link)" if entry.is_symlink() else ""))
    return sorted(found)


def _package_problem(root: Path, layout: RepositoryLayout) -> str:
    """Why `root/src/ann` is not the package, when something by that name is there."""
    path = root
    for part in PurePosixPath(layout.package).parts:
        path = path / part
        if os.path.islink(path):
            return (f"{_relative(path, root)} is a symbolic link (links are not followed: put the folder "
                    "itself in the repository)")
        if not is_real_folder(path):
            return ""
    return f"{layout.package}/ has no .py files in it"


def _top_entries(root: Path) -> list[str]:
    try:
        with os.scandir(root) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError:
        return []
    return [e.name + ("/" if e.is_dir(follow_symlinks=False) else "")
            + (" (zips inside a submission are not opened)" if e.name.lower().endswith(".zip") else "")
            for e in entries if not is_junk(e.name)]


def no_package_message(folder: Path, label: str, layout: RepositoryLayout, left_out: dict[str, str]) -> str:
    """Why a submission without the package cannot be graded: what is missing, what is there instead."""
    root = _guessed_root(folder, layout)
    missing = [name for name in layout.required if not is_real_file(root / name)]
    expected = frozenset(layout.required)
    wanted = frozenset(PurePosixPath(name).name for name in layout.required)
    where = "" if root == folder else f" (in {_folder_name(root, folder)})"
    problem = _package_problem(root, layout)
    found = [problem] if problem else []
    found += _lookalikes(root, wanted, expected)
    top = _top_entries(root)
    found += [f"at the top: {_shown(top)}"] if top else ["nothing at the top"]
    links = [f"{name} ({why})" for name, why in sorted(left_out.items())]
    found += [f"left out of the zip: {_shown(links)}"] if links else []
    if tuple(missing) == tuple(layout.required):
        missing_text = f"all of the skeleton's files ({grouped_paths(tuple(missing))})"
        expected_text = ""
    else:
        missing_text = grouped_paths(tuple(missing)) or layout.package + "/"
        expected_text = f" Expected {layout.expected_names()}."
    return (f"{label} holds no {layout.package}/ folder with Python files{where}, so nothing can be graded "
            f"(looked in the submission and up to {SEARCH_DEPTH} folders below it). "
            f"Missing: {missing_text}. Found instead: {'; '.join(found)}.{expected_text}")


def _missing_required(plan: RepositoryPlan, layout: RepositoryLayout) -> list[str]:
    staged = {name for _, name in plan.sources}
    source_prefix = layout.source_folder + "/"
    missing = [name for name in layout.required
               if (name not in staged if name.startswith(source_prefix)
                   else not is_real_file(plan.found.root / name))]
    return [f"missing from the repository: {_shown(missing)}; what needs them cannot be graded."] if missing else []


# ---------------------------------------------------------------- the source files

def _walk_sources(found: Found, folder: Path, label: str,
                  deadline: Optional[float]) -> tuple[list[Path], list[str]]:
    """Every regular `.py` file under the source folder, sorted, and notes on what was left out."""
    source_name = _folder_name(found.source, folder)

    def refused(what: str) -> BadSubmissionError:
        return BadSubmissionError(
            f"{label}: {what}. Keep only your code in {source_name} (no virtual environments, copies of "
            "libraries or data sets) and submit again.")

    files: list[Path] = []
    links: list[str] = []
    skipped: list[str] = []
    walked = total = 0
    stack = [(found.source, 0)]
    while stack:
        if deadline is not None and time.monotonic() > deadline:
            raise refused("reading its Python files took longer than the grader's budget")
        current, depth = stack.pop()
        with os.scandir(current) as scan:
            entries = sorted(scan, key=lambda e: e.name)
        if len(entries) > MAX_FOLDER_ENTRIES and current != found.source:
            skipped.append(_relative(current, folder) + f"/ (more than {MAX_FOLDER_ENTRIES} entries)")
            continue
        walked += len(entries)
        if walked > MAX_WALKED_ENTRIES:
            raise refused(f"{source_name} holds more than {MAX_WALKED_ENTRIES} files and folders")
        for entry in entries:
            path = Path(entry.path)
            if entry.is_symlink():
                if entry.name.endswith(".py") or os.path.isdir(path):
                    links.append(_relative(path, folder))
            elif entry.is_dir(follow_symlinks=False):
                if is_skipped(entry.name):
                    continue
                if depth >= MAX_SOURCE_DEPTH:
                    skipped.append(_relative(path, folder) + f"/ (more than {MAX_SOURCE_DEPTH} folders deep)")
                    continue
                stack.append((path, depth + 1))
            elif entry.name.endswith(".py") and entry.is_file(follow_symlinks=False):
                size = entry.stat(follow_symlinks=False).st_size
                if size > MAX_SOURCE_FILE_BYTES:
                    raise refused(f"{_relative(path, folder)} is {size / MiB:.1f} MiB, over the "
                                  f"{MAX_SOURCE_FILE_BYTES // MiB} MiB limit for one Python file")
                total += size
                if total > MAX_SOURCE_BYTES:
                    raise refused(f"the Python files in {source_name} hold more than {MAX_SOURCE_BYTES // MiB} MiB")
                files.append(path)
                if len(files) > MAX_SOURCE_FILES:
                    raise refused(f"{source_name} holds more than {MAX_SOURCE_FILES} .py files")
    notes = [f"left out: {_shown(sorted(links))} (symbolic links are not followed: put the files themselves "
             "in the repository)"] if links else []
    notes += [f"not searched for Python files: {_shown(sorted(skipped))}"] if skipped else []
    return sorted(files), notes


def _staged_names(found: Found, files: list[Path], layout: RepositoryLayout) -> list[tuple[Path, str]]:
    """(file, its name in the staged tree): the source folder becomes `src/`; a flat repository's
    top-level files are also the package."""
    source = layout.source_folder
    named = [(path, f"{source}/{path.relative_to(found.source).as_posix()}") for path in files]
    if found.kind == "flat":
        named += [(path, f"{layout.package}/{path.name}") for path in files if path.parent == found.source]
    return named


# ---------------------------------------------------------------- the optional files

def _optional_files(found: Found, folder: Path, layout: RepositoryLayout) -> tuple[dict[str, Path], list[str]]:
    chosen: dict[str, Path] = {}
    notes: list[str] = []
    for name in layout.optional:
        places = [found.root / place / name if place else found.root / name for place in layout.optional_places]
        present = [path for path in places if os.path.lexists(path)]
        for path in present:
            relative = _relative(path, folder)
            if not is_real_file(path):
                notes.append(f"left out: {relative} (not a regular file; symbolic links are not followed)")
            elif path.stat().st_size > MAX_OPTIONAL_BYTES:
                notes.append(f"left out: {relative} is {path.stat().st_size / MiB:.1f} MiB, over the "
                             f"{MAX_OPTIONAL_BYTES // MiB} MiB limit; what needs it cannot be graded")
            elif name not in chosen:
                chosen[name] = path
                if path.parent != found.root:
                    notes.append(f"{name}: graded {relative}")
            else:
                notes.append(f"{name}: graded {_relative(chosen[name], folder)} and ignored {relative}")
    return chosen, notes


# ---------------------------------------------------------------- the plan

def _package_label(found: Found, layout: RepositoryLayout) -> str:
    if found.kind == "package":
        return layout.package
    if found.kind == "package_at_root":
        return layout.package_name
    return layout.flat_markers[-1]


def plan_repository(folder: Path, label: str, layout: RepositoryLayout, *,
                    left_out: Optional[dict[str, str]] = None, deadline: Optional[float] = None) -> RepositoryPlan:
    """What of the submission in `folder` is graded (see the module docstring); raises
    BadSubmissionError when there is no package, two equally likely ones, or too much code."""
    found, notes = find_package(folder, label, layout, left_out)
    plan = RepositoryPlan(found, _package_label(found, layout))
    plan.warnings.extend(_assumption(found, folder, layout))
    plan.warnings.extend(notes)
    files, walk_notes = _walk_sources(found, folder, label, deadline)
    plan.sources = _staged_names(found, files, layout)
    plan.warnings.extend(walk_notes)
    plan.optional, optional_notes = _optional_files(found, folder, layout)
    plan.warnings.extend(optional_notes)
    plan.warnings.extend(_missing_required(plan, layout))
    plan.warnings.extend(f"left out of the zip: {name}, {why}." for name, why in sorted((left_out or {}).items()))
    return plan
