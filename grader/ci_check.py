"""A student's repository in CI: the public checks, report files, and an exit status from the score.

`grade check PATH --format junit --out reports --fail-under 100` grades one submission with the
public checks exactly as `grade check` does, writes the chosen formats (the JSON report always),
prints what failed, and exits 1 when the score is below the threshold, in percent of the points
the public checks are worth, so a CI job turns red or green on it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional

from grader.assignments import Assignment, get_assignment
from grader.reports.ci import outcome_lines, score_percent
from grader.reports.formats import ReportError, check_formats, write_formats
from grader.reports.options import ReportOptions
from grader.results import SubmissionResult


@dataclass(frozen=True)
class CheckOutcome:
    result: SubmissionResult
    percent: float
    passed: bool  # percent >= fail_under and the submission could be graded
    written: dict[str, list[Path]]


def run_ci_check(path: Path, *, out_dir: Path, formats: Iterable[str] = (), fail_under: float = 100.0,
                 student_id: Optional[str] = None, exercises: Iterable[str] = (), timeout: Optional[float] = None,
                 assignment: Optional[Assignment] = None, echo: Callable[[str], None] = print) -> CheckOutcome:
    """Grade `path` (one submission) with the public checks, write reports into `out_dir`, echo a summary."""
    from grader.grade_path import NotOneSubmission, grade_path
    from grader.pipeline import GradingOptions

    assignment = get_assignment(assignment)
    if not 0.0 <= fail_under <= 100.0:
        raise ReportError(f"--fail-under is a percentage from 0 to 100, not {fail_under:g}")
    chosen = tuple(exercises)
    unknown = [e for e in chosen if e not in assignment.stems]
    if unknown:
        raise ReportError(f"unknown exercise(s) {', '.join(unknown)}; choose from {', '.join(assignment.stems)}")
    report_options = ReportOptions(assignment=assignment.nbgrader_name)
    check_formats(formats, report_options)
    options = GradingOptions(hidden=False, timeout=timeout, exercises=chosen, assignment=assignment)
    try:
        result = grade_path(Path(path), options=options, student_id=student_id)
    except NotOneSubmission as exc:
        raise ReportError(f"{path} holds {len(exc.found)} submissions; `grade check` checks one: point it at one") from None
    written = write_formats(formats, [result], out_dir, report_options)
    percent = score_percent(result)
    graded = any(ex.source for ex in result.exercises)
    passed = graded and percent + 1e-9 >= fail_under
    for line in outcome_lines(result):
        echo(line)
    echo(f"Score {result.score:g}/{result.max_score:g} ({percent:.1f}%) on the public checks; "
         f"required {fail_under:g}%: {'OK' if passed else 'FAILED'}. Reports in {out_dir}/.")
    return CheckOutcome(result, percent, passed, written)
