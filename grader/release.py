"""The student release: what students receive, with no reference code, solution or hidden check.

    grade release --out DIR

writes

    DIR/README.md                 how to install, work and self-check
    DIR/pyproject.toml            `pip install ./DIR` gives `grade check`, `grade case` and
                                  `grader.personal_case`, needing only numpy, click and nbformat
    DIR/exercises/<stem>.ipynb    the student notebooks and modules, made from
    DIR/exercises/<stem>.py       solutions/<stem>.ipynb by nbgrader's preprocessors (the generator's)
    DIR/exercises/ci/...          the students' CI template, copied as it is
    DIR/grader/...                the grader's Python modules, less the instructor's (below)
    DIR/grader/rubric/<stem>.toml         the public rubric (`Rubric.public()`: hidden tests left out)
    DIR/grader/public_data/<stem>.json    the public checks' data (`fixtures.build_all`), read in
                                          place of the reference

Left out of `grader/`: `checks/hidden/`, `authoring/`, `demo/` (a class of worked submissions),
the folders of other assignments under `assignments/` (their specs, checks and solutions),
this module, everything that is not a Python module (the instructor's README, the full rubrics),
and any module that imports the reference, the hidden checks, the authoring tools or nbgrader at
module level. In the modules that remain, a function that starts by importing the reference (a
fixture builder, a variant computed from the reference) could only raise there, and its code
shows how answers are made: its body becomes that raise, its signature and docstring stay.
Instructor only: building needs the repository's `solutions/` and nbgrader.
"""
from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path
from typing import Any, Optional

import grader
from grader.authoring.check_groups import EXERCISES
from grader.authoring.generate import STUDENT_DIR, default_root, files_for, read_source
from grader.checks.fixtures import build_all
from grader.rubric import Rubric, load_rubric

PACKAGE = "grader"
# Left out of the copy, as paths relative to the package folder.
INSTRUCTOR_ONLY: tuple[str, ...] = ("checks/hidden", "authoring", "demo", "release.py")
# A module importing one of these at module level would fail (or give something away) in a release.
# Folders of exercises/ that students receive as they are, beside the generated files.
STUDENT_EXTRAS: tuple[str, ...] = ("ci",)
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


def without_reference_bodies(source: str) -> str:
    """`source` with the body of each function that starts by importing the reference replaced
    by `REFERENCE_STUB` (see the module docstring). Other lines are unchanged."""
    lines = source.splitlines(keepends=True)
    functions = [node for node in ast.walk(ast.parse(source))
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _needs_reference(node)]
    # only the outermost: a function inside a replaced body goes with it
    outermost = [f for f in functions if not any(other is not f and other.lineno <= f.lineno <= other.end_lineno
                                                 for other in functions)]
    for function in sorted(outermost, key=lambda node: node.lineno, reverse=True):
        code = _code_after_docstring(function)
        first = code[0]
        if first.lineno == function.lineno:
            raise ValueError(f"line {function.lineno}: put the body of {function.name} on its own lines")
        indent = lines[first.lineno - 1][: first.col_offset]
        lines[first.lineno - 1: function.end_lineno] = [indent + REFERENCE_STUB + "\n"]
    return "".join(lines)


def release_modules(package_dir: Path) -> list[Path]:
    """The package's Python files that go into the release, relative to `package_dir`, sorted."""
    chosen = []
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir)
        name = relative.as_posix()
        if "__pycache__" in relative.parts or any(name == left_out or name.startswith(left_out + "/")
                                                  for left_out in INSTRUCTOR_ONLY):
            continue
        if relative.parts[0] == "assignments" and len(relative.parts) > 2:
            continue  # another assignment's folder (its checks, reference and solution): not Module 2A's release
        try:
            instructor_only = imports_instructor_code(path.read_text(encoding="utf-8"))
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


