"""Grade one submission: stage it, start its sandboxed worker, run every exercise's checks.

    submission -> staging -> worker -> checks -> SubmissionResult

Nothing here raises for a bad submission: problems become `errors` in the result, so a batch
always gets a report for every student.

The worker's start-up (an interpreter and numpy, about 0.1 s) overlaps other work: it begins
on standby before the submission is staged and its checks are imported, and within
`workers_started_ahead` (a batch) the next submission's worker starts while this one is graded.
Every submission still gets a fresh worker of its own: a new sandbox, uid and folders. Workers
come from a `WorkerSupply`, passed in explicitly (`grade_submission(..., supply=...)`); without
one, the submission gets a supply of its own.

What is graded, and how, is the assignment's (`GradingOptions.assignment`): its exercises, how
their files are found, its checks and rubrics, the modules its student code may not import.

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
from grader.assignments import Assignment, default_assignment
from grader.checks.base import Check
from grader.checks.requirements import apply_requirements
from grader.checks.registry import checks_for, rubric_for
from grader.checks.runner import run_exercise
from grader.defaults import CALL_TIMEOUT_S, EXERCISE_BUDGET_S, LOAD_TIMEOUT_S
from grader.errors import BadSubmissionError, GraderError, StudentCodeError
from grader.results import ExerciseResult, GradingError, SubmissionResult, TestResult
from grader.rubric import Rubric
from grader.submission.discover import Submission
from grader.submission.staging import StagedSubmission, stage
from grader.worker.client import WorkerClient
from grader.worker.sandbox import SandboxConfig


@dataclass(frozen=True)
class GradingOptions:
    """How a grading run behaves; the same for every student of a batch.

    `exercises`: the stems to grade, in the assignment's order (empty: all of them). The time
    limits left out are the assignment's.
    """

    seed: int = 0
    timeout: Optional[float] = None  # seconds for one call into student code
    exercise_budget: Optional[float] = None  # seconds for all of one exercise's checks
    load_timeout: Optional[float] = None  # seconds for importing one exercise (running a notebook's cells)
    hidden: bool = True  # False: public checks only (a student's self-check)
    exercises: tuple[str, ...] = ()
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    rubric_dir: Optional[Path] = None
    assignment: Assignment = field(default_factory=default_assignment)

    def __post_init__(self) -> None:
        fill = object.__setattr__  # frozen: the defaults are filled in once, here
        unknown = [e for e in self.exercises if e not in self.assignment.stems]
        if unknown:
            raise ValueError(f"{self.assignment.name} has no exercise {', '.join(unknown)}; "
                             f"its exercises are {', '.join(self.assignment.stems)}")
        fill(self, "exercises", tuple(self.exercises) or self.assignment.stems)
        for name, fallback in (("timeout", self.assignment.timeout), ("exercise_budget", self.assignment.exercise_budget),
                               ("load_timeout", self.assignment.load_timeout)):
            if getattr(self, name) is None:
                fill(self, name, fallback)


def _empty_result(submission: Submission, options: GradingOptions, sha256: str = "") -> SubmissionResult:
    return SubmissionResult(student=submission.student, path=str(submission.path), sha256=sha256,
                            seed=options.seed, grader_version=grader.__version__,
                            assignment=options.assignment.name)


def _score_absent(result: SubmissionResult, options: GradingOptions, reason: str) -> None:
    """Give every exercise its rubric with zero points, so max_score is the same for everyone."""
    for exercise in options.exercises:
        rubric, checks = checks_for(exercise, hidden=options.hidden, rubric_dir=options.rubric_dir,
                                    assignment=options.assignment)
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

    def __init__(self, sandbox: SandboxConfig, *, ahead: bool, limit: Optional[int] = None,
                 forbidden: tuple[str, ...] = ()):
        self.sandbox = sandbox
        self.forbidden = tuple(forbidden)  # modules no student code may import in these workers
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
                client = WorkerClient(config=self.sandbox, forbidden=self.forbidden)
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


def supply_for(options: GradingOptions, *, ahead: bool = False, limit: Optional[int] = None) -> WorkerSupply:
    """A supply of workers for grading with `options` (its sandbox and its assignment's forbidden modules)."""
    return WorkerSupply(options.sandbox, ahead=ahead, limit=limit, forbidden=options.assignment.forbidden_modules)


@contextmanager
def workers_started_ahead(options: GradingOptions, count: Optional[int] = None) -> Iterator[WorkerSupply]:
    """A supply whose workers start ahead: pass it to each `grade_submission` of the block, and each
    finds its worker already started, the next one booting while the current one is graded.

    `count`: how many submissions the block grades at most, so no worker boots after the last.
    """
    limit = None if count is None else count * workers_per_submission(options)
    supply = supply_for(options, ahead=True, limit=limit)
    try:
        yield supply
    finally:
        supply.close()


def workers_per_submission(options: GradingOptions) -> int:
    """2 when hidden checks run (visible checks in one worker, hidden ones in a fresh one), else 1."""
    hidden = options.hidden and any(item.visibility == "hidden" for exercise in options.exercises
                                    for item in rubric_for(exercise, options.rubric_dir,
                                                           options.assignment).tests.values())
    return 2 if hidden else 1


def grade_submission(submission: Submission, options: GradingOptions = GradingOptions(), *,
                     supply: Optional[WorkerSupply] = None) -> SubmissionResult:
    """Grade `submission` with `options` and return its result (never raises for student faults).

    `supply`: where its workers come from (a batch's, started ahead); None: a supply of its own.
    """
    started = time.monotonic()
    own = supply is None
    supply = supply_for(options) if own else supply
    supply.prestart()  # the worker boots while the submission is staged and its checks imported
    try:
        return _grade(submission, options, supply, started)
    finally:
        if own:
            supply.close()


def _grade(submission: Submission, options: GradingOptions, supply: WorkerSupply, started: float) -> SubmissionResult:
    with tempfile.TemporaryDirectory(prefix="bpg-stage-") as tmp:
        try:
            staged = stage(submission, Path(tmp), layout=options.assignment.layout)
        except BadSubmissionError as exc:
            result = _empty_result(submission, options)
            result.errors.append(GradingError("bad_submission", str(exc)))
            _score_absent(result, options, f"The submission could not be read: {exc}")
            result.duration_s = time.monotonic() - started
            return result
        result = _empty_result(submission, options, staged.sha256)
        result.errors.extend(staged.problems)
        result.warnings.extend(staged.warnings)
        plans = [plan_exercise(exercise, *checks_for(exercise, hidden=options.hidden, rubric_dir=options.rubric_dir,
                                                     assignment=options.assignment))
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
                visible, visible_events = _run_phase(client, plans, "visible", staged, submission, options, {})
                result.errors.extend(visible_events)
                failed_loads = loads_not_retried(client)
            finally:  # stopped while the hidden checks run; gone before this function returns
                closing = close_in_background(client)
            spent = {name: phase.elapsed for name, phase in visible.items()}
            if hidden_phase:
                # A fresh worker: a new sandbox, uid and temp folder, and its own copy of the staged
                # folder, so nothing of the visible phase is there and nothing of this one is seen.
                with supply.take() as client:
                    client.attach(staged.folder)
                    hidden, hidden_events = _run_phase(client, plans, "hidden", staged, submission, options,
                                                       spent, failed_loads)
            else:  # only absent exercises have hidden checks: they are scored without a worker
                hidden, hidden_events = _run_phase(None, plans, "hidden", staged, submission, options, spent)
        finally:
            if closing is not None:
                closing.join()
        result.errors.extend(hidden_phase_errors(hidden_events, result.errors))
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
               submission: Submission, options: GradingOptions, spent: dict[str, float],
               failed_loads: Optional[dict[str, StudentCodeError]] = None
               ) -> tuple[dict[str, PhaseResult], list[GradingError]]:
    """Run every exercise's `phase` ("visible" or "hidden") checks on `client`, in rubric order;
    each exercise's results, and the phase's events in order.

    `spent`: seconds each exercise already used in an earlier phase; its budget covers both.
    An exercise with no checks of this phase is loaded in the visible phase (for its cell
    errors) and skipped in the hidden one. `client` may be None when no exercise has a source
    (run_exercise then scores each check missing without asking the worker). `failed_loads`:
    modules whose loading timed out or crashed in an earlier phase; they fail the same way here
    at once instead of costing their load timeout again.
    """
    done: dict[str, PhaseResult] = {}
    events: list[GradingError] = []
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
        run = run_exercise(
            plan.exercise, transport, rubric=plan.rubric, checks=checks, source=staged.exercises.get(plan.exercise),
            seed=options.seed, student_id=submission.name or submission.student, timeout=options.timeout,
            budget=budget, absent_reason=f"Not graded: {unreadable[0]}" if unreadable else "",
            load_timeout=options.load_timeout, folder=staged.folder, grading=options.hidden,
            forbidden=options.assignment.forbidden_modules)
        events.extend(run.events)
        done[plan.exercise] = PhaseResult(restate_budget(run.result, budget, options.exercise_budget),
                                          time.monotonic() - began)
    return done, events


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
