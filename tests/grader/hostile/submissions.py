"""Builders for graded submissions: the six solutions, with one behaviour injected where wanted.

A solved submission is the repository's `solutions/*.py` (or `*.ipynb`) copied into a folder,
with `HAND_ANSWERS` worked for the student it is graded as (each student has a personal case),
so that every exercise scores full marks until a test breaks one on purpose.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import textwrap
import zipfile
from pathlib import Path
from typing import Iterable, Optional

import nbformat

from grader.pipeline import GradingOptions, grade_submission
from grader.personal_case import personal_case
from grader.results import ExerciseResult, SubmissionResult
from grader.submission.discover import Submission
from grader.submission.exercises import EXERCISES
from grader.worker import sandbox as sb
from reference.hand_network import forward_backward_221_rounded

REPO = Path(__file__).resolve().parents[3]
SOLUTIONS = REPO / "solutions"
STUBS = REPO / "exercises"
EX1, EX2, EX3, EX4, EX5, EX6 = EXERCISES
HAND_ANSWERS_BLOCK = re.compile(r"^HAND_ANSWERS = \{\n.*?^\}\n?", re.DOTALL | re.MULTILINE)


# ---------------------------------------------------------------- sources


def hand_answers(student: str) -> str:
    """`HAND_ANSWERS = {...}` for `student`'s personal case, worked to 3 decimals at each step."""
    chain = forward_backward_221_rounded(*personal_case(student))
    lines = [f"    {key!r}: {json.dumps(round_values(value))}," for key, value in chain.items()]
    return "HAND_ANSWERS = {\n" + "\n".join(lines) + "\n}\n"


def round_values(value) -> object:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, list):
        return [round_values(v) for v in value]
    return round(float(value), 3)


def for_student(source: str, stem: str, student: str) -> str:
    """`source` with its HAND_ANSWERS (exercise 2 only) worked for `student`."""
    if stem != EX2:
        return source
    replaced, count = HAND_ANSWERS_BLOCK.subn(lambda _: hand_answers(student), source)
    if count == 0:
        raise ValueError("no HAND_ANSWERS block found to replace")
    return replaced


def solution_module(stem: str, student: str) -> str:
    return for_student((SOLUTIONS / f"{stem}.py").read_text("utf-8"), stem, student)


def solution_notebook(stem: str, student: str) -> nbformat.NotebookNode:
    notebook = nbformat.read(SOLUTIONS / f"{stem}.ipynb", as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "HAND_ANSWERS = {" in cell.source:
            cell.source = for_student(cell.source + "\n", stem, student).rstrip("\n")
    return notebook


# ---------------------------------------------------------------- folders


def solved_folder(root: Path, student: str, *, notebooks: Iterable[str] = ()) -> Path:
    """`root/student/` holding the six solutions: `.ipynb` for the stems in `notebooks`, else `.py`."""
    folder = root / student
    folder.mkdir(parents=True, exist_ok=True)
    as_notebook = set(notebooks)
    for stem in EXERCISES:
        if stem in as_notebook:
            nbformat.write(solution_notebook(stem, student), folder / f"{stem}.ipynb")
        else:
            (folder / f"{stem}.py").write_text(solution_module(stem, student), encoding="utf-8")
    return folder


def stub_folder(root: Path, student: str) -> Path:
    """`root/student/` holding the student release's unanswered notebooks."""
    folder = root / student
    folder.mkdir(parents=True, exist_ok=True)
    for stem in EXERCISES:
        shutil.copyfile(STUBS / f"{stem}.ipynb", folder / f"{stem}.ipynb")
    return folder


def append_code(folder: Path, stem: str, code: str) -> None:
    """Append `code` to `folder/stem.py`: a later `def` replaces the solution's function."""
    path = folder / f"{stem}.py"
    path.write_text(path.read_text("utf-8") + "\n\n" + textwrap.dedent(code).strip() + "\n", encoding="utf-8")


def insert_cells(folder: Path, stem: str, sources: list[str], *, at: Optional[int] = None) -> list[int]:
    """Insert code cells into `folder/stem.ipynb` before cell `at` (default: the end); their indices."""
    path = folder / f"{stem}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    position = len(notebook.cells) if at is None else at
    new = [nbformat.v4.new_code_cell(textwrap.dedent(s).strip()) for s in sources]
    notebook.cells[position:position] = new
    nbformat.write(notebook, path)
    return list(range(position, position + len(new)))


def zip_folder(folder: Path, target: Path, *, extra: Optional[dict[str, bytes]] = None) -> Path:
    """Zip `folder`'s files under `folder.name/`, plus `extra` entries written verbatim."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{folder.name}/{path.name}")
        for name, data in (extra or {}).items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return target


# ---------------------------------------------------------------- grading


def grading_options(**overrides) -> GradingOptions:
    """Options for grading in tests: a fixed seed, the default sandbox ("auto": bwrap when usable)."""
    sandbox = overrides.pop("sandbox", sb.SandboxConfig())
    return GradingOptions(**{"seed": 1234, "sandbox": sandbox, **overrides})


def grade_folder(folder: Path, options: GradingOptions, student: Optional[str] = None,
                 supply=None) -> SubmissionResult:
    return grade_submission(Submission(student or folder.name, folder, "dir"), options, supply=supply)


def exercises_of(result: SubmissionResult) -> dict[str, ExerciseResult]:
    return {exercise.name: exercise for exercise in result.exercises}


def results_by_name(exercise: ExerciseResult) -> dict[str, object]:
    return {test.name: test for test in exercise.tests}


def full_marks(exercise: ExerciseResult) -> bool:
    return exercise.max_score > 0 and exercise.score == exercise.max_score


# ---------------------------------------------------------------- processes


def live_descendants(pid: Optional[int] = None) -> set[int]:
    """Running (not zombie) processes below `pid` (default: this one) in the process tree."""
    pid = os.getpid() if pid is None else pid
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as file:
                fields = file.read().rpartition(")")[2].split()
        except OSError:
            continue
        if fields and fields[0] not in "ZX":
            parents[int(entry)] = int(fields[1])
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent and child not in found]
        found.update(children)
        frontier.extend(children)
    return found


def private_uid() -> Optional[int]:
    """A uid no process uses, for one test's workers (None when not root: workers keep ours)."""
    return sb.fresh_uid(sb.SandboxConfig())
