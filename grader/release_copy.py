"""What of the `grader` package a student release copies, and how: no answer key goes with it.

A student release (`grader.release` for Module 2A, an assignment folder's `release.py` for the
others) copies the grader's Python modules less the instructor's: the paths in
`INSTRUCTOR_ONLY`, other assignments' folders, and every module that imports the reference, the
hidden checks, the authoring tools or nbgrader on import (`release_modules`). In the modules
that remain, two kinds of function keep only their signature and docstring:

- one whose body starts by importing the reference (`without_reference_bodies`): Module 2A's
  fixture builders and variants computed from the reference;
- one marked `@withheld` or `@recorded` (`without_withheld_bodies`; see
  `grader.checks.lib.withheld`): answer-key code inside modules the release needs.

`public_rubric_text` writes a rubric without its hidden tests, in TOML the grader reads back.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any, Callable, Optional

from grader.rubric import Rubric

PACKAGE = "grader"
# Left out of the copy, as paths relative to the package folder.
INSTRUCTOR_ONLY: tuple[str, ...] = ("checks/hidden", "authoring", "demo", "release.py")
# A module importing one of these at module level would fail (or give something away) in a release.
INSTRUCTOR_IMPORTS: tuple[str, ...] = ("reference", "grader.checks.hidden", "grader.authoring",
                                       "grader.release", "nbgrader")


def _is_under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _module_level_imports(tree: ast.Module) -> list[str]:
    """Modules imported by statements that run on import: not those inside functions or classes."""
    found, pending = [], list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            pending += [child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)]
    return found


def imports_instructor_code(source: str) -> bool:
    """True when `source` imports the reference, hidden checks, authoring or nbgrader on import."""
    return any(_is_under(name, INSTRUCTOR_IMPORTS) for name in _module_level_imports(ast.parse(source)))


REFERENCE_STUB = ('raise ModuleNotFoundError("needs the reference, which the student release leaves out", '
                  'name="reference")')


def _imports_reference(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import):
        return any(_is_under(alias.name, ("reference",)) for alias in node.names)
    return isinstance(node, ast.ImportFrom) and node.level == 0 and _is_under(node.module or "", ("reference",))


def _code_after_docstring(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
    body = function.body
    has_docstring = (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                     and isinstance(body[0].value.value, str))
    return body[1:] if has_docstring else body


def _needs_reference(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """True when the function's first statements (after its docstring) are imports, one of the reference."""
    leading = []
    for statement in _code_after_docstring(function):
        if not isinstance(statement, (ast.Import, ast.ImportFrom)):
            break
        leading.append(statement)
    return any(_imports_reference(statement) for statement in leading)


Function = ast.FunctionDef | ast.AsyncFunctionDef


def _replaced_bodies(source: str, chosen: Callable[[Function], bool], stub: Callable[[Function, str], str]) -> str:
    """`source` with the body (after its docstring) of each `chosen` function replaced by the
    lines `stub(function, indent)`; a function inside a replaced body goes with it."""
    lines = source.splitlines(keepends=True)
    functions = [node for node in ast.walk(ast.parse(source))
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and chosen(node)]
    outermost = [f for f in functions if not any(other is not f and other.lineno <= f.lineno <= other.end_lineno
                                                 for other in functions)]
    for function in sorted(outermost, key=lambda node: node.lineno, reverse=True):
        first = _code_after_docstring(function)[0]
        if first.lineno == function.lineno:
            raise ValueError(f"line {function.lineno}: put the body of {function.name} on its own lines")
        indent = lines[first.lineno - 1][: first.col_offset]
        lines[first.lineno - 1: function.end_lineno] = [indent + stub(function, indent) + "\n"]
    return "".join(lines)


def without_reference_bodies(source: str) -> str:
    """`source` with the body of each function that starts by importing the reference replaced
    by `REFERENCE_STUB` (see the module docstring). Other lines are unchanged."""
    return _replaced_bodies(source, _needs_reference, lambda function, indent: REFERENCE_STUB)


