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
from typing import Callable, Iterable, Optional, Sequence

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
                          seed=seed, student_id=student_id).result
    for test in result.tests:
        print(_line(test))
    failed = [t for t in result.tests if t.status != "passed"]
    if failed:
        raise AssertionError(f"{len(failed)} of {len(result.tests)} checks of {group} failed: "
                             + "; ".join(f"{t.name}: {t.feedback}" for t in failed))
    print(f"All {len(result.tests)} checks of {group} passed.")


PERSONAL_STEM = "ex2_hand_calculation"


def personal_test() -> Optional[str]:
    """The name of exercise 2's personal-case check, hidden at grading (a student may run it with
    their id), or None in a copy of the grader that ships no hidden checks (a student release)."""
    try:
        from grader.checks.hidden.ex2_hand_calculation import PERSONAL_TEST
    except ModuleNotFoundError:
        return None
    return PERSONAL_TEST


def where_to_run(path: Path, found: Iterable[str] = (), stems: Sequence[str] = ()) -> str:
    """What a student is told when `path` is not one submission: where `grade check` belongs.

    `stems`: the assignment's exercise stems (default: Module 2A's), two of which are named."""
    from grader.submission.exercises import EXERCISES

    names = ", ".join(f"{e}.ipynb" for e in (tuple(stems) or EXERCISES)[:2])
    text = (f"Nothing to check in {path}: run `grade check` in the folder holding your exercise files "
            f"({names}, ... or the .py modules), or name that folder: `grade check FOLDER`.")
    found = sorted(found)
    if found:
        text = (f"{path} holds {len(found)} folders with exercise files ({', '.join(found[:4])}); run "
                f"`grade check` in the one holding your work, e.g. `cd {found[0]} && grade check`, "
                f"or `grade check {found[0]}`.")
    return text


def personal_rubric_dir(folder: Path, exercises: tuple[str, ...], assignment=None) -> Optional[Path]:
    """The grading rubrics in `folder` with exercise 2's personal-case test made visible, so the
    self-check runs that one hidden check, unchanged, for the id the student gives.

    None when this copy of the grader cannot check it (a student release ships neither the
    hidden check nor the reference it needs) or the rubric does not name the test.
    """
    from grader.assignments import get_assignment
    from grader.checks.registry import hidden_checks_available, rubric_for

    assignment = get_assignment(assignment)
    name = personal_test()
    if (PERSONAL_STEM not in exercises or name is None
            or not hidden_checks_available(PERSONAL_STEM, assignment)):
        return None
    if name not in rubric_for(PERSONAL_STEM, assignment=assignment).tests:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    for exercise in exercises:
        text = (assignment.rubric_dir / f"{exercise}.toml").read_text("utf-8")
        if exercise == PERSONAL_STEM:
            text = "\n".join(line.replace('visibility = "hidden"', 'visibility = "visible"')
                             if line.startswith(f'"{name}"') else line for line in text.splitlines())
        (folder / f"{exercise}.toml").write_text(text + "\n", "utf-8")
    return folder


def run_self_check(path: Path, *, student_id: Optional[str] = None, exercises: Iterable[str] = (),
                   timeout: Optional[float] = None, assignment=None, echo: Callable[[str], None] = print) -> bool:
    """Grade `path` with the public checks of `assignment` (default: Module 2A) and print the
    outcome. True when everything passed.

    With `student_id`, exercise 2's hand answers are also checked against that student's
    personal case, by the grader's own check (hidden at grading, when it costs points).
    """
    import dataclasses
    import tempfile

    from grader.assignments import get_assignment
    from grader.errors import BadSubmissionError
    from grader.grade_path import NotOneSubmission, grade_path
    from grader.pipeline import GradingOptions
    from grader.worker.sandbox import SandboxUnavailableError, choose_sandbox

    assignment = get_assignment(assignment)
    chosen = tuple(exercises) or assignment.stems
    unknown = [e for e in chosen if e not in assignment.stems]
    if unknown:
        held = [e for e in unknown if e in assignment.withheld]
        if held:
            echo(f"{', '.join(held)} cannot be checked with this copy of the grader (it leaves out what those "
                 "checks need); your instructor checks it when grading. Choose from: "
                 f"{', '.join(assignment.stems)}.")
        else:
            echo(f"Unknown exercise(s): {', '.join(unknown)}. Choose from: {', '.join(assignment.stems)}.")
        return False
    options = GradingOptions(hidden=False, timeout=timeout, exercises=chosen, assignment=assignment)
    given_id = student_id.strip() if student_id else ""
    with tempfile.TemporaryDirectory(prefix="bpg-selfcheck-") as scratch:
        rubric_dir = personal_rubric_dir(Path(scratch), chosen, assignment) if given_id else None
        if rubric_dir is not None:
            options = dataclasses.replace(options, rubric_dir=rubric_dir)
        try:
            result = grade_path(Path(path), options=options, student_id=given_id or None)
        except NotOneSubmission as exc:
            echo(where_to_run(path, [s.name or s.student for s in exc.found], assignment.stems))
            return False
        except BadSubmissionError:  # the instructor's wording speaks of a class; say where to run it
            echo(where_to_run(path, stems=assignment.stems))
            return False
    everything_ok = True
    personal_name = personal_test() if rubric_dir is not None else None
    for ex in result.exercises:
        if ex.source is None:
            if exercises:
                echo(f"{ex.name}: not found (expected {ex.name}.ipynb or {ex.name}.py)")
                everything_ok = False
            continue
        passed = sum(t.status == "passed" for t in ex.tests)
        personal = ", your personal case among them" if any(t.name == personal_name for t in ex.tests) else ""
        echo(f"{ex.name} ({ex.source}): {passed}/{len(ex.tests)} public checks passed{personal}")
        for test in ex.tests:
            if test.status != "passed":
                echo(_line(test))
                everything_ok = False
            elif ex.name == PERSONAL_STEM and test.name == personal_name:
                echo(f"{_line(test)} (your personal case, {result.student})")
        for cell in ex.cell_errors:
            if "line" in cell:  # a module's statement; its message starts with "line N:"
                echo(f"  note: {cell.get('message')}; the rest of the file still ran")
            else:
                echo(f"  note: cell {cell.get('index')} raised {cell.get('message')}; later cells still ran")
    for err in result.errors:
        echo(f"problem ({err.kind}): {err.message}")
        everything_ok = False
    if not any(ex.source for ex in result.exercises):
        if not result.errors:
            echo(where_to_run(path, stems=assignment.stems))
        return False
    if student_id and PERSONAL_STEM in chosen and rubric_dir is None:
        echo("(your personal case is checked when your instructor grades: this copy of the grader "
             "cannot check it, so work it by hand with care)")
    try:
        machine = choose_sandbox(options.sandbox)
    except SandboxUnavailableError:
        machine = "none"
    if result.sandbox != "bwrap" and machine != "bwrap":
        echo("(checked with resource limits only: bubblewrap is not installed)")
    echo("All public checks passed. Hidden checks run when your instructor grades."
         if everything_ok else "Some checks failed: see above.")
    return everything_ok
