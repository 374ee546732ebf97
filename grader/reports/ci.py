"""What a student's CI job prints: per exercise the checks passed, each failure with its hint.

The CI check itself (grading, report files, the exit status) is `grader/ci_check.py`.
"""
from __future__ import annotations

from grader.reports.feedback_model import feedback_view
from grader.results import SubmissionResult


def score_percent(result: SubmissionResult) -> float:
    return 100.0 * result.score / result.max_score if result.max_score else 0.0


def outcome_lines(result: SubmissionResult) -> list[str]:
    """The console summary: per exercise the checks passed, then each failure with its hint."""
    view = feedback_view(result, show_hidden=False)
    lines = []
    for ex in view.exercises:
        if ex.source is None:
            lines.append(f"{ex.name}: not found (expected {ex.name}.ipynb or {ex.name}.py)")
            continue
        lines.append(f"{ex.name} ({ex.source}): {ex.passed}/{ex.checks} checks passed, "
                     f"{ex.score:g}/{ex.max_score:g} points")
        for test in ex.problems:
            lines.append(f"  [{test.status}] {test.name}" + (f" - {test.feedback}" if test.feedback else ""))
            if test.explanation:
                lines.append(f"         likely mistake: {test.explanation}")
            if test.hint:
                lines.append(f"         hint: {test.hint}")
        lines += [f"  note: {note}" for note in ex.notes]
    lines += [f"problem: {p}" for p in view.problems]
    return lines
