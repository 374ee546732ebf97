"""grade_batch over a class: mixed layouts, parallel jobs, bad submissions, re-runs and the summary.

The class: a folder per student, a zip, a single LMS-named file, a zip that is not one, a zip
escaping its folder, and an nbgrader `submitted/<student>/<assignment>/` layout beside it.
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest

import grader.batch as batch_module
from grader.batch import grade_batch
from grader.reports.json_report import read_report
from tests.grader.hostile.submissions import (
    EX1,
    EX2,
    EX3,
    EX6,
    SOLUTIONS,
    full_marks,
    grading_options,
    solved_folder,
    zip_folder,
)

SINGLE = f"carol_{EX1}"  # an LMS download: the student id is the file name
STUDENTS = ["alice", "bob", SINGLE, "dave", "erin", "frank"]
BAD = {"dave", "erin"}


@pytest.fixture(scope="module")
def options():
    """Four exercises keep the class quick; ex6 imports ex3 across notebook and module."""
    return grading_options(timeout=5.0, exercises=(EX1, EX2, EX3, EX6))


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> list[Path]:
    """The paths an instructor names: the class folder and an nbgrader course folder."""
    root = tmp_path_factory.mktemp("course")
    made = root / "made"
    klass = root / "class"
    klass.mkdir()
    solved_folder(klass, "alice")
    zip_folder(solved_folder(made, "bob", notebooks=(EX3,)), klass / "bob.zip")
    shutil.copyfile(SOLUTIONS / f"{EX1}.py", klass / f"{SINGLE}.py")
    (klass / "dave.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    zip_folder(solved_folder(made, "erin"), klass / "erin.zip", extra={"../outside.py": b"x = 1\n"})
    assignment = root / "nbgrader" / "submitted" / "frank" / "module2a"
    for path in solved_folder(made, "frank", notebooks=(EX1,)).iterdir():
        assignment.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, assignment / path.name)
    return [klass, root / "nbgrader"]


def scores(batch) -> dict[str, tuple]:
    """Per student: the score and every test's (exercise, name, status, score)."""
    return {r.student: (r.score, [(ex.name, t.name, t.status, t.score) for ex in r.exercises for t in ex.tests])
            for r in batch.results}


@pytest.fixture(scope="module")
def one_job(course, options, tmp_path_factory):
    out = tmp_path_factory.mktemp("one_job")
    return grade_batch(course, out_dir=out, options=options, jobs=1), out


@pytest.fixture(scope="module")
def two_jobs(course, options, tmp_path_factory):
    out = tmp_path_factory.mktemp("two_jobs")
    return grade_batch(course, out_dir=out, options=options, jobs=2), out


def test_every_student_gets_a_report_and_bad_ones_do_not_stop_the_batch(one_job):
    batch, out = one_job
    assert [r.student for r in batch.results] == STUDENTS
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{s}.json" for s in STUDENTS] + ["summary.json"])
    by_student = {r.student: r for r in batch.results}
    for student in BAD:
        assert [e.kind for e in by_student[student].errors] == ["bad_submission"]
        assert by_student[student].score == 0 and by_student[student].max_score == by_student["alice"].max_score
    for student in ("alice", "bob", "frank"):
        result = by_student[student]
        assert result.score == result.max_score > 0 and result.errors == [], student
    single = {ex.name: ex for ex in by_student[SINGLE].exercises}
    assert full_marks(single[EX1]) and by_student[SINGLE].score == single[EX1].max_score


def test_one_and_two_jobs_give_identical_scores(one_job, two_jobs):
    assert scores(one_job[0]) == scores(two_jobs[0])
    assert two_jobs[0].skipped == []


