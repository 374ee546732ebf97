"""The real nbgrader round trip, through nbgrader's own command line and gradebook.

A course in a scratch folder: `source/<assignment>/` holds the six solution notebooks and nothing
else. (A `.py` there would be copied into the release, and autograde would put the source's copy
over a student's own `ex3_mlp_backprop.py`; with notebooks only, exercise 6 imports the student's
exercise 3 notebook through `grader.notebook_import`.) `nbgrader generate_assignment` makes the
release; two students submit: one the release with every solution cell filled in (full marks),
one the release as it is (no points). `nbgrader autograde` grades both in real kernels, and the
scores are read back from the gradebook.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from grader.authoring import EXERCISES
from grader.authoring.module_source import without_solution_markers

pytest.importorskip("nbgrader", reason="nbgrader is not installed: pip install 'backprop-grader[test]'")
pytest.importorskip("ipykernel", reason="autograde runs notebooks in an ipykernel kernel; install ipykernel")

from nbgrader.api import Gradebook  # noqa: E402 - only once nbgrader is known to be there

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "module2a"
SOLVED, BLANK = "solved", "blank"


def _nbgrader(course: Path, *args: str) -> None:
    # nbgrader runs `alembic` for its database, so this interpreter's scripts must be on PATH
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and "ERROR" not in result.stderr, result.stderr[-4000:]


def _marks(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _solved(release: nbformat.NotebookNode, source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The release notebook with each solution cell's answer typed in, as a student would."""
    answers = {_marks(cell)["grade_id"]: without_solution_markers(cell.source)
               for cell in source.cells if _marks(cell).get("solution")}
    for cell in release.cells:
        if _marks(cell).get("solution"):
            cell.source = answers[_marks(cell)["grade_id"]]
    return release


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("course")
    (course / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.course_id = "module2a"\n', encoding="utf-8")
    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    for stem in EXERCISES:
        shutil.copy(ROOT / "solutions" / f"{stem}.ipynb", source)
    started = time.perf_counter()
    _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    for student in (SOLVED, BLANK):
        (course / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
    for stem in EXERCISES:
        released = course / "release" / ASSIGNMENT / f"{stem}.ipynb"
        shutil.copy(released, course / "submitted" / BLANK / ASSIGNMENT)
        solved = _solved(nbformat.read(released, as_version=4), nbformat.read(source / f"{stem}.ipynb", as_version=4))
        nbformat.write(solved, course / "submitted" / SOLVED / ASSIGNMENT / f"{stem}.ipynb")
    _nbgrader(course, "autograde", ASSIGNMENT, "--create", "--force")
    print(f"nbgrader generate_assignment and autograde: {time.perf_counter() - started:.1f} s")
    return course


@pytest.fixture(scope="module")
def scores(course) -> dict[str, dict[str, tuple[float, float]]]:
    """student -> notebook -> (score, max_score), from nbgrader's gradebook."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {student: {nb.name: (nb.score, nb.max_score)
                          for nb in gradebook.find_submission(ASSIGNMENT, student).notebooks}
                for student in (SOLVED, BLANK)}


def _cell_points(stem: str) -> float:
    source = nbformat.read(ROOT / "solutions" / f"{stem}.ipynb", as_version=4)
    return sum(_marks(cell).get("points", 0) for cell in source.cells if _marks(cell).get("grade"))


@pytest.mark.parametrize("stem", EXERCISES)
def test_nbgraders_release_is_our_student_notebook(course, stem):
    made = nbformat.read(course / "release" / ASSIGNMENT / f"{stem}.ipynb", as_version=4)
    ours = nbformat.read(ROOT / "exercises" / f"{stem}.ipynb", as_version=4)

    def described(nb):
        return [(cell.cell_type, cell.source, _marks(cell), cell.metadata.get("tags", [])) for cell in nb.cells]

    assert described(made) == described(ours)


def test_the_solved_class_scores_full_marks(scores):
    for stem in EXERCISES:
        assert scores[SOLVED][stem] == (_cell_points(stem), _cell_points(stem)), stem
    assert all(points > 0 for points in map(_cell_points, EXERCISES))


def test_the_unanswered_release_scores_nothing(scores):
    for stem in EXERCISES:
        assert scores[BLANK][stem] == (0.0, _cell_points(stem)), stem


def test_exercise_6_used_the_students_exercise_3_notebook(course):
    # The only ex3_mlp_backprop autograde saw is the student's notebook: no module was submitted.
    graded = course / "autograded" / SOLVED / ASSIGNMENT
    assert not (graded / "ex3_mlp_backprop.py").exists() and (graded / "ex3_mlp_backprop.ipynb").is_file()
    ex6 = nbformat.read(graded / "ex6_gradient_descent.ipynb", as_version=4)
    errors = [output for cell in ex6.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert errors == []
