"""How the check modules depend on each other: exercise modules on libraries, never on one another.

An exercise module is `grader/checks/<stem>.py` or `grader/checks/hidden/<stem>.py`. What they
share lives in `grader/checks/lib/`, which the student release ships without the hidden checks.
"""
from __future__ import annotations

import ast
from pathlib import Path

import grader
import grader.checks
from grader.release import release_modules

CHECKS = Path(grader.checks.__file__).resolve().parent
PACKAGE = Path(grader.__file__).resolve().parent


def exercise_modules() -> dict[str, Path]:
    """Module name -> file, for every exercise's public and hidden check module."""
    public = {f"grader.checks.{path.stem}": path for path in CHECKS.glob("ex[0-9]*_*.py")}
    hidden = {f"grader.checks.hidden.{path.stem}": path for path in (CHECKS / "hidden").glob("ex[0-9]*_*.py")}
    return {**public, **hidden}


def lib_modules() -> dict[str, Path]:
    return {f"grader.checks.lib.{path.stem}": path for path in (CHECKS / "lib").glob("*.py")}


def imported(path: Path, module: str) -> set[str]:
    """Every module `path` imports anywhere (inside functions too); `from a import b` gives a and a.b."""
    package = module.rsplit(".", 1)[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against this module's package
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_the_exercise_modules_are_found():
    found = exercise_modules()
    assert {"grader.checks.ex1_activations_losses", "grader.checks.hidden.ex1_activations_losses",
            "grader.checks.ex6_gradient_descent", "grader.checks.hidden.ex6_gradient_descent"} <= set(found)
    assert "grader.checks.lib.answers" in lib_modules()


def test_no_exercise_module_imports_another_exercise_module():
    modules = exercise_modules()
    crossing = {module: sorted(imported(path, module) & (set(modules) - {module}))
                for module, path in modules.items()}
    assert {module: names for module, names in crossing.items() if names} == {}


def test_the_libraries_import_no_exercise_module_and_nothing_hidden():
    exercises = set(exercise_modules())
    for module, path in lib_modules().items():
        names = imported(path, module)
        assert not names & exercises, module
        assert not [name for name in names if name.split(".")[:3] == ["grader", "checks", "hidden"]], module


def test_the_release_ships_every_library_module():
    shipped = {path.as_posix() for path in release_modules(PACKAGE)}
    assert {f"checks/lib/{path.name}" for path in (CHECKS / "lib").glob("*.py")} <= shipped
