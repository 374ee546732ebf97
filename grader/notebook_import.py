"""Import a sibling exercise notebook by its stem, in the student's own Jupyter.

    import grader.notebook_import          # once, in a "selfcheck-only" cell
    from ex3_mlp_backprop import forward   # runs ex3_mlp_backprop.ipynb from the current folder

Importing this module puts `NotebookFinder` at the front of `sys.meta_path`. It answers only for
a top-level name with a `<name>.ipynb` in the current folder, and then takes the notebook even
when a `<name>.py` sits beside it: the grader does the same (a notebook beats a module, and the
release ships a stub module next to each notebook). A module importable from anywhere else (the
standard library, an installed package) still wins, so a notebook cannot shadow `numpy`.

The notebook's code cells run in order in the new module, read as the grader reads them
(`grader.submission.notebook.read_cells`): nbgrader test cells and "selfcheck-only" cells are left
out and IPython magics become no-ops. A cell that raises stops the import with an ImportError
naming the cell, as "Run all" stops at the first error.

The grader never uses this: its worker resolves sibling imports to the staged submission itself.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import linecache
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Optional, Sequence

from grader.submission.notebook import read_cells


def cell_filename(path: Path, index: int) -> str:
    """The file name a cell's code carries in tracebacks, e.g. "ex3_mlp_backprop.ipynb, cell 8"."""
    return f"{path.name}, cell {index}"


class NotebookLoader(importlib.abc.Loader):
    """Runs the code cells of one notebook, in order, in the module being imported."""

    def __init__(self, path: Path):
        self.path = path

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[ModuleType]:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        module.__file__ = str(self.path)
        for index, source in read_cells(self.path).cells:
            filename = cell_filename(self.path, index)
            # mtime None keeps the entry: tracebacks show the cell's lines although no such file exists
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            try:
                exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)  # noqa: S102
            except Exception as exc:
                raise ImportError(f"importing {self.path.name} stopped at cell {index}: "
                                  f"{type(exc).__name__}: {exc}. Fix that cell, restart the kernel "
                                  "and import again.", name=module.__name__, path=str(self.path)) from exc


def _found_elsewhere(name: str, folder: Path) -> bool:
    """True when `name` is a built-in module or importable from a `sys.path` entry other than `folder`."""
    if name in sys.builtin_module_names:
        return True
    others = [entry for entry in sys.path if Path(entry or ".").resolve() != folder.resolve()]
    return importlib.machinery.PathFinder.find_spec(name, others) is not None


class NotebookFinder(importlib.abc.MetaPathFinder):
    """Finds `<name>.ipynb` for a top-level import of `name`, in `folder` (default: the current one)."""

    def __init__(self, folder: Optional[Path] = None):
        self.folder = folder

    def find_spec(self, fullname: str, path: Optional[Sequence[str]] = None,
                  target: Optional[ModuleType] = None) -> Optional[importlib.machinery.ModuleSpec]:
        if path is not None or not fullname.isidentifier():
            return None  # a submodule, or a name no notebook stem can be
        folder = Path(self.folder if self.folder is not None else os.getcwd())
        notebook = folder / f"{fullname}.ipynb"
        if not notebook.is_file() or _found_elsewhere(fullname, folder):
            return None
        return importlib.util.spec_from_file_location(fullname, notebook, loader=NotebookLoader(notebook))


def install(folder: Optional[Path] = None) -> NotebookFinder:
    """Put a finder at the front of `sys.meta_path`, once: a second call returns the one there."""
    for finder in sys.meta_path:
        if isinstance(finder, NotebookFinder) and finder.folder == folder:
            return finder
    finder = NotebookFinder(folder)
    sys.meta_path.insert(0, finder)
    return finder


install()
