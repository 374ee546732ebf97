"""One student never stops the batch or costs another their result, and reports stay small.

One class, graded once through the real `grade` CLI (real sandbox) with every format: an honest
student beside students whose folder names, layouts and sizes are hostile or merely unlucky.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.pipeline import grade_submission
from grader.reports.json_report import read_report
from grader.submission.discover import MAX_ID_CHARS, Submission, discover, student_id
from grader.submission.notebook import MAX_CELLS
from grader.submission.staging import MAX_SUBMISSION_ENTRIES, stage
from grader.errors import BadSubmissionError
from grader.results import MAX_ENTRIES
from tests.grader.hostile.submissions import EX1, grading_options, solution_module, zip_folder

LONG_NAME = "l" * 250
BACKSLASH = "back\\slash"
FAILING_STATEMENTS = 3_400
IGNORED_FILES = 1_500
BASH_CELLS = 1_500  # each one a note that the cell is not run
REPORT_LIMIT = 1024 * 1024  # bytes of one student's JSON report or HTML page
FORMATS = ("csv", "junit", "gradescope", "md", "html", "summary-html")


def _solved_ex1(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{EX1}.py").write_text(solution_module(EX1, folder.name), encoding="utf-8")
    return folder


def _deep_zip(path: Path) -> Path:
    """A zip whose one file sits 25 folders of 200 characters deep: over the host's PATH_MAX."""
    nested = "/".join(["d" * 200] * 25)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{nested}/{EX1}.py", "x = 1\n")
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class folder, the output folder and the CLI's result."""
    root = tmp_path_factory.mktemp("robust")
    course = root / "class"
    for name in ("alice", LONG_NAME, BACKSLASH, "summary", "results"):
        _solved_ex1(course / name)
    failing = course / "many_errors"
    failing.mkdir()
    (failing / f"{EX1}.py").write_text("".join(f"raise ValueError('statement {i} ' + 'x' * 200)\n"
                                               for i in range(FAILING_STATEMENTS)), encoding="utf-8")
    crowded = _solved_ex1(course / "crowded")
    for i in range(IGNORED_FILES):
        (crowded / f"notes_{i:05d}_{'n' * 40}.txt").write_text("")
    _deep_zip(course / "deep.zip")
    chatty = course / "chatty"
    chatty.mkdir()
    cells = [nbformat.v4.new_code_cell("%%bash\necho hi") for _ in range(BASH_CELLS)]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), chatty / f"{EX1}.ipynb")
    blocked = _solved_ex1(course / "blocked")
    out = root / "grades"
    (out / f"{blocked.name}.json").mkdir(parents=True)  # its report cannot be written there
    args = ["grade", str(course), "--out", str(out), "--seed", "7", "--timeout", "5"]
    for fmt in FORMATS:
        args += ["--format", fmt]
    result = CliRunner().invoke(main, args[1:], catch_exceptions=False)
    return course, out, result


def _report(out: Path, name: str) -> dict:
    return json.loads((out / f"{student_id(name)}.json").read_text("utf-8"))


def test_the_batch_finishes_and_every_student_is_in_the_summary(graded):
    course, out, result = graded
    assert result.exit_code == 0, result.output
    listed = {s["student"] for s in json.loads((out / "summary.json").read_text("utf-8"))["students"]}
    assert listed == {student_id(p.stem if p.suffix == ".zip" else p.name) for p in course.iterdir()}


def test_unusual_names_get_safe_ids_and_keep_their_name(graded):
    _, out, _ = graded
    alice = _report(out, "alice")
    assert alice["submission"]["name"] == "alice" and alice["score"] > 0
    for name in (LONG_NAME, BACKSLASH, "summary", "results"):
        report = _report(out, name)
        assert report["student"] != name and len(report["student"]) <= MAX_ID_CHARS
        assert report["submission"]["name"] == name
        assert (report["score"], report["max_score"]) == (alice["score"], alice["max_score"])


def test_the_class_summary_is_not_a_students_report(graded):
    _, out, _ = graded
    assert "students" in json.loads((out / "summary.json").read_text("utf-8"))


def test_every_format_holds_every_student(graded):
    course, out, _ = graded
    ids = [json.loads(p.read_text("utf-8"))["student"] for p in out.glob("*.json")
           if p.is_file() and p.name != "summary.json"]
    grades_csv = (out / "grades.csv").read_text("utf-8-sig")
    for sid in ids:
        assert sid in grades_csv
        for folder, suffix in (("junit", ".xml"), ("gradescope", ".json"), ("feedback", ".html"),
                               ("feedback", ".md")):
            assert (out / folder / f"{sid}{suffix}").is_file()


def test_a_report_that_cannot_be_written_is_that_students_error_alone(graded):
    _, out, result = graded
    assert (out / "blocked.json").is_dir()  # nothing could replace what stood in the way
    assert (out / "gradescope" / "blocked.json").is_file()
    row = next(line for line in (out / "grades.csv").read_text("utf-8-sig").splitlines()
               if line.startswith("blocked,"))
    assert "crash" in row
    assert _report(out, "alice")["score"] > 0


