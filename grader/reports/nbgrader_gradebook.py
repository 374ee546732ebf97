"""Scores into a real nbgrader gradebook, through nbgrader's own API, so `nbgrader export`,
formgrader and the instructor's other nbgrader tools show them.

nbgrader's structure: assignment > notebook (one per exercise, named by its stem) > grade cells.
Our notebooks' graded cells are named `check-<group>` (a group is a contract name, the first part
of a test name: `backward.gradcheck.sigmoid` is in group `backward`). Each such cell gets, as its
autograded score, its own points times the share of the group's points the student earned, so
the cells' points (set by `nbgrader generate_assignment`) stay authoritative even when they
differ from the grader's rubric. Notebooks and cells the gradebook lacks are created with the
rubric's points. Grade cells of other names (manually graded ones) and manual scores are left
alone. nbgrader is an optional dependency (the `instructor` extra).
"""
from __future__ import annotations

import os
import shutil
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from grader.reports.formats import ReportError
from grader.reports.options import ReportOptions
from grader.results import ExerciseResult, SubmissionResult
from grader.submission.exercises import EXERCISES

CELL_PREFIX = "check-"


@dataclass
class GradebookWrite:
    """What one write did: students written, cells created, cells it did not know."""

    students: list[str] = field(default_factory=list)
    created_cells: list[str] = field(default_factory=list)  # "notebook/cell"
    foreign_cells: list[str] = field(default_factory=list)  # "notebook/cell", left untouched


def group_of(test_name: str) -> str:
    """The contract name a test belongs to: `backward.gradcheck.sigmoid` -> `backward`."""
    return test_name.split(".", 1)[0]


def group_scores(exercise: ExerciseResult) -> dict[str, tuple[float, float]]:
    """group -> (score, max_score) summed over the exercise's tests, in the tests' order."""
    totals: dict[str, tuple[float, float]] = {}
    for test in exercise.tests:
        score, top = totals.get(group_of(test.name), (0.0, 0.0))
        totals[group_of(test.name)] = (score + test.score, top + test.max_score)
    return totals


def cell_score(cell_points: float, group_score: float, group_max: float) -> float:
    """A cell's autograded score: its points times the share of the group's points earned."""
    return round(cell_points * group_score / group_max, 6) if group_max > 0 else 0.0


def gradebook_url(gradebook: str) -> str:
    """An SQLAlchemy URL: a `gradebook.db` path becomes `sqlite:///<absolute path>`."""
    if "://" in gradebook:
        return gradebook
    return f"sqlite:///{Path(gradebook).expanduser().resolve()}"


def _nbgrader_api():
    try:
        from nbgrader import api
    except ImportError:
        raise ReportError("the gradebook format needs nbgrader: pip install 'backprop-grader[instructor]' "
                          "(or pip install nbgrader)") from None
    return api


@contextmanager
def _alembic_on_path():
    """nbgrader runs the `alembic` program to stamp a new database; it sits beside this Python,
    which is not on PATH when `grade` is started by its full path (a venv not activated)."""
    here = str(Path(sys.executable).parent)
    if shutil.which("alembic") or not (Path(here) / "alembic").exists():
        yield
        return
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = here + os.pathsep + old
    try:
        yield
    finally:
        os.environ["PATH"] = old


def _timestamp(result: SubmissionResult, assignment: str) -> Optional[str]:
    """nbgrader's `timestamp.txt` beside the submission (nbgrader's layout), when it holds a time."""
    from nbgrader.utils import parse_utc

    folder = Path(result.path)
    for candidate in (folder / assignment / "timestamp.txt", folder / "timestamp.txt"):
        try:
            text = candidate.read_text("utf-8").strip()
            parse_utc(text)
        except (OSError, ValueError, OverflowError, UnicodeDecodeError):
            continue
        return text
    return None


