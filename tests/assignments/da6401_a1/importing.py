"""Import a skeleton-shaped repository's `ann` package for one test, then forget it again.

Every copy (the solution, the skeleton, each catalogue variant) calls its package `ann`, so
the modules of one must leave `sys.modules` before another is imported, and nothing may be
written beside the sources (no `__pycache__` in the grader's tree).
"""
from __future__ import annotations

import contextlib
import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Iterator

SOLUTION = Path(__file__).resolve().parents[3] / "grader" / "assignments" / "da6401_a1" / "solution"
SKELETON = SOLUTION.parent / "skeleton"


def forget(src: Path) -> None:
    """Drop `ann` and its submodules, and any module loaded from under `src`, from sys.modules."""
    src = Path(src).resolve()
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        inside = origin is not None and Path(origin).resolve().is_relative_to(src)
        if name == "ann" or name.startswith("ann.") or inside:
            del sys.modules[name]


@contextlib.contextmanager
def on_path(src: Path) -> Iterator[Path]:
    """`src` first on sys.path, no bytecode written, and its modules forgotten before and after."""
    src = Path(src).resolve()
    forget(src)
    importlib.invalidate_caches()
    sys.path.insert(0, str(src))
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        yield src
    finally:
        sys.dont_write_bytecode = writes_bytecode
        sys.path.remove(str(src))
        forget(src)


@contextlib.contextmanager
def imported(src: Path, module: str = "ann") -> Iterator[ModuleType]:
    """The module `module` (default the package `ann`) of the repository whose sources are `src`."""
    with on_path(src):
        yield importlib.import_module(module)
