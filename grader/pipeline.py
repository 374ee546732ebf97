"""Grade one submission: stage it, start its sandboxed worker, run every exercise's checks.

    submission -> staging -> worker -> checks -> SubmissionResult

Nothing here raises for a bad submission: problems become `errors` in the result, so a batch
always gets a report for every student.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import grader
from grader.checks.registry import checks_for
from grader.checks.runner import FORBIDDEN_MODULES, run_exercise
from grader.errors import BadSubmissionError
from grader.results import ExerciseResult, GradingError, SubmissionResult
from grader.submission.discover import Submission
from grader.submission.exercises import EXERCISES
from grader.submission.staging import stage
from grader.worker.client import WorkerClient
from grader.worker.sandbox import SandboxConfig


@dataclass(frozen=True)
class GradingOptions:
    """How a grading run behaves; the same for every student of a batch."""

    seed: int = 0
    timeout: float = 10.0  # seconds for one call into student code
    exercise_budget: float = 120.0  # seconds for all of one exercise's checks
    load_timeout: float = 30.0  # seconds for importing one exercise (running a notebook's cells)
    hidden: bool = True  # False: public checks only (a student's self-check)
    exercises: tuple[str, ...] = tuple(EXERCISES)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    rubric_dir: Optional[Path] = None


def _empty_result(submission: Submission, options: GradingOptions, sha256: str = "") -> SubmissionResult:
    return SubmissionResult(student=submission.student, path=str(submission.path), sha256=sha256,
                            seed=options.seed, grader_version=grader.__version__)


def _score_absent(result: SubmissionResult, options: GradingOptions, reason: str) -> None:
    """Give every exercise its rubric with zero points, so max_score is the same for everyone."""
    for exercise in options.exercises:
        rubric, checks = checks_for(exercise, hidden=options.hidden, rubric_dir=options.rubric_dir)
        result.exercises.append(ExerciseResult(name=exercise, source=None))
        for chk in checks:
            item = rubric.tests[chk.name]
            from grader.results import TestResult  # local: only this fallback needs it

            result.exercises[-1].tests.append(TestResult(chk.name, 0.0, item.points, "missing",
                                                         item.visibility, reason))


def grade_submission(submission: Submission, options: GradingOptions = GradingOptions()) -> SubmissionResult:
    """Grade `submission` with `options` and return its result (never raises for student faults)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bpg-stage-") as tmp:
        try:
            staged = stage(submission, Path(tmp))
        except BadSubmissionError as exc:
            result = _empty_result(submission, options)
            result.errors.append(GradingError("bad_submission", str(exc)))
            _score_absent(result, options, f"The submission could not be read: {exc}")
            result.duration_s = time.monotonic() - started
            return result
        result = _empty_result(submission, options, staged.sha256)
        result.errors.extend(staged.problems)
        result.warnings.extend(staged.warnings)
        with WorkerClient(staged.folder, config=options.sandbox, forbidden=FORBIDDEN_MODULES) as client:
            result.sandbox = client.sandbox_name
            for exercise in options.exercises:
                rubric, checks = checks_for(exercise, hidden=options.hidden, rubric_dir=options.rubric_dir)
                unreadable = [p.message for p in staged.problems if p.exercise == exercise]
                result.exercises.append(run_exercise(
                    exercise, client, rubric=rubric, checks=checks, source=staged.exercises.get(exercise),
                    seed=options.seed, student_id=submission.student, timeout=options.timeout,
                    budget=options.exercise_budget, errors=result.errors,
                    absent_reason=f"Not graded: {unreadable[0]}" if unreadable else "",
                    load_timeout=options.load_timeout))
    result.errors = merge_repeated(result.errors)
    result.duration_s = time.monotonic() - started
    return result


def merge_repeated(errors: list[GradingError]) -> list[GradingError]:
    """One entry per (kind, exercise): a memory hog hit by 18 checks is one event, counted."""
    first: dict[tuple, GradingError] = {}
    counts: dict[tuple, int] = {}
    for err in errors:
        key = (err.kind, err.exercise)
        first.setdefault(key, err)
        counts[key] = counts.get(key, 0) + 1
    return [GradingError(e.kind, e.message + (f" (and {counts[k] - 1} more like it)" if counts[k] > 1 else ""),
                         e.exercise) for k, e in first.items()]