def test_reports_on_disk_are_what_the_batch_returned(two_jobs):
    batch, out = two_jobs
    for result in batch.results:
        on_disk = read_report(out / f"{result.student}.json")
        assert (on_disk.score, on_disk.sha256, on_disk.seed) == (result.score, result.sha256, result.seed)
    assert not [p for p in out.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


def test_the_summary_agrees_with_the_reports(two_jobs, options):
    batch, out = two_jobs
    summary = json.loads((out / "summary.json").read_text())
    assert summary["count"] == len(STUDENTS) and summary["grader"]["seed"] == options.seed
    assert summary["grader"]["sandbox"] == next(r.sandbox for r in batch.results if r.student == "alice")
    for row in summary["students"]:
        report = json.loads((out / row["report"]).read_text())
        assert row["student"] == report["student"] and row["score"] == report["score"]
        assert row["max_score"] == report["max_score"] and row["sha256"] == report["submission"]["sha256"]
        assert row["errors"] == [e["kind"] for e in report["errors"]]
        assert row["exercises"] == {ex["name"]: ex["score"] for ex in report["exercises"]}
    scores_ = [row["score"] for row in summary["students"]]
    assert summary["statistics"]["mean"] == pytest.approx(sum(scores_) / len(scores_), abs=1e-3)


def test_a_rerun_keeps_up_to_date_reports_and_regrades_a_changed_submission(course, one_job, options, tmp_path):
    _, first = one_job
    out = tmp_path / "rerun"
    shutil.copytree(first, out)
    single = course[0] / f"{SINGLE}.py"
    original = single.read_text()
    try:
        kept = grade_batch(course, out_dir=out, options=options, jobs=1)
        # an unreadable submission has no hash to compare, so it is always graded again
        assert sorted(kept.skipped) == sorted(set(STUDENTS) - BAD)
        single.write_text(original + "\n\ndef relu(z):\n    return z  # broken on purpose\n")
        changed = grade_batch(course, out_dir=out, options=options, jobs=1)
        assert SINGLE not in changed.skipped and "alice" in changed.skipped
        assert read_report(out / f"{SINGLE}.json").score < read_report(first / f"{SINGLE}.json").score
    finally:
        single.write_text(original)


def test_force_regrades_everyone(course, options, tmp_path):
    paths = [course[0] / f"{SINGLE}.py", course[0] / "alice"]
    first = grade_batch(paths, out_dir=tmp_path, options=options)
    assert grade_batch(paths, out_dir=tmp_path, options=options).skipped == ["alice", SINGLE]
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.json")}
    forced = grade_batch(paths, out_dir=tmp_path, options=options, force=True)
    assert forced.skipped == [] and scores(forced) == scores(first)
    assert all(p.stat().st_mtime_ns > before[p.name] for p in tmp_path.glob("*.json"))


def test_a_public_only_report_is_not_kept_for_a_full_run(course, options, tmp_path):
    single = [course[0] / f"{SINGLE}.py"]
    public = grade_batch(single, out_dir=tmp_path, options=replace(options, hidden=False))
    assert public.skipped == [] and all(t.visibility == "visible" for t in public.results[0].exercises[0].tests)
    full = grade_batch(single, out_dir=tmp_path, options=options)
    assert full.skipped == [] and any(t.visibility == "hidden" for t in full.results[0].exercises[0].tests)
    assert grade_batch(single, out_dir=tmp_path, options=options).skipped == [SINGLE]


def test_a_grader_failure_for_one_student_is_that_students_report(course, options, tmp_path, monkeypatch):
    real = batch_module.grade_submission

    def failing_for_carol(submission, opts, supply=None):
        if submission.student == SINGLE:
            raise RuntimeError("a bug in the grader")
        return real(submission, opts, supply=supply)

    monkeypatch.setattr(batch_module, "grade_submission", failing_for_carol)
    paths = [course[0] / f"{SINGLE}.py", course[0] / "dave.zip"]
    done = grade_batch(paths, out_dir=tmp_path, options=options)
    by_student = {r.student: r for r in done.results}
    assert [e.kind for e in by_student[SINGLE].errors] == ["crash"]
    assert "a bug in the grader" in by_student[SINGLE].errors[0].message
    assert [e.kind for e in by_student["dave"].errors] == ["bad_submission"]
    monkeypatch.setattr(batch_module, "grade_submission", real)
    again = grade_batch(paths, out_dir=tmp_path, options=options)  # a crash report is never kept
    assert again.skipped == [] and {r.student: r.errors for r in again.results}[SINGLE] == []


def test_a_failed_write_leaves_the_previous_report_whole(course, options, tmp_path, monkeypatch):
    single = [course[0] / f"{SINGLE}.py"]
    grade_batch(single, out_dir=tmp_path, options=options)
    report = tmp_path / f"{SINGLE}.json"
    previous = report.read_bytes()

    def dump_half_then_fail(data, handle, **kwargs):
        handle.write(json.dumps(data)[:100])
        raise OSError("disk full")

    monkeypatch.setattr("grader.reports.json_report.json.dump", dump_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        grade_batch(single, out_dir=tmp_path, options=options, force=True)
    assert report.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{SINGLE}.json", "summary.json"]


def test_twenty_solved_submissions_in_two_jobs(tmp_path):
    klass = tmp_path / "class"
    students = [f"s{n:03d}" for n in range(1, 21)]
    for student in students:
        solved_folder(klass, student)
    started = time.monotonic()
    done = grade_batch([klass], out_dir=tmp_path / "out", options=grading_options(timeout=10.0), jobs=2)
    seconds = time.monotonic() - started
    print(f"\n20 submissions, 2 jobs: {seconds:.1f} s, {seconds / 20:.2f} s per submission")
    assert [r.student for r in done.results] == students
    assert all((r.score, r.max_score, r.errors) == (100.0, 100.0, []) for r in done.results)


def test_equal_test_results_are_held_once_across_a_class(one_job):
    batch, out = one_job
    by_student = {r.student: r for r in batch.results}
    alice, frank = (next(ex for ex in by_student[s].exercises if ex.name == EX1) for s in ("alice", "frank"))
    assert alice.tests == frank.tests  # both solved exercise 1: equal results...
    assert all(a is f for a, f in zip(alice.tests, frank.tests))  # ...held once
    on_disk = [read_report(out / f"{student}.json") for student in STUDENTS]
    assert scores(batch) == {r.student: (r.score, [(ex.name, t.name, t.status, t.score) for ex in r.exercises
                                                   for t in ex.tests]) for r in on_disk}


def test_sharing_tests_changes_no_result():
    from grader.batch import share_tests
    from grader.results import ExerciseResult, SubmissionResult, TestResult

    def result(student: str, feedback: str) -> SubmissionResult:
        tests = [TestResult("a", 1.0, 1.0, "passed"), TestResult("b", 0.0, 2.0, "failed", feedback=feedback)]
        return SubmissionResult(student, "", "", exercises=[ExerciseResult("ex", "ex.py", tests)])

    shared: dict = {}
    first, second = share_tests(result("p", "off by 2"), shared), share_tests(result("q", "off by 3"), shared)
    assert first.exercises[0].tests[0] is second.exercises[0].tests[0]
    assert second.exercises[0].tests[1].feedback == "off by 3" and second.score == 1.0 and len(shared) == 3


def test_collections_spare_the_objects_of_before_the_batch_and_only_during_it():
    import gc

    from grader.batch import collections_spare_what_exists

    assert gc.get_freeze_count() == 0
    with collections_spare_what_exists():
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # every module this process imported, numpy's included
    assert gc.get_freeze_count() == 0
