"""What discovery and staging ask of an assignment's layout, whatever shape its submissions take.

Two layouts answer these questions: `FlatLayout` (`exercises.py`: exercise files `STEM.ipynb`
or `STEM.py` side by side, Module 2A's) and `RepositoryLayout` (`repository.py`: a repository
holding a Python package, the course's Assignment 1). Discovery (`discover.py`) only asks the
questions about names and folders; staging (`staging.py`) hands the folder it found (a
submission folder or an unzipped zip) to `stage_root`, and hashes what `graded_files` names, so
each layout decides alone what of a submission the worker sees and what identifies it.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Protocol, runtime_checkable

if TYPE_CHECKING:
    from grader.submission.staging import StagedSubmission


@runtime_checkable
class Layout(Protocol):
    """An assignment's answer to "which files are which part, and how are they staged"."""

    stems: tuple[str, ...]  # the parts, in the assignment's order
    extensions: tuple[str, ...]  # a single file with one of these is a submission ((): none is)

    def expected_names(self) -> str:
        """What a submission should hold, as the end of a "nothing to grade" sentence."""

    def exercise_for_name(self, file_name: str) -> Optional[str]:
        """The part a file name stands for, or None."""

    def exercise_within_name(self, file_name: str) -> Optional[str]:
        """The one part named inside a longer file name (LMS downloads), or None."""

    def suggestion_for(self, file_name: str) -> str:
        """' (did you mean ...?)' for a near-miss name, else ''."""

    def exercise_roots(self, folder: Path) -> list[Path]:
        """`[folder]` when `folder` is one submission by itself; else its subfolders that are or
        hold one. One root is a submission, several a batch (see `discover.py`)."""

    def extract_limits(self) -> dict[str, Any]:
        """Keyword arguments for `unpack.safe_extract` when a submission is a zip ({}: its defaults)."""

    def stage_root(self, folder: Path, label: str, dest: Path, staged: StagedSubmission, *,
                   left_out: Optional[dict[str, str]] = None,
                   deadline: Optional[float] = None) -> tuple[Path, list[Path]]:
        """Write what the worker may see of the submission in `folder` into `dest`, recording parts,
        problems and warnings in `staged`; returns the folder the graded files are relative to,
        and those files (for the hash). `left_out`: what unzipping refused, relative path -> why."""

    def graded_files(self, folder: Path) -> tuple[Path, list[Path]]:
        """What `stage_root` would return for `folder`, without staging (the submission's hash)."""
