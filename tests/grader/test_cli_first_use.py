"""What a new instructor or student meets first with `grade`: help, option ranges, the self-check's
personal case and wording, unreadable files, seeds, regrades. Grading goes through the real sandbox."""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import limits_note, main
from grader.pipeline import GradingOptions, grade_submission
from grader.reports.json_report import read_report, write_report
from grader.submission.discover import discover
from grader.worker.sandbox import SandboxConfig, detect_bwrap
from tests.grader.hostile.submissions import EX1, EX2, SOLUTIONS

PERSONAL_STEM, PERSONAL_TEST = EX2, "HAND_ANSWERS.personal_case"  # names from exercise 2's rubric

NOT_AVAILABLE = "bubblewrap is not available"


def invoke(*args: object, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, prog_name="grade", **kwargs)


def folder_with(tmp_path: Path, name: str, *stems: str) -> Path:
    folder = tmp_path / name
    folder.mkdir(parents=True)
    for stem in stems:
        shutil.copyfile(SOLUTIONS / f"{stem}.py", folder / f"{stem}.py")
    return folder


def graded_status(folder: Path, student: str) -> str:
    """The personal case's status in the instructor's grading of `folder` under `student`."""
    submission = dataclasses.replace(discover([folder])[0], student=student)
    result = grade_submission(submission, GradingOptions(seed=3, exercises=(PERSONAL_STEM,)))
    return next(t.status for ex in result.exercises for t in ex.tests if t.name == PERSONAL_TEST)


# ---------------------------------------------------------------- grade check --student


@pytest.mark.parametrize("student", ["solutions", "s001"])  # the solved HAND_ANSWERS are worked for "solutions"
def test_check_with_a_student_id_checks_the_personal_case_as_grading_does(tmp_path, student):
    folder = folder_with(tmp_path, "work", PERSONAL_STEM)
    result = invoke("check", folder, "--student", student, "--exercise", PERSONAL_STEM)
    expected = graded_status(folder, student)
    assert f"{PERSONAL_TEST}" in result.output, result.output
    shown = "ok" if expected == "passed" else "FAIL"
    assert f"[{shown}" in next(line for line in result.output.splitlines() if PERSONAL_TEST in line)
    assert result.exit_code == (0 if expected == "passed" else 1), result.output
    assert ("s001" in result.output) == (student == "s001")


def test_check_without_a_student_id_leaves_the_personal_case_out(tmp_path):
    folder = folder_with(tmp_path, "work", PERSONAL_STEM)
    result = invoke("check", folder, "--exercise", PERSONAL_STEM, env={"BPG_STUDENT_ID": ""})
    assert result.exit_code == 0 and PERSONAL_TEST not in result.output, result.output


# ---------------------------------------------------------------- where to run grade check


def test_check_in_an_empty_folder_tells_a_student_where_to_run_it(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("check", empty)
    assert result.exit_code == 1
    assert "run `grade check` in the folder holding your exercise files" in result.output
    assert "folder per student" not in result.output and "Traceback" not in result.output


def test_check_above_the_exercises_folder_names_the_folder_to_run_it_in(tmp_path):
    root = tmp_path / "release"
    folder_with(root, "exercises", EX1)
    folder_with(root, "extra", EX1)
    result = invoke("check", root)
    assert result.exit_code == 1
    assert "grade check exercises" in result.output and "checks one submission" not in result.output


# ---------------------------------------------------------------- unreadable files


def test_an_unreadable_notebook_is_called_unreadable_everywhere(tmp_path):
    folder = folder_with(tmp_path / "class", "zoe", PERSONAL_STEM)
    (folder / f"{EX1}.ipynb").write_text('{"cells": [', "utf-8")  # handed in, not valid JSON
    out = tmp_path / "grades"
    result = invoke(folder, "--out", out, "--seed", 1, "--format", "md", "--format", "html")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "zoe.json").read_text())
    message = next(e["message"] for e in report["errors"] if e["kind"] == "bad_submission")
    assert "cannot be read" in message  # the report of record already says it right
    row = next(line for line in result.output.splitlines() if line.startswith("zoe "))
    assert "unreadable" in row.split()[2] and message in result.output
    for page in (out / "feedback" / "zoe.md", out / "feedback" / "zoe.html"):
        text = page.read_text("utf-8")
        missing = [line for line in text.splitlines() if "Not found in the submission" in line]
        assert missing and not [line for line in missing if EX1 in line], page.name  # ex3... are missing
        assert f"{EX1} (cannot be read)" in text.replace('<span class="muted">(', "(").replace("</a> (", " (")
        assert "Open it in Jupyter" in text  # how to fix it, from the report's message


