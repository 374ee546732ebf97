"""A class of solved submissions, laid out as nbgrader's `submitted/<student>/<assignment>/`.

Every student hands in the six release notebooks with each solution cell answered from
`solutions/`, their own id in `STUDENT_ID` and their own personal case worked in `HAND_ANSWERS`,
so a correct grader gives every student full marks. The same folder is graded by both graders
the benchmarks compare: `grade COURSE/submitted` and `nbgrader autograde` in COURSE.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from grader.authoring import EXERCISES
from grader.authoring.module_source import without_solution_markers
from grader.demo.build import hand_answers_source

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "module2a"
NBGRADER_CONFIG = 'c = get_config()\nc.CourseDirectory.course_id = "module2a"\n'


def student_ids(count: int) -> list[str]:
    """s001, s002, ...: ids that sort in the order they were made."""
    if count < 1:
        raise ValueError(f"a class needs at least one student, not {count}")
    return [f"s{i:03d}" for i in range(1, count + 1)]


def _marks(cell: nbformat.NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {})


def solved_notebook(release: nbformat.NotebookNode, source: nbformat.NotebookNode,
                    student: str) -> nbformat.NotebookNode:
    """`release` with every solution cell answered as in `source`, personalised for `student`."""
    answers = {_marks(cell)["grade_id"]: without_solution_markers(cell.source)
               for cell in source.cells if _marks(cell).get("solution")}
    solved = nbformat.from_dict(release)  # a deep copy: one release serves the whole class
    for cell in solved.cells:
        grade_id = _marks(cell).get("grade_id")
        if not _marks(cell).get("solution"):
            continue
        cell.source = answers[grade_id]
        if grade_id == "student_id":
            cell.source = f"STUDENT_ID = {student!r}"
        elif grade_id == "hand_answers":
            cell.source += hand_answers_source(student)
    return solved


def write_submissions(submitted: Path, students: list[str], release_dir: Path) -> None:
    """One folder per student under `submitted/`, each with the six solved notebooks."""
    sources = {stem: nbformat.read(ROOT / "solutions" / f"{stem}.ipynb", as_version=4) for stem in EXERCISES}
    releases = {stem: nbformat.read(release_dir / f"{stem}.ipynb", as_version=4) for stem in EXERCISES}
    for student in students:
        folder = submitted / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        for stem in EXERCISES:
            nbformat.write(solved_notebook(releases[stem], sources[stem], student), folder / f"{stem}.ipynb")


def write_course_source(course: Path) -> Path:
    """`source/<assignment>/` with the six solution notebooks and nbgrader's config; returns the source folder."""
    (course / "nbgrader_config.py").write_text(NBGRADER_CONFIG, encoding="utf-8")
    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True, exist_ok=True)
    for stem in EXERCISES:
        shutil.copy(ROOT / "solutions" / f"{stem}.ipynb", source)
    return source


def build_class(course: Path, count: int, release_dir: Path | None = None) -> list[str]:
    """Write a class of `count` solved students into `course/submitted/`; returns their ids.

    `release_dir` holds the release notebooks (nbgrader's `release/<assignment>/`); by default
    the repository's `exercises/` notebooks, which are the same (tests/grader/test_nbgrader.py).
    """
    students = student_ids(count)
    write_submissions(course / "submitted", students, release_dir or ROOT / "exercises")
    return students

