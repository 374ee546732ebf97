import dataclasses
import json

import pytest

from grader.reports.json_report import SCHEMA, read_report, result_to_dict, write_report
from grader.results import ExerciseResult, GradingError, SubmissionResult, TestResult


def sample() -> SubmissionResult:
    tests = [TestResult("backward.gradcheck.sigmoid", 0.0, 4.0, "failed", "hidden",
                        "dW[0] is off by a factor of 1/B.", "batch_mean_twice", "Average once."),
             TestResult("forward.values", 2.5, 2.5, "passed")]
    return SubmissionResult(student="s001", path="subs/s001", sha256="ab" * 32,
                            exercises=[ExerciseResult("ex3_mlp_backprop", "ex3_mlp_backprop.ipynb", tests,
                                                      [{"cell": 4, "message": "NameError: x"}])],
                            errors=[GradingError("timeout", "train took too long", "ex6_gradient_descent")],
                            seed=1234, sandbox="bwrap", duration_s=0.81234, grader_version="0.1.0")


def test_report_has_the_contract_fields():
    data = result_to_dict(sample())
    assert data["schema"] == SCHEMA
    assert set(data) >= {"schema", "student", "submission", "score", "max_score", "grader", "exercises", "errors"}
    assert data["score"] == 2.5 and data["max_score"] == 6.5
    assert data["grader"] == {"version": "0.1.0", "seed": 1234, "sandbox": "bwrap", "limits": "sandbox",
                             "duration_s": 0.812}
    ex = data["exercises"][0]
    assert (ex["name"], ex["score"], ex["max_score"], ex["source"]) == ("ex3_mlp_backprop", 2.5, 6.5, "ex3_mlp_backprop.ipynb")
    test = ex["tests"][0]
    assert set(test) >= {"name", "score", "max_score", "status", "visibility", "feedback", "diagnosis"}
    assert data["errors"][0]["kind"] == "timeout"


def test_report_round_trips_through_disk(tmp_path):
    path = write_report(sample(), tmp_path)
    assert path.name == "s001.json"
    back = read_report(path)
    assert back == sample() or json.dumps(result_to_dict(back)) == json.dumps(result_to_dict(sample()))
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write leaves no temporary file


def test_limits_held_per_process_only_are_recorded_and_read_back(tmp_path):
    result = dataclasses.replace(sample(), limits="process")
    assert result_to_dict(result)["grader"]["limits"] == "process"
    assert read_report(write_report(result, tmp_path)).limits == "process"


def test_reading_something_else_is_a_clear_error(tmp_path):
    (tmp_path / "x.json").write_text('{"schema": "other"}')
    with pytest.raises(ValueError, match="not a backprop-grader report"):
        read_report(tmp_path / "x.json")


def test_caps_bound_every_list_and_text_once_and_keep_the_scores():
    from grader.results import (MAX_ENTRIES, MAX_TEXT, ExerciseResult, GradingError, SubmissionResult,
                                TestResult, capped_result)

    many = MAX_ENTRIES * 3
    result = SubmissionResult(
        student="s", path="p", sha256="h", warnings=[f"w{i}" for i in range(many)],
        errors=[GradingError("syntax", "m" * (MAX_TEXT * 3), "ex") for _ in range(many)],
        exercises=[ExerciseResult("ex", "ex.py", tests=[TestResult("t", 1.0, 2.0, "failed", feedback="f" * (MAX_TEXT * 3))],
                                  cell_errors=[{"line": i, "message": f"line {i}: E"} for i in range(many)])])
    capped = capped_result(result)
    assert capped_result(capped) == capped  # every writer may apply it again
    assert (capped.score, capped.max_score) == (result.score, result.max_score)
    assert capped.warnings[-1] == f"and {many - MAX_ENTRIES} more notes" and len(capped.warnings) == MAX_ENTRIES + 1
    assert len(capped.errors) == MAX_ENTRIES + 1 and f"and {many - MAX_ENTRIES} more" in capped.errors[-1].message
    assert all(len(e.message) < MAX_TEXT + 100 for e in capped.errors)
    assert f"and {many - MAX_ENTRIES} more" in capped.exercises[0].cell_errors[-1]["message"]
    assert f"and {MAX_TEXT * 2} more characters" in capped.exercises[0].tests[0].feedback
