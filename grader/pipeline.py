"""Grade one submission: stage it, start its sandboxed worker, run every exercise's checks.

    submission -> staging -> worker -> checks -> SubmissionResult

Nothing here raises for a bad submission: problems become `errors` in the result, so a batch
always gets a report for every student.

The worker's start-up (an interpreter and numpy, about 0.1 s) overlaps other work: it begins
on standby before the submission is staged and its checks are imported, and within
`workers_started_ahead` (a batch) the next submission's worker starts while this one is graded.
Every submission still gets a fresh worker of its own: a new sandbox, uid and folders.
"""
from __future__ import annotations

import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import grader
from grader.checks.registry import checks_for
from grader.checks.runner import FORBIDDEN_MODULES, run_exercise
from grader.errors import BadSubmissionError, GraderError
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


class WorkerSupply:
    """Workers on standby for the submissions of one sandbox configuration, started in the background.

    `prestart()` makes sure one is starting; `take()` hands it over (waiting for its start-up,
    raising GraderError if it failed) and, with `ahead`, begins the next one at once. The caller
    attaches its submission to the worker it took and closes it when done. A worker is never
    handed out twice.
    """

    def __init__(self, sandbox: SandboxConfig, *, ahead: bool, limit: Optional[int] = None):
        self.sandbox = sandbox
        self.ahead = ahead
        self.limit = limit  # no worker starts ahead once this many were taken (None: no limit)
        self.taken = 0
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="worker-start")
        self._standby: Optional[tuple[WorkerClient, Future]] = None
        self._lock = threading.Lock()
        self._closed = False

    def prestart(self) -> None:
        with self._lock:
            if self._standby is None and not self._closed:
                client = WorkerClient(config=self.sandbox, forbidden=FORBIDDEN_MODULES)
                self._standby = (client, self._starter.submit(client.start))

    def take(self) -> WorkerClient:
        self.prestart()
        with self._lock:
            if self._standby is None:
                raise GraderError("this worker supply is closed")
            client, starting = self._standby
            self._standby = None
            self.taken += 1
        try:
            starting.result()
        except BaseException:
            client.close()
            raise
        if self.ahead and (self.limit is None or self.taken < self.limit):
            self.prestart()
        return client

    def close(self) -> None:
        """Stop the worker on standby, if any; later calls to `take` fail."""
        with self._lock:
            self._closed, standby, self._standby = True, self._standby, None
        if standby is not None:
            standby[1].cancel()
            try:
                standby[1].result()
            except BaseException:  # it failed to start: nothing left to stop but its folders
                pass
            standby[0].close()
        self._starter.shutdown(wait=True)


_SUPPLIES: dict[SandboxConfig, WorkerSupply] = {}  # this process's supplies that start workers ahead


@contextmanager
def workers_started_ahead(options: GradingOptions, count: Optional[int] = None) -> Iterator[WorkerSupply]:
    """Within the block, each `grade_submission` with these sandbox settings finds its worker
    already started: the next one boots while the current submission is graded (for batches).

    `count`: how many submissions the block grades at most, so no worker boots after the last.
    """
    supply = WorkerSupply(options.sandbox, ahead=True, limit=count)
    previous = _SUPPLIES.get(options.sandbox)
    _SUPPLIES[options.sandbox] = supply
    try:
        yield supply
    finally:
        if previous is None:
            _SUPPLIES.pop(options.sandbox, None)
        else:
            _SUPPLIES[options.sandbox] = previous
        supply.close()


def grade_submission(submission: Submission, options: GradingOptions = GradingOptions()) -> SubmissionResult:
    """Grade `submission` with `options` and return its result (never raises for student faults)."""
    started = time.monotonic()
    shared = _SUPPLIES.get(options.sandbox)
    supply = shared or WorkerSupply(options.sandbox, ahead=False)
    supply.prestart()  # the worker boots while the submission is staged and its checks imported
    try:
        return _grade(submission, options, supply, started)
    finally:
        if supply is not shared:
            supply.close()


def _grade(submission: Submission, options: GradingOptions, supply: WorkerSupply, started: float) -> SubmissionResult:
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
        plans = [(exercise, *checks_for(exercise, hidden=options.hidden, rubric_dir=options.rubric_dir))
                 for exercise in options.exercises]
        with supply.take() as client:
            client.attach(staged.folder)
            result.sandbox = client.sandbox_name
            for exercise, rubric, checks in plans:
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
