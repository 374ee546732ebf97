"""The student release of da6401-a1: the course skeleton repository, ready to push, with its self-checks.

    grade release --assignment da6401-a1 --out DIR

writes the skeleton (`skeleton/`: `src/ann/*.py` with the signatures and docstrings, no
solution), the students' CI workflow as `.github/workflows/checks.yml` (`ci/github-actions.yml`),
a README saying how to self-check, and `checks/`: the grader as students may have it
(`pip install ./checks` gives `grade check --assignment da6401-a1`).

`checks/` holds no answer key. The grader's modules are copied as Module 2A's release copies
them (`grader.release`), with this assignment's folder but not its `solution/`, `skeleton/`,
hidden checks, optimizer rules (`optimizers.py`, `optimizer_diagnosis.py`) or this module;
every function marked `@withheld` or `@recorded` (`grader.checks.lib.withheld`: the
reference's derivatives, loss gradients and backward, and the gradient variants the diagnosis
compares with) keeps only its signature and docstring. The answers the public checks need are
recorded instead: the builder grades the solution's public forward and gradient checks, keeps
every answer a `@recorded` function gave (and the gradient variants of each case, which a
correct submission never asks for), and ships them in `grader/public_data/da6401_a1.json`.

The optimizer checks are withheld whole (`WITHHELD_PARTS`): they replay the textbook rules on the
student's own recorded weights and gradients, so no table of answers can stand in for the rules.
They run when the instructor grades; the release's `grade check` says so.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

import grader
from grader.release_copy import (
    public_rubric_text, release_modules, student_pyproject_text, without_reference_bodies, without_withheld_bodies,
)

FOLDER = Path(__file__).resolve().parent
SKELETON = FOLDER / "skeleton"
SOLUTION = FOLDER / "solution"
WORKFLOW = FOLDER / "ci" / "github-actions.yml"
CHECKS = "checks"  # the release's folder holding the students' grader
TABLE = "da6401_a1"  # grader/public_data/<TABLE>.json
WITHHELD_PARTS: tuple[str, ...] = ("a1_optimizers",)
WITHHELD_FILE = "withheld_parts.txt"  # in the release's assignment folder: the parts it cannot check
RECORDED_PARTS: tuple[str, ...] = ("a1_forward", "a1_gradients")  # the parts whose checks ask for recorded answers
_HERE = "assignments/da6401_a1"
LEFT_OUT: tuple[str, ...] = tuple(f"{_HERE}/{name}" for name in (
    "checks/hidden", "solution", "skeleton", "release.py", "optimizers.py", "optimizer_diagnosis.py",
    "checks/a1_optimizers.py", "checks/lib/optimizer_runs.py"))
ANSWER_KEY_IMPORTS: tuple[str, ...] = ("grader.assignments.da6401_a1.optimizers",
                                       "grader.assignments.da6401_a1.optimizer_diagnosis",
                                       "grader.assignments.da6401_a1.checks.hidden")

CHECKING = """
## Checking your work

Install the self-checks once (they are in `checks/`), then, in this folder:

```sh
pip install ./checks
grade check --assignment da6401-a1
```

It runs the public checks in a sandbox, as your instructor's grading does: `forward` on known
weights for each activation, `backward` against the right gradients and against central
differences of your own forward, and `python src/train.py` with a few of the spec's options (it
must save best_model.npy, with the layers asked for, that learns). Every failure says what is
wrong and, when it recognises a common mistake, names it. `.github/workflows/checks.yml` runs
the same checks on every push. Three things are checked only when your instructor grades: the
optimizers (`update_weights` for sgd, momentum, nag, rmsprop, adam and nadam: checking them
needs the rules themselves, which these self-checks do not contain), your `best_model.npy` on the
course's real test data (here the check says it cannot be scored), and the hidden checks.
"""

CHECKS_README = """# Self-checks for Assignment 1 (da6401-a1)

