import csv
import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.reports.csv_report import write_csv
from grader.reports.formats import ReportError
from grader.reports.nbgrader_gradebook import (cell_score, gradebook_url, group_scores, open_gradebook,
                                               write_nbgrader_gradebook, write_scores)
from grader.reports.options import ReportOptions
from grader.results import ExerciseResult, TestResult
from tests.grader.reports.sample_batch import ada, ben, cleo

pytest.importorskip("nbgrader.api")


@pytest.mark.parametrize("points, score, top, expected", [
    (2.0, 3.0, 3.0, 2.0),  # full marks stay full marks
    (2.0, 1.5, 3.0, 1.0),  # half the group's points: half the cell's
    (4.0, 0.0, 6.0, 0.0),
    (1.0, 0.0, 0.0, 0.0),  # a group worth nothing
])
def test_cell_score_is_the_cells_points_times_the_share_earned(points, score, top, expected):
    assert cell_score(points, score, top) == pytest.approx(expected)


def test_groups_are_the_first_part_of_test_names():
    ex = ExerciseResult("ex3_mlp_backprop", "x", [TestResult("backward.a", 1.0, 2.0, "failed"),
                                                  TestResult("backward.b", 3.0, 3.0, "passed"),
                                                  TestResult("forward", 0.0, 1.0, "failed")])
    assert group_scores(ex) == {"backward": (4.0, 5.0), "forward": (0.0, 1.0)}


def test_a_new_gradebook_gets_the_rubrics_points_and_every_score(db):
    report = write_scores([ada(), ben(), cleo()], gradebook=str(db), assignment="hw2")
    assert report.students == ["ada", "ben", "cleo"] and report.foreign_cells == []
    assert "ex3_mlp_backprop/check-backward" in report.created_cells
    with open_gradebook(str(db)) as gb:
        for result in (ada(), ben(), cleo()):
            submission = gb.find_submission("hw2", result.student)
            assert submission.score == pytest.approx(result.score)
            for ex in result.exercises:
                for group, (score, _) in group_scores(ex).items():
                    grade = gb.find_grade(f"check-{group}", ex.name, "hw2", result.student)
                    assert grade.auto_score == pytest.approx(score) and not grade.needs_manual_grade


def test_writing_again_updates_in_place(db):
    write_scores([ben()], gradebook=str(db), assignment="hw2")
    write_scores([dataclasses.replace(ada(), student="ben")], gradebook=str(db), assignment="hw2")
    with open_gradebook(str(db)) as gb:
        assert len(gb.assignment_submissions("hw2")) == 1
        assert gb.find_submission("hw2", "ben").score == pytest.approx(ada().score)


def test_cells_made_by_nbgrader_keep_their_points_and_manual_grades_stay(db):
    with open_gradebook(str(db)) as gb:  # as `nbgrader generate_assignment` leaves it, plus a hand-graded cell
        gb.add_assignment("hw2")
        gb.add_notebook("ex3_mlp_backprop", "hw2")
        gb.add_grade_cell("check-backward", "ex3_mlp_backprop", "hw2", max_score=8, cell_type="code")
        gb.add_grade_cell("essay", "ex3_mlp_backprop", "hw2", max_score=5, cell_type="markdown")
        gb.add_student("cleo")
        gb.add_submission("hw2", "cleo")
        essay = gb.find_grade("essay", "ex3_mlp_backprop", "hw2", "cleo")
        essay.manual_score = 4.0
        gb.db.commit()
    result = cleo()
    result.exercises = [ex for ex in result.exercises if ex.name == "ex3_mlp_backprop"]
    result.exercises[0].tests[1] = TestResult("backward.random", 1.5, 2.0, "failed", "hidden")  # 1.5 of 6 points
    report = write_scores([result], gradebook=str(db), assignment="hw2")
    assert report.created_cells == [] and report.foreign_cells == ["ex3_mlp_backprop/essay"]
    with open_gradebook(str(db)) as gb:
        backward = gb.find_grade("check-backward", "ex3_mlp_backprop", "hw2", "cleo")
        assert backward.auto_score == pytest.approx(8 * 1.5 / 6)  # the cell's 8 points times 1.5 of 6
        assert gb.find_grade("essay", "ex3_mlp_backprop", "hw2", "cleo").manual_score == 4.0
        assert gb.find_submission("hw2", "cleo").score == pytest.approx(2.0 + 4.0)


def test_nbgrader_export_shows_the_scores_as_our_csv_does(tmp_path, empty_gradebook):
    """The real consumer: `nbgrader export` in a course folder whose gradebook we wrote."""
    course = tmp_path / "course"
    course.mkdir()
    shutil.copyfile(empty_gradebook, course / "gradebook.db")
    write_nbgrader_gradebook([ada(), ben()], course, ReportOptions(gradebook=str(course / "gradebook.db"),
                                                                   assignment="hw2"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", "exported.csv"], cwd=course, env=env,
                   check=True, capture_output=True, timeout=120)
    with open(course / "exported.csv", newline="", encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    write_csv([ada(), ben()], tmp_path, ReportOptions(assignment="hw2"))
    with open(tmp_path / "nbgrader_export.csv", newline="", encoding="utf-8") as handle:
        ours = list(csv.DictReader(handle))
    assert [r["student_id"] for r in exported] == [r["student_id"] for r in ours] == ["ada", "ben"]
    for theirs, mine in zip(exported, ours):
        assert theirs.keys() == mine.keys()
        assert theirs["assignment"] == mine["assignment"] == "hw2"
        for column in ("raw_score", "score", "max_score", "late_submission_penalty"):
            assert float(theirs[column]) == pytest.approx(float(mine[column])), column


def test_the_format_needs_a_gradebook_path(tmp_path):
    with pytest.raises(ReportError, match="--gradebook"):
        write_nbgrader_gradebook([ada()], tmp_path, ReportOptions())


def test_without_nbgrader_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "nbgrader", None)  # import nbgrader now raises ImportError
    with pytest.raises(ReportError, match=r"pip install 'backprop-grader\[instructor\]'"):
        write_scores([ada()], gradebook=str(tmp_path / "g.db"), assignment="hw2")


def test_urls_pass_through_and_paths_become_sqlite_urls(tmp_path):
    assert gradebook_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert gradebook_url(str(tmp_path / "g.db")) == f"sqlite:///{tmp_path / 'g.db'}"
