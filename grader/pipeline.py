"""Grade one submission: stage it, start its sandboxed worker, run every exercise's checks.

    submission -> staging -> worker -> checks -> SubmissionResult

Nothing here raises for a bad submission: problems become `errors` in the result, so a batch
always gets a report for every student.

The worker's start-up (an interpreter and numpy, about 0.1 s) overlaps other work: it begins
on standby before the submission is staged and its checks are imported, and within
`workers_started_ahead` (a batch) the next submission's worker starts while this one is graded.
Every submission still gets a fresh worker of its own: a new sandbox, uid and folders.

Hidden inputs never meet anything a student reads: every exercise's visible checks run first,
in one worker, then every hidden check in a second, fresh one (started while the visible checks
run). Nothing the student's code holds or writes in the hidden phase can reach a visible test,
and the hidden phase's events keep their kind but not the worker's words. A self-check
(`hidden=False`) uses one worker.
"""
from __future__ import annotations

import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Optional

import grader
from grader.checks.base import Check
from grader.checks.requirements import apply_requirements
from grader.checks.registry import checks_for, rubric_for
from grader.checks.runner import FORBIDDEN_MODULES, run_exercise
from grader.errors import BadSubmissionError, GraderError, StudentCodeError
from grader.results import ExerciseResult, GradingError, SubmissionResult, TestResult
from grader.rubric import Rubric
from grader.submission.discover import Submission
from grader.submission.exercises import EXERCISES
from grader.submission.staging import StagedSubmission, stage
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
    limit = None if count is None else count * workers_per_submission(options)
    supply = WorkerSupply(options.sandbox, ahead=True, limit=limit)
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


def workers_per_submission(options: GradingOptions) -> int:
    """2 when hidden checks run (visible checks in one worker, hidden ones in a fresh one), else 1."""
    hidden = options.hidden and any(item.visibility == "hidden" for exercise in options.exercises
                                    for item in rubric_for(exercise, options.rubric_dir).tests.values())
    return 2 if hidden else 1


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
        plans = [plan_exercise(exercise, *checks_for(exercise, hidden=options.hidden, rubric_dir=options.rubric_dir))
                 for exercise in options.exercises]
        hidden_phase = any(plan.hidden and staged.exercises.get(plan.exercise) is not None for plan in plans)
        closing: Optional[threading.Thread] = None
        try:
            client = supply.take()
            try:
                if hidden_phase:
                    supply.prestart()  # the hidden phase's worker boots while the visible checks run
                client.attach(staged.folder)
                result.sandbox, result.limits = client.sandbox_name, client.limits_scope
                visible = _run_phase(client, plans, "visible", staged, submission, options, result.errors, {})
                failed_loads = loads_not_retried(client)
            finally:  # stopped while the hidden checks run; gone before this function returns
                closing = close_in_background(client)
            spent = {name: phase.elapsed for name, phase in visible.items()}
            hidden_errors: list[GradingError] = []
            if hidden_phase:
                # A fresh worker: a new sandbox, uid and temp folder, and its own copy of the staged
                # folder, so nothing of the visible phase is there and nothing of this one is seen.
                with supply.take() as client:
                    client.attach(staged.folder)
                    hidden = _run_phase(client, plans, "hidden", staged, submission, options, hidden_errors,
                                        spent, failed_loads)
            else:  # only absent exercises have hidden checks: they are scored without a worker
                hidden = _run_phase(None, plans, "hidden", staged, submission, options, hidden_errors, spent)
        finally:
            if closing is not None:
                closing.join()
        result.errors.extend(hidden_phase_errors(hidden_errors, result.errors))
        result.exercises = [merge_phases(plan, visible[plan.exercise].result,
                                         hidden[plan.exercise].result if plan.exercise in hidden else None)
                            for plan in plans]
    result = apply_requirements(result, {plan.exercise: plan.rubric for plan in plans})
    result.errors = merge_repeated(result.errors)
    result.duration_s = time.monotonic() - started
    return result


def close_in_background(client: WorkerClient) -> threading.Thread:
    """Start closing `client` (killing its processes, removing its folders) in a thread; join it."""
    closing = threading.Thread(target=client.close, name="worker-close")
    closing.start()
    return closing


@dataclass(frozen=True)
class ExercisePlan:
    """One exercise's checks in rubric order, and the same split by who may read their feedback."""

    exercise: str
    rubric: Rubric
    checks: tuple[Check, ...]
    visible: tuple[Check, ...]
    hidden: tuple[Check, ...]


def plan_exercise(exercise: str, rubric: Rubric, checks: list[Check]) -> ExercisePlan:
    hidden = tuple(c for c in checks if rubric.tests[c.name].visibility == "hidden")
    visible = tuple(c for c in checks if rubric.tests[c.name].visibility != "hidden")
    return ExercisePlan(exercise, rubric, tuple(checks), visible, hidden)


@dataclass
class PhaseResult:
    """One exercise's results from one phase, and the seconds that phase spent on it."""

    result: ExerciseResult
    elapsed: float


