"""Makes the staged submission importable by file stem, modules and notebooks alike.

The staged folder holds `NAME.py` (a module) and `NAME.cells.json` (a notebook:
`{"cells": [{"index": i, "source": "..."}]}`). `StagedFinder` goes at the end of
`sys.meta_path`, so `import ex3_mlp_backprop` works from the grader's side and from inside another
exercise, while the standard library and numpy always win over a file that shadows them.

A notebook runs like Jupyter's "Run all" that carries on after errors: its cells execute one by
one in the module namespace, and a cell that raises (or does not compile) is recorded and the
next cells still run, so what was defined can still be graded.

A module runs the same way, one top-level statement at a time: a stray `raise` or debugging line
is recorded as that line's error and the module's other functions are still graded. Only a
module that does not compile fails as a whole (a syntax error). `__name__` is the stem, so an
`if __name__ == "__main__":` block does not run, as on any import.

Both get a do-nothing `get_ipython()`, which `jupyter nbconvert --to script` exports call for
each magic (`get_ipython().run_line_magic("matplotlib", "inline")`).
"""
from __future__ import annotations

import __future__
import ast
import importlib
import importlib.util
import json
import linecache
import os
import re
import sys
from typing import Any

from .handler import LoadedModule, ModuleMissingError

STEM = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MODULE_SUFFIX = ".py"
NOTEBOOK_SUFFIX = ".cells.json"


def cell_filename(name: str, index: int) -> str:
    """The name a notebook cell's code carries in tracebacks."""
    return f"{name}.ipynb, cell {index}"


class StagedFinder:
    """A meta path finder for the staged submission folder."""

    def __init__(self, folder: str):
        self.folder = folder
        self.sources = scan(folder)  # stem -> path of the staged file
        self.filenames: set[str] = set()  # code filenames of student code, for tracebacks
        self.cell_failures: dict[str, list[tuple[int, BaseException]]] = {}

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if path is not None or fullname not in self.sources:
            return None
        source = self.sources[fullname]
        loader: Any = NotebookLoader(self) if source.endswith(NOTEBOOK_SUFFIX) else ModuleLoader(self)
        return importlib.util.spec_from_loader(fullname, loader, origin=source)

    def is_student_file(self, filename: str) -> bool:
        return filename in self.filenames

    def remember(self, filename: str, source: str) -> None:
        """Make `filename` the student's in tracebacks, with its lines shown."""
        self.filenames.add(filename)
        # mtime None: linecache.checkcache keeps the entry although no such file exists
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def scan(folder: str) -> dict[str, str]:
    """Stem -> staged file; a notebook wins over a module of the same stem."""
    found: dict[str, str] = {}
    for entry in sorted(os.listdir(folder)):
        for suffix in (MODULE_SUFFIX, NOTEBOOK_SUFFIX):
            stem = entry[: -len(suffix)]
            if entry.endswith(suffix) and STEM.match(stem) and (stem not in found or suffix == NOTEBOOK_SUFFIX):
                found[stem] = os.path.join(folder, entry)
    return found


class ModuleLoader:
    """Executes `NAME.py` statement by statement, recording the ones that raise."""

    def __init__(self, finder: StagedFinder):
        self.finder = finder

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        name = module.__name__
        path = self.finder.sources[name]
        with open(path, "rb") as file:
            source = importlib.util.decode_source(file.read())
        filename = f"{name}.py"
        self.finder.remember(filename, source)
        module.__file__ = path
        module.get_ipython = get_ipython
        # the whole module first: a SyntaxError anywhere fails the import, as Python's would
        tree = ast.parse(source, filename)
        compile(tree, filename, "exec", dont_inherit=True)
        failures = self.finder.cell_failures.setdefault(name, [])
        failures.clear()
        flags = 0
        for statement in tree.body:
            flags |= future_flags(statement)
            code = compile(ast.Module(body=[statement], type_ignores=[]), filename, "exec",
                           flags=flags, dont_inherit=True)
            try:
                exec(code, module.__dict__)
            except (Exception, SystemExit) as exc:
                failures.append((statement.lineno, exc))
        module.__doc__ = ast.get_docstring(tree, clean=False)  # a later bare string is not one


def future_flags(statement: ast.stmt) -> int:
    """Compiler flags a `from __future__ import ...` statement turns on for the rest of the module."""
    if not (isinstance(statement, ast.ImportFrom) and statement.module == "__future__"):
        return 0
    flags = 0
    for alias in statement.names:
        feature = getattr(__future__, alias.name, None)
        flags |= getattr(feature, "compiler_flag", 0)
    return flags


class _IPythonStub:
    """What `get_ipython()` returns here: every method accepts anything and does nothing."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None


def get_ipython() -> _IPythonStub:
    """A stand-in for IPython's: magics and shell escapes in exported notebooks become no-ops."""
    return _IPythonStub()


class NotebookLoader:
    """Executes a staged notebook's cells in order, recording the ones that fail."""

    def __init__(self, finder: StagedFinder):
        self.finder = finder

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        name = module.__name__
        path = self.finder.sources[name]
        module.__file__ = path
        module.get_ipython = get_ipython
        failures = self.finder.cell_failures.setdefault(name, [])
        failures.clear()
        for index, source in read_cells(path):
            filename = cell_filename(name, index)
            self.finder.remember(filename, source)
            try:
                exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)
            except (Exception, SystemExit) as exc:
                # Jupyter keeps going after sys.exit() in a cell too; KeyboardInterrupt still stops
                failures.append((index, exc))


def read_cells(path: str) -> list[tuple[int, str]]:
    """The (index, source) pairs of a staged notebook, or ImportError saying what is wrong."""
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError) as exc:
        raise ImportError(f"{os.path.basename(path)} is not a readable staged notebook: {exc}") from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list) or not all(
            isinstance(c, dict) and type(c.get("index")) is int and isinstance(c.get("source"), str)
            for c in cells):
        raise ImportError(f"{os.path.basename(path)} must be "
                          '{"cells": [{"index": int, "source": str}, ...]}')
    return [(c["index"], c["source"]) for c in cells]


class ImportedModules:
    """The handler's module source inside the worker: imports staged files through the finder."""

    def __init__(self, finder: StagedFinder):
        self.finder = finder

    def load(self, name: str) -> LoadedModule:
        if name not in self.finder.sources:
            raise ModuleMissingError(f"the submission has no {name} (neither {name}.ipynb nor {name}.py)")
        module = sys.modules.get(name) or importlib.import_module(name)
        spec = getattr(module, "__spec__", None)
        if spec is None or not isinstance(spec.loader, (ModuleLoader, NotebookLoader)):
            raise ImportError(f"the file name {name} is taken by a standard module; rename the file")
        unit = "line" if isinstance(spec.loader, ModuleLoader) else "cell"
        return LoadedModule(name, module.__dict__, list(self.finder.cell_failures.get(name, [])), unit)


def install(folder: str) -> StagedFinder:
    """Append a finder for `folder` to `sys.meta_path` and return it."""
    finder = StagedFinder(folder)
    sys.meta_path.append(finder)
    return finder


__all__ = ["StagedFinder", "ImportedModules", "install", "read_cells", "scan", "cell_filename"]