def release_modules(package_dir: Path, *, assignment_folder: Optional[str] = None,
                    left_out: tuple[str, ...] = (), instructor_imports: tuple[str, ...] = ()) -> list[Path]:
    """The package's Python files that go into the release, relative to `package_dir`, sorted.

    `assignment_folder`: the one folder of `assignments/` that goes in (None: none; Module 2A's
    spec is a module beside them). `left_out`: more paths, relative to the package, that stay
    out; `instructor_imports`: more modules whose importers stay out.
    """
    chosen = []
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir)
        name = relative.as_posix()
        if "__pycache__" in relative.parts or any(name == out or name.startswith(out + "/")
                                                  for out in INSTRUCTOR_ONLY + left_out):
            continue
        if relative.parts[0] == "assignments" and len(relative.parts) > 2 and relative.parts[1] != assignment_folder:
            continue  # another assignment's folder (its checks, reference and solution)
        try:
            source = path.read_text(encoding="utf-8")
            instructor_only = imports_instructor_code(source) or any(
                _is_under(imported, instructor_imports) for imported in _module_level_imports(ast.parse(source)))
        except SyntaxError as exc:
            raise ValueError(f"{PACKAGE}/{name} does not parse (line {exc.lineno}: {exc.msg}); "
                             "fix it before building the release") from None
        if not instructor_only:
            chosen.append(relative)
    return chosen


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)  # Python's float repr (1e-06, 0.5, inf) is valid TOML
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"a rubric setting must be a number, string, bool, list or table, not {type(value).__name__}")


def _toml_key(key: str) -> str:
    return key if key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key) else json.dumps(key)


def public_rubric_text(rubric: Rubric) -> str:
    """`rubric.public()` as a TOML file `grader.rubric.parse_rubric` reads back to the same Rubric."""
    public = rubric.public()
    lines = [f"exercise = {_toml_value(public.exercise)}", f"title = {_toml_value(public.title)}", "",
             "[settings]"]
    lines += [f"{_toml_key(key)} = {_toml_value(value)}" for key, value in public.settings.items()]
    lines += ["", "[tests]"]
    lines += [f"{json.dumps(name)} = {{ points = {_toml_value(item.points)}, "
              f"visibility = {_toml_value(item.visibility)}{_requires_text(item.requires)} }}"
              for name, item in public.tests.items()]
    return "\n".join(lines) + "\n"


def _requires_text(requires: tuple[str, ...]) -> str:
    return f", requires = [{', '.join(json.dumps(r) for r in requires)}]" if requires else ""


WITHHELD_STUB = ("from grader.checks.lib.withheld import AnswerWithheld\n"
                 "{indent}raise AnswerWithheld(\"{name} is answer-key code, which the student release leaves out\")")
WITHHELD_MARKS = ("withheld", "recorded")  # the decorators of `grader.checks.lib.withheld`


def _is_withheld(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name) and target.id in WITHHELD_MARKS:
            return True
    return False


def without_withheld_bodies(source: str) -> str:
    """`source` with the body of each `@withheld` or `@recorded(...)` function replaced by a raise
    of `AnswerWithheld` (its signature, decorators and docstring stay). Other lines are unchanged."""
    return _replaced_bodies(source, _is_withheld,
                            lambda function, indent: WITHHELD_STUB.format(indent=indent, name=function.name))


def student_pyproject_text(*, name: str, version: str, description: str, package_data: tuple[str, ...]) -> str:
    """A student release's minimal project: the `grader` package, its data files and `grade`."""
    data = ", ".join(json.dumps(pattern) for pattern in package_data)
    return f"""[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "{description}"
readme = "README.md"
requires-python = ">=3.10"
dependencies = [
    "numpy>=1.23",
    "click>=8.1",
    "nbformat>=5.7",
    "tomli>=2.0; python_version < '3.11'",
]

[project.scripts]
grade = "grader.cli:main"

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.setuptools.package-data]
grader = [{data}]
"""
