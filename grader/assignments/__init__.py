"""The installed assignments (course profiles), by name, and assignments kept in a folder of their own.

An assignment is one folder (or, for Module 2A, one module) whose `ASSIGNMENT` is an
`Assignment` (see `spec.py`). Installing one is one line in `INSTALLED`. An assignment outside
the grader's package (a course's own, or a test's) is named by its folder instead: the folder
is a Python package whose `__init__.py` defines `ASSIGNMENT`, usually with `flat_assignment`,
beside `checks/` (public checks, `checks/hidden/` for hidden ones) and `rubric/`.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Union

from grader.assignments.spec import Assignment, Exercise, flat_assignment

__all__ = ["Assignment", "Exercise", "flat_assignment", "DEFAULT_ASSIGNMENT", "INSTALLED", "UnknownAssignment",
           "get_assignment", "installed_assignments", "load_folder", "default_assignment", "ensure_loaded"]

DEFAULT_ASSIGNMENT = "module-2a"

# name -> the module whose ASSIGNMENT it is
INSTALLED: dict[str, str] = {
    "module-2a": "grader.assignments.module_2a",
    "da6401-a1": "grader.assignments.da6401_a1",
}


class UnknownAssignment(LookupError):
    """`--assignment` named neither an installed assignment nor an assignment folder."""


def _from_module(module_name: str) -> Assignment:
    assignment = getattr(importlib.import_module(module_name), "ASSIGNMENT", None)
    if not isinstance(assignment, Assignment):
        raise UnknownAssignment(f"{module_name} defines no ASSIGNMENT")
    return assignment


def default_assignment() -> Assignment:
    return _from_module(INSTALLED[DEFAULT_ASSIGNMENT])


def installed_assignments() -> list[Assignment]:
    """Every installed assignment whose module can be imported here (a student release holds one)."""
    found = []
    for module_name in INSTALLED.values():
        try:
            found.append(_from_module(module_name))
        except ModuleNotFoundError:  # left out of this copy of the grader
            continue
    return found


def _package_name(folder: Path) -> str:
    """A module name for an assignment folder, unique per path, so two folders never collide."""
    tag = re.sub(r"\W+", "_", folder.name).strip("_") or "assignment"
    return f"bpg_assignment_{tag}_{hashlib.sha256(str(folder).encode()).hexdigest()[:8]}"


def load_folder(folder: Union[str, Path]) -> Assignment:
    """The assignment defined by `folder/__init__.py`, its package imported under a name of its own."""
    folder = Path(folder).resolve()
    init = folder / "__init__.py"
    if not init.is_file():
        raise UnknownAssignment(f"{folder} is not an assignment folder: it has no __init__.py defining ASSIGNMENT")
    name = _package_name(folder)
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(folder)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    assignment = getattr(module, "ASSIGNMENT", None)
    if not isinstance(assignment, Assignment):
        raise UnknownAssignment(f"{init} defines no ASSIGNMENT (an grader.assignments.Assignment)")
    if not assignment.checks_package.startswith(name + "."):
        raise UnknownAssignment(f"{init}: checks_package must be inside the folder's package; "
                                "build ASSIGNMENT with flat_assignment(..., package=__name__, ...)")
    return replace(assignment, folder=folder)


def ensure_loaded(assignment: Assignment) -> None:
    """Make `assignment`'s checks importable in this process (a pool process gets it by pickle)."""
    if assignment.folder is not None and assignment.checks_package.split(".")[0] not in sys.modules:
        load_folder(assignment.folder)


def get_assignment(name: Union[str, Path, Assignment, None] = None) -> Assignment:
    """The installed assignment called `name`, or the one in the folder `name`; None: the default."""
    if isinstance(name, Assignment):
        return name
    if name is None or name == "":
        return default_assignment()
    if str(name) in INSTALLED:
        try:
            return _from_module(INSTALLED[str(name)])
        except ModuleNotFoundError:
            raise UnknownAssignment(f"assignment {name} is not part of this copy of the grader") from None
    if Path(name).is_dir():
        return load_folder(Path(name))
    names = ", ".join(a.name for a in installed_assignments())
    raise UnknownAssignment(f"no assignment {str(name)!r}: installed are {names} (see `grade assignments`), "
                            "or name an assignment folder. nbgrader's assignment name is --gradebook-assignment.")