`pip install ./checks` (from the repository's top folder) installs the `grade` command with the
public checks of Assignment 1. Then `grade check --assignment da6401-a1` in the repository runs
them in a sandbox and prints what passed, what failed and why.

This folder holds no answer key: the right logits come from the forward pass the hints
describe, the right gradients for the public cases were recorded when the release was built
(`grader/public_data/da6401_a1.json`), and the code that computes gradients is left out. So
these checks answer only for their own fixed cases, and the optimizer checks, which replay the
update rules on your own gradients, run only when your instructor grades. Do not edit this
folder; your instructor grades with their own copy of the grader.
"""


def _public_checks_pyproject() -> str:
    return student_pyproject_text(
        name="backprop-grader-da6401-a1-checks", version=grader.__version__,
        description="Public self-checks of DA6401 Assignment 1 (src/ann): forward, backward and train.py.",
        package_data=("public_data/*.json", "assignments/**/*.toml", "assignments/**/*.txt"))


def recorded_answers(solution: Path = SOLUTION) -> dict:
    """The answers the public checks of `RECORDED_PARTS` ask `@recorded` functions for.

    The solution is graded (public checks, self-check cases) inside `recording()`; every case it
    asked the reference's gradients for also gets its gradient variants recorded, since only a
    wrong answer asks for those. Raises ValueError when the solution does not pass every check:
    a table made then would not be the answer key's.
    """
    from grader.assignments import get_assignment
    from grader.assignments.da6401_a1.checks.lib.gradient_evidence import gradient_variants
    from grader.checks.lib.withheld import recorded_arguments, recording
    from grader.grade_path import grade_path
    from grader.pipeline import GradingOptions

    options = GradingOptions(hidden=False, exercises=RECORDED_PARTS, assignment=get_assignment("da6401-a1"))
    with tempfile.TemporaryDirectory() as tmp, recording() as answers:
        copy = Path(tmp) / "solution"
        shutil.copytree(solution, copy, ignore=shutil.ignore_patterns("__pycache__"))
        result = grade_path(copy, options=options)
        failed = [f"{exercise.name} {test.name}" for exercise in result.exercises for test in exercise.tests
                  if test.status != "passed"] + [error.message for error in result.errors]
        if failed or not result.exercises:
            raise ValueError("the solution does not pass the public checks it records answers from: "
                             + "; ".join(failed or ["nothing was graded"]))
        for (case,) in recorded_arguments(TABLE, "reference_gradients"):
            gradient_variants(case)
    table = answers.get(TABLE, {})
    if not table.get("reference_gradients"):
        raise ValueError("grading the solution recorded no answers: the public checks asked for none")
    return {"numpy": np.__version__, **table}


def public_checks_files(answers: dict) -> dict[str, bytes]:
    """The files of `checks/` (relative to it): the students' grader with no answer key."""
    from grader.assignments import get_assignment
    from grader.rubric import load_rubric

    package_dir = Path(grader.__file__).resolve().parent
    files: dict[str, bytes] = {}
    for relative in release_modules(package_dir, assignment_folder="da6401_a1", left_out=LEFT_OUT,
                                    instructor_imports=ANSWER_KEY_IMPORTS):
        source = (package_dir / relative).read_text(encoding="utf-8")
        files[f"grader/{relative.as_posix()}"] = without_withheld_bodies(without_reference_bodies(source)).encode()
    assignment = get_assignment("da6401-a1")
    for stem in assignment.stems:
        if stem not in WITHHELD_PARTS:
            text = public_rubric_text(load_rubric(stem, assignment.rubric_dir))
            files[f"grader/{_HERE}/rubric/{stem}.toml"] = text.encode()
    files[f"grader/{_HERE}/{WITHHELD_FILE}"] = "".join(f"{stem}\n" for stem in WITHHELD_PARTS).encode()
    files[f"grader/public_data/{TABLE}.json"] = (json.dumps(answers, separators=(",", ":")) + "\n").encode()
    files["pyproject.toml"] = _public_checks_pyproject().encode()
    files["README.md"] = CHECKS_README.encode()
    return files


def release_files(answers: dict) -> dict[str, bytes]:
    """Relative path -> content of every file of the release."""
    files = {path.relative_to(SKELETON).as_posix(): path.read_bytes()
             for path in sorted(SKELETON.rglob("*")) if path.is_file() and "__pycache__" not in path.parts}
    files["README.md"] = files.get("README.md", b"").rstrip() + b"\n" + CHECKING.encode("utf-8")
    files[".github/workflows/checks.yml"] = WORKFLOW.read_bytes()
    files.update({f"{CHECKS}/{path}": data for path, data in public_checks_files(answers).items()})
    return files


def build_release(out_dir: Path) -> Path:
    """Write the release into `out_dir` (new, or an empty folder) and return it.

    Grades the solution first (see `recorded_answers`): a few seconds, in the sandbox.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f"{out_dir} is not an empty folder; choose a new one or empty it first")
    files = release_files(recorded_answers())  # all made before anything is written
    for relative, data in files.items():
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return out_dir
