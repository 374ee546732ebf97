"""The report side of the command line: --format, --shard, `grade report`, `grade check` for CI."""
import dataclasses
import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import grader.batch
from grader.batch import in_shard
from grader.cli import main
from grader.reports.json_report import read_report, write_report
from grader.results import ExerciseResult, SubmissionResult, TestResult
from tests.grader.reports.sample_batch import ada, ben, cleo
from tests.grader.reports.schemas import assert_junit_schema
from tests.grader.reports.test_gradescope_bundle import EX1

CLASS = ["amal", "bo", "chen", "dara", "eli", "fay", "gus"]


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def fake_grade(submission, options, supply=None):
    """Grading without student code: a score derived from the student's name, instantly."""
    score = float(len(submission.student))
    tests = [TestResult("identity.values", score, 5.0, "passed" if score == 5.0 else "failed")]
    return SubmissionResult(submission.student, str(submission.path), "f" * 63 + submission.student[0],
                            [ExerciseResult("ex1_activations_losses", "ex1_activations_losses.py", tests)],
                            seed=options.seed, grader_version=grader.__version__)


@pytest.fixture
def class_folder(tmp_path) -> Path:
    for student in CLASS:
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / "ex1_activations_losses.py").write_text("x = 1\n")
    return tmp_path / "class"


@pytest.fixture
def reports(tmp_path) -> Path:
    folder = tmp_path / "reports"
    for result in (ada(), ben(), cleo()):
        write_report(result, folder)
    return folder


@given(st.lists(st.text(min_size=1), unique=True, max_size=30), st.integers(1, 6))
def test_every_student_is_in_exactly_one_shard(students, n):
    for student in students:
        assert sum(in_shard(student, (k, n)) for k in range(1, n + 1)) == 1


def test_shards_do_not_depend_on_who_else_is_in_the_class():
    alone = [k for k in range(1, 4) if in_shard("chen", (k, 3))]
    assert alone == [k for k in range(1, 4) if in_shard("chen", (k, 3))]
    with pytest.raises(ValueError, match="K must be between 1 and N"):
        in_shard("chen", (4, 3))


@pytest.mark.parametrize("shard", ["0/2", "3/2", "x", "1/2/3", "1-2"])
def test_a_bad_shard_is_a_usage_error(class_folder, shard):
    result = CliRunner().invoke(main, [str(class_folder), "--shard", shard])
    assert result.exit_code == 2 and ("is not K/N" in result.output or "K must be between" in result.output)


def test_shards_graded_apart_merge_into_the_whole_class(class_folder, tmp_path, monkeypatch):
    monkeypatch.setattr(grader.batch, "grade_submission", fake_grade)
    for k in (1, 2, 3):
        result = run(class_folder, "--out", tmp_path / f"shard{k}", "--shard", f"{k}/3", "--seed", 5,
                     "--format", "junit")
        assert result.exit_code == 0, result.output
        assert (tmp_path / f"shard{k}" / "junit.xml").is_file()
    graded = [sorted(p.stem for p in (tmp_path / f"shard{k}").glob("*.json") if p.name != "summary.json")
              for k in (1, 2, 3)]
    assert sorted(sum(graded, [])) == CLASS
    merged = run("report", *[tmp_path / f"shard{k}" for k in (1, 2, 3)], "--out", tmp_path / "all",
                 "--format", "csv", "--format", "junit")
    assert merged.exit_code == 0, merged.output
    summary = json.loads((tmp_path / "all" / "summary.json").read_text())
    assert [s["student"] for s in summary["students"]] == CLASS
    assert [s["score"] for s in summary["students"]] == [float(len(s)) for s in CLASS]
    root = ET.parse(tmp_path / "all" / "junit.xml").getroot()
    assert_junit_schema(root)
    assert int(root.get("tests")) == len(CLASS)
    assert len((tmp_path / "all" / "grades.csv").read_text("utf-8-sig").splitlines()) == len(CLASS) + 1


def test_grade_writes_every_format_asked_for(class_folder, tmp_path, monkeypatch):
    monkeypatch.setattr(grader.batch, "grade_submission", fake_grade)
    out = tmp_path / "out"
    result = run(class_folder, "--out", out, "--format", "md", "--format", "html", "--format", "summary-html",
                 "--format", "gradescope", "--format", "csv")
    assert result.exit_code == 0, result.output
    for path in ("feedback/amal.md", "feedback/gus.html", "summary.html", "gradescope/chen.json", "grades.csv",
                 "nbgrader_export.csv", "amal.json", "summary.json"):
        assert (out / path).is_file(), path
    assert "html: 7 file(s)" in result.output


def test_a_format_that_cannot_be_written_stops_before_grading(class_folder, tmp_path, monkeypatch):
    monkeypatch.setattr(grader.batch, "grade_submission", lambda *a, **k: pytest.fail("graded anyway"))
    result = CliRunner().invoke(main, [str(class_folder), "--out", str(tmp_path / "o"), "--format", "gradebook"])
    assert result.exit_code == 2 and "needs --gradebook" in result.output


