"""Run one exercise's checks against one transport and turn verdicts into scored results.

This is where statuses come from: a Verdict gives passed/failed, a StudentCodeError gives
error/timeout/missing/blocked, and a bug in a check itself is reported as the grader's fault
instead of costing the student points silently.
"""
from __future__ import annotations

import copy
import json
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from grader.checks.base import Check, CheckContext, Transport
from grader.defaults import CALL_TIMEOUT_S, EXERCISE_BUDGET_S, LOAD_TIMEOUT_S
from grader.errors import StudentCodeError
from grader.results import ExerciseResult, GradingError, TestResult
from grader.rubric import Rubric

from grader.assignments.module_2a import FORBIDDEN_MODULES  # Module 2A's, the default
MAX_SOURCE_BYTES = 16 * 2**20  # a staged file is never larger (see worker.sandbox)


@dataclass
class LoadOutcome:
    """What the worker said when it loaded the exercise's module."""

    defined: set[str] = field(default_factory=set)
    cell_errors: list[dict] = field(default_factory=list)
    error: Optional[StudentCodeError] = None


def load_module(transport: Transport, exercise: str, *, timeout: float,
                forbidden: Sequence[str] = FORBIDDEN_MODULES) -> LoadOutcome:
    try:
        value = transport.request({"op": "load", "module": exercise, "forbidden": list(forbidden)}, timeout=timeout)
    except StudentCodeError as exc:
        return LoadOutcome(error=exc)
    return LoadOutcome(defined=set(value.get("defined", [])), cell_errors=list(value.get("cell_errors", [])))


def cell_events(cell_errors: list[dict], exercise: str, source: str) -> list[GradingError]:
    """Report-level events for cells (or top-level statements) that could not run at all:
    a syntax error, or a blocked import or system call. Other cell errors stay in `cell_errors`."""
    found = []
    for cell in cell_errors:
        where = f"cell {cell['index']}" if "index" in cell else f"line {cell.get('line', '?')}"
        if cell.get("kind") == "blocked":
            found.append(GradingError("blocked", f"{source}, {where}: {cell.get('message', '')}", exercise))
        elif cell.get("type") in ("SyntaxError", "IndentationError", "TabError"):
            found.append(GradingError("syntax", f"{source}, {where}: {cell.get('message', '')}", exercise))
    return found


def _result(check: Check, rubric: Rubric, status: str, credit: float, feedback: str,
            diagnosis: Optional[str] = None) -> TestResult:
    item = rubric.tests[check.name]
    return TestResult(name=check.name, score=round(item.points * credit, 6), max_score=item.points,
                      status=status, visibility=item.visibility, feedback=feedback,
                      diagnosis=diagnosis, hint=check.hint if status != "passed" else "")


def check_timeout(check: Check, run_timeout: float) -> float:
    """Seconds for each of `check`'s calls: its own bound when it asks for more than the run's."""
    return max(run_timeout, check.timeout) if check.timeout is not None else run_timeout