# ---------------------------------------------------------------- option ranges and help


@pytest.mark.parametrize("command", [[], ["gradescope-bundle"]])
def test_memory_below_the_sandbox_minimum_is_a_usage_error(tmp_path, command):
    with pytest.raises(ValueError) as rule:
        SandboxConfig(memory_mb=100)
    args = command or [folder_with(tmp_path, "dana", EX1)]
    result = invoke(*args, "--memory-mb", 100, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "Usage: grade" in result.output and str(rule.value) in result.output
    assert "Traceback" not in result.output and not (tmp_path / "o").exists()


def test_top_level_help_shows_how_to_grade():
    result = invoke("--help")
    assert result.exit_code == 0
    for option in ("--out", "--jobs", "--format", "--seed", "--memory-mb"):
        assert option in result.output, option
    assert "grade submitted/ --out grades" in result.output  # an example


def test_usage_errors_name_the_command_as_typed(tmp_path):
    result = invoke(tmp_path, "--jobs", "0")
    assert result.exit_code == 2
    assert "grade grade" not in result.output and "Usage: grade [OPTIONS] PATHS..." in result.output
    assert "Try 'grade --help'" in result.output


# ---------------------------------------------------------------- the sandbox note


@pytest.mark.skipif(not detect_bwrap(), reason="bubblewrap cannot create a sandbox on this machine")
def test_an_unreadable_zip_does_not_blame_bubblewrap(tmp_path):
    classroom = tmp_path / "class"
    classroom.mkdir()
    (classroom / "yan.zip").write_bytes(b"PK\x03\x04 not a zip at all")
    result = invoke(classroom / "yan.zip", "--out", tmp_path / "g")
    assert result.exit_code == 0, result.output
    assert read_report(tmp_path / "g" / "yan.json").sandbox == "none"  # no worker ran
    assert NOT_AVAILABLE not in result.output
    check = invoke("check", classroom / "yan.zip")
    assert "bubblewrap is not installed" not in check.output


# ---------------------------------------------------------------- seeds and regrades


def test_force_keeps_the_seed_of_the_reports_it_replaces_and_says_so(tmp_path):
    folder = folder_with(tmp_path, "dana", EX1)
    out = tmp_path / "grades"
    first = invoke(folder, "--out", out)
    seed = read_report(out / "dana.json").seed
    assert f"Seed {seed}." in first.output and "The seed is new" in first.output
    again = invoke(folder, "--out", out, "--force")
    assert read_report(out / "dana.json").seed == seed
    assert f"Seed {seed}." in again.output and "The seed is kept from the reports already in" in again.output


def test_a_report_with_a_crash_is_regraded_and_the_terminal_says_why(tmp_path):
    folder = folder_with(tmp_path, "dana", EX1)
    out = tmp_path / "grades"
    invoke(folder, "--out", out, "--seed", 5)
    report = json.loads((out / "dana.json").read_text())
    report["errors"].append({"kind": "crash", "message": "the worker died", "exercise": EX1})
    (out / "dana.json").write_text(json.dumps(report))
    again = invoke(folder, "--out", out, "--seed", 5)
    assert "already up to date" not in again.output
    assert "Regraded 1 report(s) that recorded a crash (dana)" in again.output
    assert not read_report(out / "dana.json").errors  # graded again, cleanly


def test_report_refuses_to_merge_shards_graded_with_different_seeds(tmp_path):
    folder = folder_with(tmp_path, "dana", EX1)
    invoke(folder, "--out", tmp_path / "g1", "--seed", 1)
    other = read_report(tmp_path / "g1" / "dana.json")
    write_report(dataclasses.replace(other, student="eve", sha256="e" * 64, seed=2), tmp_path / "g2")
    result = invoke("report", tmp_path / "g1", tmp_path / "g2", "--out", tmp_path / "merged")
    assert result.exit_code == 2 and "different seeds" in result.output and "--seed S" in result.output
    assert "seed 1:" in result.output and "seed 2:" in result.output
    assert not (tmp_path / "merged").exists()


def test_summary_json_records_each_students_seed(tmp_path):
    folder = folder_with(tmp_path, "dana", EX1)
    invoke(folder, "--out", tmp_path / "g", "--seed", 11)
    summary = json.loads((tmp_path / "g" / "summary.json").read_text())
    assert [s["seed"] for s in summary["students"]] == [11] and summary["grader"]["seed"] == 11


def test_the_terminal_says_when_limits_held_per_process_only():
    assert limits_note(["sandbox", "sandbox"]) is None
    note = limits_note(["sandbox", "process"])
    assert note is not None and "per process only" in note and "cgroup" in note