def test_thousands_of_failing_statements_give_small_reports(graded):
    _, out, _ = graded
    sid = student_id("many_errors")
    assert (out / f"{sid}.json").stat().st_size < REPORT_LIMIT
    assert (out / "feedback" / f"{sid}.html").stat().st_size < REPORT_LIMIT
    exercise = next(e for e in _report(out, "many_errors")["exercises"] if e["name"] == EX1)
    assert 0 < len(exercise["cell_errors"]) <= MAX_ENTRIES + 1


def test_thousands_of_notes_are_capped_with_how_many_more(graded):
    _, out, _ = graded
    report = _report(out, "chatty")
    assert (out / f"{report['student']}.json").stat().st_size < REPORT_LIMIT
    assert len(report["warnings"]) == MAX_ENTRIES + 1
    assert report["warnings"][-1] == f"and {BASH_CELLS - MAX_ENTRIES} more notes"  # one note per cell


def test_thousands_of_ignored_files_give_a_short_warning(graded):
    _, out, _ = graded
    report = _report(out, "crowded")
    warning = next(w for w in report["warnings"] if w.startswith("not graded"))
    assert len(warning) < 2_000 and "more" in warning
    assert report["score"] == _report(out, "alice")["score"] > 0


def test_a_zip_nested_beyond_path_max_is_a_bad_submission_without_host_paths(graded):
    course, out, _ = graded
    report = _report(out, "deep")
    assert [e["kind"] for e in report["errors"]] == ["bad_submission"]
    alice = _report(out, "alice")
    assert report["max_score"] == alice["max_score"] > 0
    assert all(t["status"] == "missing" for e in report["exercises"] for t in e["tests"])
    page = (out / "feedback" / f"{student_id('deep')}.md").read_text("utf-8")
    for text in (json.dumps(report["errors"]), page):
        assert str(course) not in text and "/tmp" not in text and "bpg-" not in text


# ---------------------------------------------------------------- issue 14: a class of one


def test_a_class_with_one_gradable_folder_grades_every_folder(tmp_path):
    course = tmp_path / "class"
    _solved_ex1(course / "alice")
    (course / "bob").mkdir()
    (course / "bob" / "report.pdf").write_bytes(b"%PDF-1.4\n")
    out = tmp_path / "grades"
    result = CliRunner().invoke(main, [str(course), "--out", str(out), "--seed", "7"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.json")) == ["alice.json", "bob.json", "summary.json"]
    bob = read_report(out / "bob.json")
    assert [e.kind for e in bob.errors] == ["bad_submission"] and "report.pdf" in bob.errors[0].message
    assert bob.max_score == read_report(out / "alice.json").max_score > 0


def test_a_folder_holding_one_assignment_folder_and_files_is_still_one_submission(tmp_path):
    student = tmp_path / "alice"
    _solved_ex1(student / "hw")
    (student / "README.txt").write_text("mine")
    assert [(s.student, s.path) for s in discover([student])] == [("alice", student)]


# ---------------------------------------------------------------- staging under a budget


def test_a_notebook_with_too_many_cells_is_a_bad_submission(tmp_path):
    folder = tmp_path / "magic"
    folder.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%time") for _ in range(MAX_CELLS + 1)])
    nbformat.write(notebook, folder / f"{EX1}.ipynb")
    result = grade_submission(Submission("magic", folder, "dir"), grading_options(exercises=(EX1,)))
    assert [e.kind for e in result.errors] == ["bad_submission"]
    assert f"at most {MAX_CELLS}" in result.errors[0].message
    assert result.max_score > 0 and result.score == 0


def test_a_folder_with_too_many_files_is_a_bad_submission(tmp_path):
    folder = _solved_ex1(tmp_path / "hoard")
    for i in range(MAX_SUBMISSION_ENTRIES):
        (folder / f"f{i}.txt").write_text("")
    result = grade_submission(Submission("hoard", folder, "dir"), grading_options(exercises=(EX1,)))
    assert [e.kind for e in result.errors] == ["bad_submission"]
    assert f"at most {MAX_SUBMISSION_ENTRIES}" in result.errors[0].message


def test_staging_over_its_time_budget_is_a_bad_submission(tmp_path):
    folder = tmp_path / "slow"
    folder.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), folder / f"{EX1}.ipynb")
    with pytest.raises(BadSubmissionError, match="budget"):
        stage(Submission("slow", folder, "dir"), tmp_path / "staged", budget_s=-1.0)


def test_grade_report_leaves_out_a_report_no_file_can_be_named_after(graded, tmp_path):
    """A report from elsewhere whose id is a path (`a\\b`) is left out of the class's formats;
    everyone else's files are written."""
    _, out, _ = graded
    folder = tmp_path / "reports"
    folder.mkdir()
    alice = _report(out, "alice")
    (folder / "alice.json").write_text(json.dumps(alice), encoding="utf-8")
    (folder / "odd.json").write_text(json.dumps({**alice, "student": "a\\b"}), encoding="utf-8")
    merged = tmp_path / "merged"
    result = CliRunner().invoke(main, ["report", str(folder), "--out", str(merged), "--format", "junit",
                                       "--format", "gradescope"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (merged / "junit" / "alice.xml").is_file() and (merged / "gradescope" / "alice.json").is_file()
    assert "a\\b" not in (merged / "junit.xml").read_text("utf-8")
