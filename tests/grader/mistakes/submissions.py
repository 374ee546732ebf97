"""Submissions made from the course's solutions: one mutation applied, materialised, graded for real.

A mutation rewrites `solutions/<stem>.py` by exact text patches (each must match exactly once,
so a solution that drifts makes the catalog fail loudly instead of testing nothing) and by
whole top-level functions replaced by name. The submission folder holds all six solution
modules, the mutated one as a module or as a notebook (one code cell per top-level definition),
and is graded by the real pipeline: staging, the sandboxed worker, the exercise's checks.
"""
from __future__ import annotations

import ast
import multiprocessing
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Optional, Sequence

import nbformat

from grader.pipeline import GradingOptions, grade_submission
from grader.results import ExerciseResult, SubmissionResult
from grader.submission.discover import Submission
from grader.submission.exercises import EXERCISES
from tests.grader.mistakes.catalog import Mutation

SOLUTIONS = Path(__file__).resolve().parents[3] / "solutions"
# HAND_ANSWERS in solutions/ex2_hand_calculation.py are worked for this student id.
STUDENT = "solutions"


class PatchError(ValueError):
    """A patch that does not match the solution exactly once: the catalog needs updating."""


def solution_source(stem: str) -> str:
    return (SOLUTIONS / f"{stem}.py").read_text("utf-8")


def apply_patch(source: str, old: str, new: str, where: str) -> str:
    """`source` with the one occurrence of `old` replaced by `new`."""
    count = source.count(old)
    if count != 1:
        raise PatchError(f"{where}: the patch text occurs {count} times in the solution (it must occur once): "
                         f"{old[:60]!r}...")
    return source.replace(old, new)


def top_level_definition(tree: ast.Module, name: str) -> Optional[ast.stmt]:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            return node
    return None


def replace_definition(source: str, new_source: str, where: str) -> str:
    """`source` with the top-level function or class that `new_source` defines replaced by it."""
    new_tree = ast.parse(new_source)
    if len(new_tree.body) != 1 or not isinstance(new_tree.body[0], (ast.FunctionDef, ast.ClassDef)):
        raise PatchError(f"{where}: a replacement must be one top-level def or class")
    name = new_tree.body[0].name
    old = top_level_definition(ast.parse(source), name)
    if old is None:
        raise PatchError(f"{where}: the solution defines no top-level {name!r} to replace")
    lines = source.splitlines(keepends=True)
    start = min([old.lineno, *(d.lineno for d in getattr(old, "decorator_list", []))]) - 1
    return "".join(lines[:start]) + new_source.strip("\n") + "\n" + "".join(lines[old.end_lineno:])


def mutated_source(mutation: Mutation) -> str:
    source = solution_source(mutation.exercise)
    for old, new in mutation.patches:
        source = apply_patch(source, old, new, mutation.id)
    for definition in mutation.definitions:
        source = replace_definition(source, definition, mutation.id)
    compile(source, f"<{mutation.id}>", "exec")  # a mutation is a mistake in meaning, never a syntax error
    return source


def to_notebook(source: str) -> nbformat.NotebookNode:
    """A notebook of the module: the lines before the first definition, then one cell per definition."""
    tree = ast.parse(source)
    starts = [min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
              for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    lines = source.splitlines(keepends=True)
    bounds = [0, *starts, len(lines)]
    cells = ["".join(lines[a:b]).strip("\n") for a, b in zip(bounds[:-1], bounds[1:])]
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(cell) for cell in cells if cell.strip()]
    return notebook


def materialise(mutation: Mutation, folder: Path) -> Path:
    """Write the submission for `mutation` into `folder` (created): six solutions, one mutated."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem in EXERCISES:
        if stem != mutation.exercise:
            shutil.copyfile(SOLUTIONS / f"{stem}.py", folder / f"{stem}.py")
    source = mutated_source(mutation)
    if mutation.notebook:
        nbformat.write(to_notebook(source), str(folder / f"{mutation.exercise}.ipynb"))
    else:
        (folder / f"{mutation.exercise}.py").write_text(source, "utf-8")
    return folder


def grade(folder: Path, exercise: str, seed: int = 0) -> tuple[SubmissionResult, ExerciseResult]:
    """Grade only `exercise` of the submission in `folder`, with the hidden checks, in the sandbox."""
    result = grade_submission(Submission(STUDENT, folder, "dir"),
                              GradingOptions(seed=seed, exercises=(exercise,)))
    return result, result.exercises[0]


def grade_mutation(mutation: Mutation, seed: int = 0) -> SubmissionResult:
    """Materialise `mutation` in a temporary folder and grade its exercise."""
    with tempfile.TemporaryDirectory(prefix="bpg-mistake-") as tmp:
        result, _ = grade(materialise(mutation, Path(tmp) / STUDENT), mutation.exercise, seed)
    return result


def grade_all(mutations: Sequence[Mutation], jobs: int = 2, seed: int = 0) -> dict[str, SubmissionResult]:
    """Grade every mutation (in `jobs` processes; each submission gets its own sandboxed worker)."""
    if jobs <= 1 or len(mutations) <= 1:
        return {m.id: grade_mutation(m, seed) for m in mutations}
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {m.id: pool.submit(grade_mutation, m, seed) for m in mutations}
        return {key: future.result() for key, future in futures.items()}
