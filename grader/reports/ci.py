"""A student's repository in CI: the public checks, report files, and an exit status from the score.

`grade check PATH --format junit --out reports --fail-under 100` grades one submission with the
public checks exactly as `grade check` does, writes the chosen formats (the JSON report always),
prints what failed, and exits 1 when the score is below the threshold, in percent of the points
the public checks are worth, so a CI job turns red or green on it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional

from grader.reports.feedback_model import feedback_view
from grader.reports.formats import ReportError, check_formats, write_formats
from grader.reports.options import ReportOptions
from grader.results import SubmissionResult


@dataclass(frozen=True)
class CheckOutcome:
    result: SubmissionResult
    percent: float
    passed: bool  # percent >= fail_under and the submission could be graded
    written: dict[str, list[Path]]


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


def run_ci_check(path: Path, *, out_dir: Path, formats: Iterable[str] = (), fail_under: float = 100.0,
                 student_id: Optional[str] = None, exercises: Iterable[str] = (), timeout: float = 10.0,
                 echo: Callable[[str], None] = print) -> CheckOutcome:
    """Grade `path` (one submission) with the public checks, write reports into `out_dir`, echo a summary."""
    from grader.pipeline import GradingOptions, grade_submission
    from grader.submission.discover import discover
    from grader.submission.exercises import EXERCISES

    if not 0.0 <= fail_under <= 100.0:
        raise ReportError(f"--fail-under is a percentage from 0 to 100, not {fail_under:g}")
    chosen = tuple(exercises) or tuple(EXERCISES)
    unknown = [e for e in chosen if e not in EXERCISES]
    if unknown:
        raise ReportError(f"unknown exercise(s) {', '.join(unknown)}; choose from {', '.join(EXERCISES)}")
    check_formats(formats, ReportOptions())
    submissions = discover([Path(path)])
    if len(submissions) != 1:
        raise ReportError(f"{path} holds {len(submissions)} submissions; `grade check` checks one: point it at one")
    submission = submissions[0]
    if student_id:
        submission = dataclasses.replace(submission, student=student_id)
    result = grade_submission(submission, GradingOptions(hidden=False, timeout=timeout, exercises=chosen))
    written = write_formats(formats, [result], out_dir, ReportOptions())
    percent = score_percent(result)
    graded = any(ex.source for ex in result.exercises)
    passed = graded and percent + 1e-9 >= fail_under
    for line in outcome_lines(result):
        echo(line)
    echo(f"Score {result.score:g}/{result.max_score:g} ({percent:.1f}%) on the public checks; "
         f"required {fail_under:g}%: {'OK' if passed else 'FAILED'}. Reports in {out_dir}/.")
    return CheckOutcome(result, percent, passed, written)
