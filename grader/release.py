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

import importlib
import json
from pathlib import Path
from typing import Optional

import grader
from grader.authoring.check_groups import EXERCISES
from grader.authoring.generate import STUDENT_DIR, default_root, files_for, read_source
from grader.checks.fixtures import build_all
from grader.release_copy import (  # noqa: F401  (names of the release's own API, kept importable here)
    INSTRUCTOR_IMPORTS, INSTRUCTOR_ONLY, PACKAGE, REFERENCE_STUB, imports_instructor_code, public_rubric_text,
    release_modules, student_pyproject_text, without_reference_bodies, without_withheld_bodies,
)
from grader.rubric import load_rubric

# Folders of exercises/ that students receive as they are, beside the generated files.
STUDENT_EXTRAS: tuple[str, ...] = ("ci",)


def pyproject_text() -> str:
    """A minimal project: the `grader` package, its data files and the `grade` command."""
    return student_pyproject_text(
        name="backprop-grader-student", version=grader.__version__,
        description="Self-checks for the Module 2A exercises: losses, activations, backpropagation, autograd.",
        package_data=("rubric/*.toml", "public_data/*.json"))


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
