"""Fixtures for the authoring tests: the repository's folders and a clean importer for them.

Solution and student modules share names (`ex3_mlp_backprop` is in both folders) and import each
other by those names, so each test imports them from one folder and leaves `sys.modules` and
`sys.path` as it found them.
"""
from __future__ import annotations

import importlib
import sys
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterator

import nbformat
import pytest

from grader.authoring import EXERCISES

ROOT = Path(__file__).resolve().parents[3]
SOLUTIONS = ROOT / "solutions"
STUDENT = ROOT / "exercises"


def source_notebook(stem: str) -> nbformat.NotebookNode:
    return nbformat.read(SOLUTIONS / f"{stem}.ipynb", as_version=4)


def student_notebook_on_disk(stem: str) -> nbformat.NotebookNode:
    return nbformat.read(STUDENT / f"{stem}.ipynb", as_version=4)


@contextmanager
def _imports_from(folder: Path) -> Iterator[Callable[[str], ModuleType]]:
    saved = {stem: sys.modules.pop(stem) for stem in EXERCISES if stem in sys.modules}
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(str(folder))
        for stem in EXERCISES:
            sys.modules.pop(stem, None)
        sys.modules.update(saved)


@pytest.fixture(scope="module")
def solution_modules() -> Iterator[dict[str, ModuleType]]:
    """Every `solutions/<stem>.py`, imported once per test module, by stem."""
    with _imports_from(SOLUTIONS) as load:
        yield {stem: load(stem) for stem in EXERCISES}


@pytest.fixture
def import_student() -> Iterator[Callable[[str], ModuleType]]:
    """`import_student(stem)` imports `exercises/<stem>.py` (stubs, so calls raise)."""
    with _imports_from(STUDENT) as load:
        yield load
