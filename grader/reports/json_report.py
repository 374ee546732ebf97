"""The report of record: `DIR/<student>.json` in the contract's schema.

Every other format is made from this dict, so it must round-trip: `result_from_dict` reads back
what `result_to_dict` wrote. Writes are atomic (temporary file, then rename), so an interrupted
batch never leaves half a report.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from grader.results import ExerciseResult, GradingError, SubmissionResult, TestResult

SCHEMA = "backprop-grader/report/1"


def test_to_dict(test: TestResult) -> dict[str, Any]:
    return {"name": test.name, "score": test.score, "max_score": test.max_score, "status": test.status,
            "visibility": test.visibility, "feedback": test.feedback, "diagnosis": test.diagnosis,
            "hint": test.hint}


def result_to_dict(result: SubmissionResult) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "assignment": result.assignment,
        "student": result.student,
        # "name": the folder, zip or file name as submitted (the id had to differ from it) or the id
        "submission": {"path": result.path, "sha256": result.sha256,
                       "name": result.student_name or result.student},
        "score": result.score,
        "max_score": result.max_score,
        "grader": {"version": result.grader_version, "seed": result.seed, "sandbox": result.sandbox,
                   "limits": result.limits, "duration_s": round(result.duration_s, 3)},
        "exercises": [
            {"name": ex.name, "score": ex.score, "max_score": ex.max_score, "source": ex.source,
             "tests": [test_to_dict(t) for t in ex.tests], "cell_errors": list(ex.cell_errors)}
            for ex in result.exercises
        ],
        "errors": [{"kind": e.kind, "message": e.message, "exercise": e.exercise} for e in result.errors],
        "warnings": list(result.warnings),
    }


def result_from_dict(data: dict[str, Any]) -> SubmissionResult:
    if data.get("schema") != SCHEMA:
        raise ValueError(f"not a backprop-grader report (schema {data.get('schema')!r}, expected {SCHEMA!r})")
    grader = data.get("grader", {})
    return SubmissionResult(
        student=data["student"], path=data["submission"]["path"], sha256=data["submission"]["sha256"],
        exercises=[
            ExerciseResult(
                name=ex["name"], source=ex.get("source"), cell_errors=list(ex.get("cell_errors", [])),
                tests=[TestResult(name=t["name"], score=t["score"], max_score=t["max_score"],
                                  status=t["status"], visibility=t.get("visibility", "visible"),
                                  feedback=t.get("feedback", ""), diagnosis=t.get("diagnosis"),
                                  hint=t.get("hint", ""))
                       for t in ex["tests"]])
            for ex in data.get("exercises", [])
        ],
        errors=[GradingError(e["kind"], e["message"], e.get("exercise")) for e in data.get("errors", [])],
        seed=grader.get("seed", 0), sandbox=grader.get("sandbox", "none"), limits=grader.get("limits", "sandbox"),
        duration_s=grader.get("duration_s", 0.0), grader_version=grader.get("version", ""),
        warnings=list(data.get("warnings", [])),
        student_name=_given_name(data),
        assignment=data.get("assignment", "module-2a"),  # reports from before assignments were Module 2A's
    )


def _given_name(data: dict[str, Any]) -> str:
    name = data["submission"].get("name", "")
    return name if isinstance(name, str) and name != data["student"] else ""


def write_json_atomic(path: Path, data: Any) -> None:
    """Write `data` as JSON to `path` so that readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, allow_nan=False)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def report_path(out_dir: Path, student: str) -> Path:
    return Path(out_dir) / f"{student}.json"


def write_report(result: SubmissionResult, out_dir: Path) -> Path:
    path = report_path(out_dir, result.student)
    write_json_atomic(path, result_to_dict(result))
    return path


def read_report(path: Path) -> SubmissionResult:
    return result_from_dict(json.loads(Path(path).read_text("utf-8")))