def _structure(gb, api, results: Sequence[SubmissionResult], assignment: str, report: GradebookWrite) -> dict:
    """Make sure every notebook and `check-` cell exists; return {(notebook, group): cell}."""
    gb.update_or_create_assignment(assignment)
    maxima: dict[str, dict[str, float]] = {}
    for result in results:
        for ex in result.exercises:
            for group, (_, top) in group_scores(ex).items():
                maxima.setdefault(ex.name, {}).setdefault(group, top)
    order = {name: i for i, name in enumerate(EXERCISES)}
    cells = {}
    for notebook in sorted(maxima, key=lambda n: (order.get(n, len(order)), n)):
        try:
            gb.find_notebook(notebook, assignment)
        except api.MissingEntry:
            gb.add_notebook(notebook, assignment)
        for group, top in maxima[notebook].items():
            name = CELL_PREFIX + group
            try:
                cells[(notebook, group)] = gb.find_grade_cell(name, notebook, assignment)
            except api.MissingEntry:
                cells[(notebook, group)] = gb.add_grade_cell(name, notebook, assignment, max_score=top,
                                                             cell_type="code")
                report.created_cells.append(f"{notebook}/{name}")
        known = {CELL_PREFIX + g for g in maxima[notebook]}
        report.foreign_cells += [f"{notebook}/{c.name}" for c in gb.find_notebook(notebook, assignment).grade_cells
                                 if c.name not in known]
    return cells


def _grade(gb, api, submission, cell):
    """The Grade row of `cell` in `submission`, made when the cell is newer than the submission."""
    notebook = next((nb for nb in submission.notebooks if nb.notebook_id == cell.notebook_id), None)
    if notebook is None:
        notebook = api.SubmittedNotebook(notebook=cell.notebook, assignment=submission)
        gb.db.add(notebook)
    grade = next((g for g in notebook.grades if g.cell_id == cell.id), None)
    if grade is None:
        grade = api.Grade(cell=cell, notebook=notebook)
        gb.db.add(grade)
    return grade


def write_scores(results: Sequence[SubmissionResult], *, gradebook: str, assignment: str) -> GradebookWrite:
    """Write each student's autograded scores for `assignment` into `gradebook` (a path or URL)."""
    api = _nbgrader_api()
    report = GradebookWrite()
    with warnings.catch_warnings():
        # nbgrader's own add_submission trips SQLAlchemy's autoflush warnings; they are not ours to fix.
        warnings.filterwarnings("ignore", module="nbgrader")
        warnings.filterwarnings("ignore", message=".*not in session.*")
        _write(api, results, gradebook, assignment, report)
    return report


def open_gradebook(gradebook: str):
    """nbgrader's `Gradebook` for a `gradebook.db` path or URL, made when it does not exist yet."""
    api = _nbgrader_api()
    with _alembic_on_path():
        return api.Gradebook(gradebook_url(gradebook))


def _write(api, results: Sequence[SubmissionResult], gradebook: str, assignment: str, report: GradebookWrite) -> None:
    with open_gradebook(gradebook) as gb:
        cells = _structure(gb, api, results, assignment, report)
        for result in sorted(results, key=lambda r: r.student):
            gb.update_or_create_student(result.student)
            timestamp = _timestamp(result, assignment)
            submission = gb.update_or_create_submission(assignment, result.student,
                                                        **({"timestamp": timestamp} if timestamp else {}))
            for ex in result.exercises:
                for group, (score, top) in group_scores(ex).items():
                    cell = cells[(ex.name, group)]
                    grade = _grade(gb, api, submission, cell)
                    grade.auto_score = cell_score(cell.max_score, score, top)
                    grade.needs_manual_grade = False
            gb.db.commit()  # one commit per student, not per cell
            report.students.append(result.student)


def write_nbgrader_gradebook(results: Sequence[SubmissionResult], out_dir: Path, options: ReportOptions) -> list[Path]:
    """The `gradebook` format: needs `options.gradebook`; returns the database file when it is one."""
    if not options.gradebook:
        raise ReportError("the gradebook format needs --gradebook PATH/gradebook.db (nbgrader's database, "
                          "usually in the course folder) and --assignment NAME")
    write_scores(results, gradebook=options.gradebook, assignment=options.assignment)
    return [] if "://" in options.gradebook else [Path(options.gradebook)]
