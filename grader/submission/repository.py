"""The layout of an assignment handed in as a repository holding a Python package.

A submission is a student's repository (a folder, a zip of one, or a folder of them for a
class) laid out like the course's skeleton: the package (`src/ann/`), the scripts beside it
(`src/train.py`, ...) and, optionally, files at the root or in a few places (`best_model.npy`,
`best_config.json`). Its parts are not files: every part grades the same package, so a part's
"file" is the package and each part is staged as a copy of one trusted module of the grader's
(`part_source`), which the worker's loader imports as a flat module and which reaches the
student's code through the staged `tree/` (see `repository_staging.py`).

`RepositoryLayout` answers the questions discovery and staging ask of any layout (`layout.py`):

- discovery: a folder is one submission when it is one repository (`repository_shape.py`:
  it holds the package, or looks like a repository), whatever else it holds; otherwise its
  subfolders and zips are students. No single file is a submission (`extensions` is empty);
- staging: `stage_root` finds the package in the submission (up to two folders below, with the
  fallbacks and caps of `repository_find.py`) and writes the staged folder; `graded_files` names
  the same files without writing, for the submission's hash.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Optional

from grader.submission.exercises import ExerciseFiles, is_junk
from grader.submission.repository_find import MAX_OPTIONAL_BYTES, grouped_paths, plan_repository
from grader.submission.repository_shape import SKIPPED_FOLDERS, holds_package, repository_roots, repository_signs
from grader.submission.repository_staging import stage_repository
from grader.submission.unpack import IGNORED_FOLDERS, MiB

if TYPE_CHECKING:
    from grader.submission.staging import StagedSubmission

# A repository's zip holds more and larger files than a zip of notebooks (a trained model, the
# skeleton's files, a README's images); `.git/`, virtual environments and tools' output in it
# are not even unpacked.
ZIP_MAX_FILES = 2000
ZIP_MAX_FILE_BYTES = MAX_OPTIONAL_BYTES
ZIP_MAX_TOTAL_BYTES = 128 * MiB
ZIP_SKIPPED_FOLDERS: frozenset[str] = IGNORED_FOLDERS | SKIPPED_FOLDERS | {".git", ".venv"}


@dataclass(frozen=True)
class RepositoryLayout:
    """An assignment whose submission is a repository with the package `package` (`"src/ann"`:
    a source folder and the package's folder in it).

    `stems`: the parts, each staged as a copy of `part_source`. `required`: the files the skeleton
    has (paths relative to the repository root), named when missing. `optional`: file names looked
    for at the root, then in `optional_places` (`""` is the root). `flat_markers`: file names that,
    side by side, mark an older flat repository graded as if they were the package ((): never).
    `support`: `"module:function"` called with the staged `tree/` folder to write what the
    course's code needs beside the student's ("" for nothing).
    """

    stems: tuple[str, ...]
    part_source: Path
    package: str = "src/ann"
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    optional_places: tuple[str, ...] = ("", "src", "models")
    flat_markers: tuple[str, ...] = ()
    support: str = ""
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        parts = PurePosixPath(self.package).parts
        if len(parts) != 2 or any(part in ("", ".", "..") or is_junk(part) for part in parts):
            raise ValueError(f"package must be 'source/name' (like 'src/ann'), not {self.package!r}")

    @property
    def source_folder(self) -> str:
        """The folder holding the package and the scripts (`src`), staged as `tree/src`."""
        return PurePosixPath(self.package).parts[0]

    @property
    def package_name(self) -> str:
        """The package's import name (`ann`)."""
        return PurePosixPath(self.package).parts[1]

    @property
    def _signs(self) -> tuple[frozenset[str], frozenset[str]]:
        return repository_signs(self.package, self.required)

    # ---------------------------------------------------------------- names

    def expected_names(self) -> str:
        files = grouped_paths(self.required) if self.required else f"{self.package}/*.py"
        return f"a repository laid out like the course's skeleton: {files}"

    def exercise_for_name(self, file_name: str) -> Optional[str]:
        """No file stands for a part: every part grades the package."""
        return None

    def exercise_within_name(self, file_name: str) -> Optional[str]:
        return None

    def suggestion_for(self, file_name: str) -> str:
        """' (it belongs in src/ann/neural_network.py)' for a file of the skeleton found elsewhere."""
        homes = [path for path in self.required if PurePosixPath(path).name == file_name]
        return f" (it belongs in {homes[0]})" if len(homes) == 1 else ""

    # ---------------------------------------------------------------- folders

    def find_exercise_files(self, folder: Path) -> ExerciseFiles:
        """Every part mapped to `folder/<package>` when the package is there, the rest ignored."""
        found = ExerciseFiles()
        if holds_package(folder, self.package):
            found.matched = {stem: folder / self.package for stem in self.stems}
        top = self.source_folder if found.matched else None
        found.ignored = sorted(p for p in folder.iterdir() if not is_junk(p.name) and p.name != top)
        return found

    def match_files(self, folder: Path) -> dict[str, Path]:
        return self.find_exercise_files(folder).matched

    def has_exercise_files(self, folder: Path) -> bool:
        return holds_package(folder, self.package)

    def exercise_roots(self, folder: Path) -> list[Path]:
        """`[folder]` when it is one repository; else its subfolders that are one or hold one just
        below (see `repository_shape.py`). The package itself may sit deeper: staging finds it."""
        return repository_roots(folder, self.package, self._signs)

    # ---------------------------------------------------------------- staging

    def extract_limits(self) -> dict[str, Any]:
        return {"max_files": ZIP_MAX_FILES, "max_file_bytes": ZIP_MAX_FILE_BYTES,
                "max_total_bytes": ZIP_MAX_TOTAL_BYTES, "skip_folders": ZIP_SKIPPED_FOLDERS}

    def stage_root(self, folder: Path, label: str, dest: Path, staged: StagedSubmission, *,
                   left_out: Optional[dict[str, str]] = None,
                   deadline: Optional[float] = None) -> tuple[Path, list[Path]]:
        return stage_repository(folder, label, dest, staged, self, left_out=left_out, deadline=deadline)

    def graded_files(self, folder: Path) -> tuple[Path, list[Path]]:
        plan = plan_repository(folder, folder.name, self)
        return plan.found.root, plan.graded