def pyproject_text() -> str:
    """A minimal project: the `grader` package, its data files and the `grade` command."""
    return f"""[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "backprop-grader-student"
version = "{grader.__version__}"
description = "Self-checks for the Module 2A exercises: losses, activations, backpropagation, autograd."
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
grader = ["rubric/*.toml", "public_data/*.json"]
"""


README = """# Module 2A exercises: losses, activations, backpropagation, autograd

Six exercises, each a notebook in `exercises/` (with the same code as a plain module beside it):

| exercise | file |
|---|---|
{table}

## Set up

    pip install ./{folder}        # the folder holding this README

This installs the `grade` command and the `grader` package the notebooks' check cells use.
Then open the notebooks with Jupyter from inside `exercises/`.

## Work

Replace each `raise NotImplementedError()` with your code (in exercise 2, also fill in the
`STUDENT_ID` and `HAND_ANSWERS` templates and delete the `raise` after each). Run the check cell
under each task: it runs the public checks and says what is wrong. Exercise 6 imports your
exercise 3 by its name: from `ex3_mlp_backprop.ipynb`, or from `ex3_mlp_backprop.py` when there
is no notebook. The grader decides the same way for every exercise: a notebook beats a module.

## Check before you submit

    grade check exercises/                 # every exercise, as the grader will run it
    grade check exercises/ --student ID    # the same, with your student id
    grade case ID                          # your personal numbers for exercise 2

`grade check` exits 1 while a public check fails; `exercises/ci/` has a template that runs it on
every push of a repository (see its README). Your instructor also runs hidden checks
(other inputs, edge cases, your personal case), so passing the public ones is necessary, not
sufficient. Submit the notebooks (or the `.py` files) with their names unchanged.
"""


def readme_text(folder: str) -> str:
    table = "\n".join(f"| {number} | `{stem}.ipynb` |" for number, stem in enumerate(EXERCISES, start=1))
    return README.format(table=table, folder=folder)


def public_data(exercise: str) -> dict:
    """Every public fixture of `exercise`, built from the reference (its check module registers them)."""
    importlib.import_module(f"grader.checks.{exercise}")
    data = build_all(exercise)
    if not data:
        raise ValueError(f"grader/checks/{exercise}.py registers no public data; its checks would have none")
    return data


def release_files(root: Path) -> dict[str, str]:
    """Every text file of the release that is made, not copied: relative path -> text."""
    files: dict[str, str] = {}
    for stem in EXERCISES:
        generated = files_for(read_source(root, stem), stem)
        files.update({path: text for path, text in generated.items() if path.startswith(STUDENT_DIR + "/")})
        files[f"{PACKAGE}/rubric/{stem}.toml"] = public_rubric_text(load_rubric(stem))
        files[f"{PACKAGE}/public_data/{stem}.json"] = json.dumps(public_data(stem), indent=1) + "\n"
    for extra in STUDENT_EXTRAS:
        folder = root / STUDENT_DIR / extra
        for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
            if path.is_file() and not any(part.startswith(".") or part == "__pycache__"
                                          for part in path.relative_to(folder).parts):
                files[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    files["pyproject.toml"] = pyproject_text()
    return files


def build_release(out_dir: Path, *, root: Optional[Path] = None) -> Path:
    """Write the student release into `out_dir` (new, or an empty folder) and return its path.

    `root`: the repository holding `solutions/` (default: the one this package sits in).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f"{out_dir} is not an empty folder; choose a new one or empty it first")
    root = Path(root) if root is not None else default_root()
    package_dir = Path(grader.__file__).resolve().parent
    # everything is made before anything is written: a missing notebook or a module that does
    # not parse leaves no half-built release behind
    files = release_files(root)
    for relative in release_modules(package_dir):
        source = (package_dir / relative).read_text(encoding="utf-8")
        files[f"{PACKAGE}/{relative.as_posix()}"] = without_reference_bodies(source)
    files["README.md"] = readme_text(out_dir.name)
    out_dir.mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return out_dir