def run_check(check: Check, ctx: CheckContext, rubric: Rubric, defined: set[str],
              errors: list[GradingError]) -> TestResult:
    missing = [name for name in check.needs if name not in defined]
    if missing:
        return _result(check, rubric, "missing", 0.0,
                       f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not defined.")
    ctx.test_name = check.name
    events = getattr(ctx.transport, "events", None)  # the worker's log of timeouts, crashes, ...
    seen = len(events) if events is not None else 0
    # the context is shared by the exercise's checks: a check's own bound per call (a deep graph
    # needs longer) holds for that check only, and never shortens a longer one the run was given
    run_timeout = ctx.timeout
    ctx.timeout = check_timeout(check, run_timeout)
    try:
        verdict = check.run(ctx)
    except StudentCodeError as exc:
        if exc.event:
            errors.append(GradingError(exc.event, f"{check.name}: {exc.message}", ctx.exercise))
        return _result(check, rubric, exc.status, 0.0, exc.message)
    except Exception as exc:  # a bug in the check, not in the student's code
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        errors.append(GradingError("crash", f"grader check {check.name} failed: {detail}", ctx.exercise))
        return _result(check, rubric, "error", 0.0,
                       "The grader could not finish this check (its own fault, not yours); "
                       "your instructor has the details.")
    finally:
        ctx.timeout = run_timeout
    # An event inside a check that caught the error itself still belongs in the report.
    for event in (events[seen:] if events is not None else []):
        errors.append(GradingError(event.kind, f"{check.name}: {event.message}", ctx.exercise))
    status = "passed" if verdict.passed else "failed"
    return _result(check, rubric, status, verdict.credit, verdict.feedback, verdict.diagnosis)


def read_source_cells(folder: Optional[Path], exercise: str) -> Optional[tuple[str, ...]]:
    """The staged exercise's source, read here in the grader: a module's text as one entry, a
    notebook's code cells one entry each; None when the folder or file is not there.

    The worker runs a copy of the staged folder, so nothing the student's code does changes
    what is read here.
    """
    if folder is None:
        return None
    module, notebook = Path(folder) / f"{exercise}.py", Path(folder) / f"{exercise}.cells.json"
    try:
        if module.is_file() and module.stat().st_size <= MAX_SOURCE_BYTES:
            return (module.read_text("utf-8"),)
        if notebook.is_file() and notebook.stat().st_size <= MAX_SOURCE_BYTES:
            cells = json.loads(notebook.read_text("utf-8")).get("cells", [])
            return tuple(str(cell.get("source", "")) for cell in cells if isinstance(cell, dict))
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return None
    return None


def is_grading_run(rubric: Rubric, checks: list[Check]) -> bool:
    """Without an explicit answer: a run with hidden checks is the instructor's."""
    return any(rubric.tests[c.name].visibility == "hidden" for c in checks if c.name in rubric.tests)


@dataclass
class ExerciseRun:
    """One exercise's scored tests, and the report-level events (timeouts, crashes, blocked or
    syntax errors) met while loading it and running its checks, in order."""

    result: ExerciseResult
    events: list[GradingError] = field(default_factory=list)


def run_exercise(exercise: str, transport: Transport, *, rubric: Rubric, checks: list[Check],
                 source: Optional[str], seed: int = 0, student_id: str = "", timeout: float = CALL_TIMEOUT_S,
                 budget: float = EXERCISE_BUDGET_S, absent_reason: str = "", load_timeout: float = LOAD_TIMEOUT_S,
                 folder: Optional[Path] = None, grading: Optional[bool] = None,
                 forbidden: Sequence[str] = FORBIDDEN_MODULES) -> ExerciseRun:
    """Load the exercise in the worker, run `checks` in order, and score them with `rubric`.

    `timeout` bounds each call into student code; `budget` bounds the whole exercise, after which
    the remaining tests are marked timeout instead of running. `absent_reason` says why `source`
    is None when the file exists but could not be read. `folder`: the staged submission folder,
    whose `<exercise>.py` or `<exercise>.cells.json` checks may read (`ctx.source_cells`).
    `grading`: True for the instructor's run, where public checks draw fresh inputs from `seed`;
    False for a self-check (the published fixtures); None: True when `checks` include hidden ones.
    `forbidden`: the modules the assignment's student code may not import.
    """
    errors: list[GradingError] = []
    result = ExerciseResult(name=exercise, source=source)
    if source is None:
        for chk in checks:
            result.tests.append(_result(chk, rubric, "missing", 0.0, absent_reason
                                        or f"No {exercise}.ipynb or {exercise}.py in the submission."))
        return ExerciseRun(result, errors)
    loaded = load_module(transport, exercise, timeout=load_timeout, forbidden=forbidden)
    if loaded.error is not None:
        exc = loaded.error
        if exc.event:
            errors.append(GradingError(exc.event, f"loading {source}: {exc.message}", exercise))
        for chk in checks:
            result.tests.append(_result(chk, rubric, exc.status if exc.status != "missing" else "error",
                                        0.0, f"{source} could not be loaded: {exc.message}"))
        return ExerciseRun(result, errors)
    result.cell_errors = loaded.cell_errors
    errors.extend(cell_events(loaded.cell_errors, exercise, source))
    # a deep copy: rubrics are shared across a batch, and a check must not change the next student's
    ctx = CheckContext(exercise=exercise, transport=transport, seed=seed, student_id=student_id,
                       timeout=timeout, settings=copy.deepcopy(rubric.settings),
                       fresh_fixtures=is_grading_run(rubric, checks) if grading is None else grading,
                       source_cells=read_source_cells(folder, exercise))
    started = time.monotonic()
    for chk in checks:
        if time.monotonic() - started > budget:
            result.tests.append(_result(chk, rubric, "timeout", 0.0,
                                        f"Not run: {exercise} used up its time budget of {budget:.0f} s."))
            continue
        result.tests.append(run_check(chk, ctx, rubric, loaded.defined, errors))
    return ExerciseRun(result, errors)
