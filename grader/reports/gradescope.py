"""Gradescope's autograder `results.json`: one file per student, and `results.json` for one submission.

Gradescope shows `tests[]` to the student, each with its points and a Markdown `output` (the
feedback, the diagnosis in words and the hint). Hidden tests get `visibility: after_published`,
so students see them only once grades are published, and, unless the instructor asks
(`ReportOptions.show_hidden`), their output says only that they are hidden. The grader's own
output (`stdout_visibility`) stays hidden from students.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from grader.reports.files import student_path, write_text_atomic
from grader.reports.markdown_text import md_block, md_code, md_escape
from grader.reports.options import ReportOptions
from grader.reports.redaction import HIDDEN_NOTE, TestView, view_test
from grader.reports.wording import error_words
from grader.results import SubmissionResult

FOLDER = "gradescope"
SINGLE_FILE = "results.json"


def render_test_output(view: TestView) -> str:
    """The Markdown a student reads under one test."""
    if view.redacted:
        return HIDDEN_NOTE
    parts = []
    if not view.passed:
        parts.append(f"**{md_escape(view.status_text.capitalize())}.**")
    if view.feedback:
        parts.append(md_block(view.feedback))
    if not view.passed and view.explanation:
        parts.append(f"**Likely mistake** ({md_code(view.diagnosis)}): {md_escape(view.explanation)}")
    if not view.passed and view.hint:
        parts.append(f"**Hint:** {md_escape(view.hint)}")
    return "\n\n".join(parts)


def overall_output(result: SubmissionResult, *, show_hidden: bool) -> str:
    """The Markdown above the tests: the total, problems with the submission, and notes."""
    lines = [f"**Score: {result.score:g} / {result.max_score:g}**"]
    if result.errors:
        lines += ["", "Problems while grading:"]
        lines += [f"- {md_escape(error_words(e.kind))}"
                  + (f" ({md_escape(e.exercise)})" if e.exercise else "") + f": {md_escape(e.message)}"
                  for e in result.errors]
    if result.warnings:
        lines += ["", "Notes:"] + [f"- {md_escape(w)}" for w in result.warnings]
    hidden = sum(t.visibility == "hidden" for ex in result.exercises for t in ex.tests)
    if hidden and not show_hidden:
        lines += ["", f"{hidden} hidden checks also ran; they appear once grades are published."]
    return "\n".join(lines)


def gradescope_results(result: SubmissionResult, *, show_hidden: bool = False) -> dict[str, Any]:
    """`result` as Gradescope's results.json (a dict ready for json.dump)."""
    tests = []
    for ex_number, exercise in enumerate(result.exercises, start=1):
        for test_number, test in enumerate(exercise.tests, start=1):
            view = view_test(test, show_hidden=show_hidden, exercise=exercise.name)
            tests.append({
                "name": f"{exercise.name}: {test.name}",
                "name_format": "text",
                "number": f"{ex_number}.{test_number}",
                "score": test.score,
                "max_score": test.max_score,
                # Gradescope knows only passed and failed; the output names the real status.
                "status": "passed" if view.passed else "failed",
                "output": render_test_output(view),
                "output_format": "md",
                "tags": [exercise.name],
                "visibility": "after_published" if test.visibility == "hidden" else "visible",
            })
    return {
        "score": result.score,
        "execution_time": round(result.duration_s, 3),
        "output": overall_output(result, show_hidden=show_hidden),
        "output_format": "md",
        "test_output_format": "md",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"student": result.student, "sha256": result.sha256, "seed": result.seed,
                       "sandbox": result.sandbox, "grader_version": result.grader_version,
                       "max_score": result.max_score,
                       "errors": [{"kind": e.kind, "exercise": e.exercise} for e in result.errors]},
        "tests": tests,
    }


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def write_gradescope(results: Sequence[SubmissionResult], out_dir: Path, options: ReportOptions) -> list[Path]:
    """`out_dir/gradescope/<student>.json` for each student, and `out_dir/results.json` when there is one."""
    written = []
    for result in results:
        text = _dump(gradescope_results(result, show_hidden=options.show_hidden))
        written.append(write_text_atomic(student_path(out_dir, FOLDER, result.student, ".json"), text))
        if len(results) == 1:
            written.append(write_text_atomic(Path(out_dir) / SINGLE_FILE, text))
    return written