def test_report_converts_a_folder_in_place_without_touching_its_json(reports):
    before = {p.name: p.read_bytes() for p in reports.glob("*.json")}
    result = run("report", reports, "--format", "md", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert {p.name: p.read_bytes() for p in reports.glob("*.json")} == before
    assert (reports / "feedback" / "cleo.md").is_file() and (reports / "grades.csv").is_file()
    assert "3 student report(s) from 1 folder(s)" in result.output


def test_report_instructor_mode_shows_hidden_feedback(reports):
    from tests.grader.reports.sample_batch import SECRET

    run("report", reports, "--format", "md")
    assert SECRET not in (reports / "feedback" / "cleo.md").read_text("utf-8")
    run("report", reports, "--format", "md", "--instructor")
    assert SECRET in (reports / "feedback" / "cleo.md").read_text("utf-8")


def test_report_merge_errors_are_usage_errors(reports, tmp_path):
    other = tmp_path / "other"
    write_report(dataclasses.replace(cleo(), sha256="9" * 64), other)
    result = CliRunner().invoke(main, ["report", str(reports), str(other), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "has two different reports" in result.output
    result = CliRunner().invoke(main, ["report", str(reports), str(other)])
    assert result.exit_code == 2 and "needs --out" in result.output


def test_report_merge_keeps_one_copy_of_an_identical_regrade(reports, tmp_path):
    other = tmp_path / "other"
    write_report(dataclasses.replace(cleo(), seed=99), other)
    result = run("report", reports, other, "--out", tmp_path / "m")
    assert result.exit_code == 0 and "kept once: cleo" in result.output
    assert read_report(tmp_path / "m" / "cleo.json").seed == cleo().seed


def test_check_for_ci_writes_junit_and_fails_under_the_threshold(tmp_path):
    work = tmp_path / "hw"
    work.mkdir()
    (work / "ex1_activations_losses.py").write_text(EX1)
    out = tmp_path / "reports"
    result = CliRunner().invoke(main, ["check", str(work), "--format", "junit", "--out", str(out),
                                       "--fail-under", "100", "--exercise", "ex1_activations_losses"])
    assert result.exit_code == 1, result.output
    assert "required 100%: FAILED" in result.output and "[missing] sigmoid.values" in result.output
    root = ET.parse(out / "junit.xml").getroot()
    assert_junit_schema(root)
    report = read_report(out / "hw.json")
    assert int(root.get("tests")) == sum(len(ex.tests) for ex in report.exercises)
    assert all(t.visibility == "visible" for ex in report.exercises for t in ex.tests)  # public checks only


def full_marks(submission, options, supply=None):
    return fake_grade(dataclasses.replace(submission, student="abcde"), options)  # 5 of 5 points


@pytest.mark.parametrize("fail_under", [0, 60, 100])
def test_check_passes_at_or_above_the_threshold(tmp_path, monkeypatch, fail_under):
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "ex1_activations_losses.py").write_text(EX1)
    monkeypatch.setattr("grader.pipeline.grade_submission", full_marks)
    result = CliRunner().invoke(main, ["check", str(tmp_path / "hw"), "--out", str(tmp_path / "r"),
                                       "--fail-under", str(fail_under)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "abcde.json").is_file()


def test_check_fails_below_the_threshold(tmp_path, monkeypatch):
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "ex1_activations_losses.py").write_text(EX1)
    monkeypatch.setattr("grader.pipeline.grade_submission", fake_grade)  # "hw": 2 of 5 points, 40%
    assert CliRunner().invoke(main, ["check", str(tmp_path / "hw"), "--out", str(tmp_path / "r"),
                                     "--fail-under", "41"]).exit_code == 1
    assert CliRunner().invoke(main, ["check", str(tmp_path / "hw"), "--out", str(tmp_path / "r"),
                                     "--fail-under", "40"]).exit_code == 0


def test_gradescope_bundle_command_freezes_the_settings(tmp_path):
    import zipfile

    result = run("gradescope-bundle", "--out", tmp_path / "ag.zip", "--seed", 3, "--student-id-field", "email",
                 "--timeout", 20)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "ag.zip") as archive:
        config = json.loads(archive.read("bundle.json"))
    assert (config["seed"], config["student_id_field"], config["timeout"], config["show_hidden"]) == \
        (3, "email", 20.0, False)
    sdist = CliRunner().invoke(main, ["gradescope-bundle", "--out", str(tmp_path / "b.zip"), "--package",
                                      str(tmp_path / "ag.zip")])
    assert sdist.exit_code == 0  # a .zip is an sdist as far as pip is concerned
    bad = CliRunner().invoke(main, ["gradescope-bundle", "--out", str(tmp_path / "c.zip"), "--package", __file__])
    assert bad.exit_code == 2 and "not a wheel or sdist" in bad.output