def _run_phase(client: Optional[WorkerClient], plans: list[ExercisePlan], phase: str, staged: StagedSubmission,
               submission: Submission, options: GradingOptions, errors: list[GradingError], spent: dict[str, float],
               failed_loads: Optional[dict[str, StudentCodeError]] = None) -> dict[str, PhaseResult]:
    """Run every exercise's `phase` ("visible" or "hidden") checks on `client`, in rubric order.

    `spent`: seconds each exercise already used in an earlier phase; its budget covers both.
    An exercise with no checks of this phase is loaded in the visible phase (for its cell
    errors) and skipped in the hidden one. `client` may be None when no exercise has a source
    (run_exercise then scores each check missing without asking the worker). `failed_loads`:
    modules whose loading timed out or crashed in an earlier phase; they fail the same way here
    at once instead of costing their load timeout again.
    """
    done: dict[str, PhaseResult] = {}
    for plan in plans:
        checks = list(plan.visible if phase == "visible" else plan.hidden)
        if phase == "hidden" and not checks:
            continue
        budget = options.exercise_budget - spent.get(plan.exercise, 0.0)
        if budget <= 0:
            done[plan.exercise] = PhaseResult(out_of_time(plan.exercise, plan.rubric, checks,
                                                          staged.exercises.get(plan.exercise),
                                                          options.exercise_budget), 0.0)
            continue
        unreadable = [p.message for p in staged.problems if p.exercise == plan.exercise]
        began = time.monotonic()
        known = (failed_loads or {}).get(plan.exercise)
        transport = client if known is None else FailedLoad(known)
        exercise = run_exercise(
            plan.exercise, transport, rubric=plan.rubric, checks=checks, source=staged.exercises.get(plan.exercise),
            seed=options.seed, student_id=submission.name or submission.student, timeout=options.timeout,
            budget=budget, errors=errors, absent_reason=f"Not graded: {unreadable[0]}" if unreadable else "",
            load_timeout=options.load_timeout, folder=staged.folder, grading=options.hidden)
        done[plan.exercise] = PhaseResult(restate_budget(exercise, budget, options.exercise_budget),
                                          time.monotonic() - began)
    return done


def loads_not_retried(client: WorkerClient) -> dict[str, StudentCodeError]:
    """The modules `client` will not load again (their loading timed out or crashed), with the
    error each request for them raises."""
    return client.failed_loads


class FailedLoad:
    """A transport for an exercise whose loading already failed: every request raises that error."""

    def __init__(self, error: StudentCodeError):
        self.error = error

    def request(self, header: dict, timeout: float) -> Any:
        known = self.error  # a fresh exception each time: re-raising one grows its traceback
        raise StudentCodeError(known.status, known.message, known.event, known.traceback)


def _budget_note(exercise: str, budget: float) -> str:
    return f"Not run: {exercise} used up its time budget of {budget:.0f} s."


def restate_budget(exercise: ExerciseResult, given: float, budget: float) -> ExerciseResult:
    """`exercise` with "used up its time budget" naming the exercise's whole `budget`, not the
    part of it (`given`) that was left for this phase."""
    if given == budget:
        return exercise
    short, whole = _budget_note(exercise.name, given), _budget_note(exercise.name, budget)
    tests = [replace(t, feedback=whole) if t.status == "timeout" and t.feedback == short else t
             for t in exercise.tests]
    return replace(exercise, tests=tests)


def out_of_time(exercise: str, rubric: Rubric, checks: list[Check], source: Optional[str],
                budget: float) -> ExerciseResult:
    """The results of `checks` when the exercise's budget was used up before they could start."""
    return ExerciseResult(name=exercise, source=source, tests=[
        TestResult(chk.name, 0.0, rubric.tests[chk.name].points, "timeout", rubric.tests[chk.name].visibility,
                   _budget_note(exercise, budget), hint=chk.hint) for chk in checks])


def merge_phases(plan: ExercisePlan, visible: ExerciseResult, hidden: Optional[ExerciseResult]) -> ExerciseResult:
    """One exercise's result in rubric order, from its visible phase and (if it ran) its hidden one.

    Source and cell errors come from the visible phase: the hidden worker loaded the module after
    other exercises' hidden checks had run in it, so what it says about loading is not shown.
    """
    tests = {t.name: t for t in visible.tests}
    tests.update({t.name: t for t in hidden.tests} if hidden is not None else {})
    return ExerciseResult(name=plan.exercise, source=visible.source,
                          tests=[tests[c.name] for c in plan.checks if c.name in tests],
                          cell_errors=list(visible.cell_errors))


HIDDEN_EVENT = "in a hidden check (its details are not shared with students)"


def hidden_phase_errors(hidden: list[GradingError], visible: list[GradingError]) -> list[GradingError]:
    """The hidden phase's events as the report keeps them: the kind and the exercise, with the
    message replaced, since it may quote hidden inputs (the student's code, holding them, can
    raise any text). An event the visible phase already reported (the same loading error met
    again) is left out."""
    seen = set(visible)
    return [GradingError(e.kind, HIDDEN_EVENT, e.exercise) for e in hidden if e not in seen]


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
