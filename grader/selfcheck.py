"""Students' self-checks: the same public checks the grader runs, with friendly output.

Two ways in:
- `check(exercise, group, globals())` in a notebook's test cell runs the checks of one group on
  the live notebook namespace and raises AssertionError when one fails (so nbgrader scores the
  cell 0);
- `grade check [PATH]` grades a folder with the public checks in the sandboxed worker, exactly as
  the instructor's run would, and prints what failed with hints.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Optional

from grader.checks.registry import checks_for, group_of
from grader.checks.runner import run_exercise
from grader.results import TestResult

MARK = {"passed": "ok  ", "failed": "FAIL", "error": "ERR ", "timeout": "TIME", "missing": "MISS", "blocked": "BLCK"}


def _line(test: TestResult) -> str:
    text = f"  [{MARK.get(test.status, test.status)}] {test.name}"
    if test.status != "passed":
        text += f" - {test.feedback}" if test.feedback else ""
        if test.hint:
            text += f"\n         hint: {test.hint}"
    return text


def check(exercise: str, group: str, namespace: dict, hidden: bool = False, *,
          student_id: str = "", seed: int = 0) -> None:
    """Run `exercise`'s checks of `group` against `namespace` (a notebook's `globals()`).

    Prints one line per check and raises AssertionError naming the failures, if any. Returns
    None on purpose: nbgrader reads a test cell's displayed value as a partial score.
    """
    from grader.worker.in_process import InProcessTransport

    rubric, checks = checks_for(exercise, hidden=hidden)
    checks = [c for c in checks if group_of(c.name) == group]
    if not checks:
        raise LookupError(f"no checks named {group!r} for {exercise}")
    transport = InProcessTransport({exercise: namespace})
    result = run_exercise(exercise, transport, rubric=rubric, checks=checks, source="this notebook",
                          seed=seed, student_id=student_id)
    for test in result.tests:
        print(_line(test))
    failed = [t for t in result.tests if t.status != "passed"]
    if failed:
        raise AssertionError(f"{len(failed)} of {len(result.tests)} checks of {group} failed: "
                             + "; ".join(f"{t.name}: {t.feedback}" for t in failed))
    print(f"All {len(result.tests)} checks of {group} passed.")


def run_self_check(path: Path, *, student_id: Optional[str] = None, exercises: Iterable[str] = (),
                   timeout: float = 10.0, echo: Callable[[str], None] = print) -> bool:
    """Grade `path` with the public checks and print the outcome. True when everything passed."""
    from grader.pipeline import GradingOptions, grade_submission
    from grader.submission.discover import discover
    from grader.submission.exercises import EXERCISES

    from grader.errors import BadSubmissionError

    try:
        submissions = discover([Path(path)])
    except BadSubmissionError as exc:  # nothing to check here: say what is expected, no traceback
        echo(str(exc))
        return False
    if len(submissions) != 1:
        echo(f"`grade check` checks one submission; {path} holds {len(submissions)}. Point it at one of them.")
        return False
    submission = submissions[0]
    if student_id:
        submission = type(submission)(student=student_id, path=submission.path, kind=submission.kind)
    chosen = tuple(exercises) or tuple(EXERCISES)
    unknown = [e for e in chosen if e not in EXERCISES]
    if unknown:
        echo(f"Unknown exercise(s): {', '.join(unknown)}. Choose from: {', '.join(EXERCISES)}.")
        return False
    result = grade_submission(submission, GradingOptions(hidden=False, timeout=timeout, exercises=chosen))
    everything_ok = True
    for ex in result.exercises:
        if ex.source is None:
            if exercises:
                echo(f"{ex.name}: not found (expected {ex.name}.ipynb or {ex.name}.py)")
                everything_ok = False
            continue
        passed = sum(t.status == "passed" for t in ex.tests)
        echo(f"{ex.name} ({ex.source}): {passed}/{len(ex.tests)} public checks passed")
        for test in ex.tests:
            if test.status != "passed":
                echo(_line(test))
                everything_ok = False
        for cell in ex.cell_errors:
            if "line" in cell:  # a module's statement; its message starts with "line N:"
                echo(f"  note: {cell.get('message')}; the rest of the file still ran")
            else:
                echo(f"  note: cell {cell.get('index')} raised {cell.get('message')}; later cells still ran")
    for err in result.errors:
        echo(f"problem ({err.kind}): {err.message}")
        everything_ok = False
    if not any(ex.source for ex in result.exercises):
        echo(f"No exercise files found in {path}. Expected files named like {EXERCISES[0]}.ipynb.")
        return False
    if result.sandbox != "bwrap":
        echo("(checked with resource limits only: bubblewrap is not installed)")
    echo("All public checks passed. Hidden checks run when your instructor grades."
         if everything_ok else "Some checks failed: see above.")
    return everything_ok
