"""Which checks exist for an exercise: import the exercise's check modules and read the rubric.

Each assignment names its checks package (`Assignment.checks_package`; Module 2A's is
`grader.checks`): public checks live in `<package>.<stem>`, hidden ones in
`<package>.hidden.<stem>`, the rubric in `Assignment.rubric_dir/<stem>.toml`. The student
release ships without the hidden modules, so asking for them there is an error that says so,
never a silent pass. Without an assignment, Module 2A's are meant.
"""
from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Optional

from grader.assignments import Assignment, ensure_loaded, get_assignment
from grader.checks.base import REGISTRY, Check
from grader.rubric import Rubric, parse_rubric


class HiddenChecksUnavailable(RuntimeError):
    """Hidden checks were asked for where only the public ones are installed (a student release)."""


def hidden_checks_available(exercise: str, assignment: Optional[Assignment] = None) -> bool:
    package = _checks_package(assignment)
    try:
        importlib.import_module(f"{package}.hidden.{exercise}")
    except ModuleNotFoundError:
        return False
    return True


def _checks_package(assignment: Optional[Assignment]) -> str:
    assignment = get_assignment(assignment)
    ensure_loaded(assignment)
    return assignment.checks_package


def checks_for(exercise: str, *, hidden: bool, rubric: Optional[Rubric] = None,
               rubric_dir: Optional[Path] = None,
               assignment: Optional[Assignment] = None) -> tuple[Rubric, list[Check]]:
    """The rubric and the checks to run for `exercise` of `assignment`, in the rubric's order.

    With `hidden=False` only tests the rubric marks visible are returned.
    """
    package = _checks_package(assignment)
    importlib.import_module(f"{package}.{exercise}")
    if hidden:
        try:
            importlib.import_module(f"{package}.hidden.{exercise}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(f"{package}.hidden"):
                raise HiddenChecksUnavailable(
                    f"hidden checks for {exercise} are not installed: this is a student copy; "
                    "use `grade check` here, or grade from the instructor's repository") from None
            raise
    rubric = rubric or rubric_for(exercise, rubric_dir, assignment)
    registered = REGISTRY.get(exercise, {})
    chosen = []
    for name, item in rubric.tests.items():
        if item.visibility == "hidden" and not hidden:
            continue
        if name not in registered:
            raise LookupError(f"the rubric for {exercise} names test {name!r}, but no check has that name")
        chosen.append(registered[name])
    return rubric, chosen


def rubric_for(exercise: str, rubric_dir: Optional[Path] = None, assignment: Optional[Assignment] = None) -> Rubric:
    """`grader.rubric.load_rubric`, parsed once per process for each text of the file.

    `rubric_dir` (a self-check's rubrics) overrides the assignment's. A batch asks for every
    exercise's rubric once per student; the file is still read each time, so an edited rubric
    takes effect at once. The Rubric is shared: treat it as read-only.
    """
    folder = Path(rubric_dir) if rubric_dir is not None else get_assignment(assignment).rubric_dir
    path = folder / f"{exercise}.toml"
    try:
        source = str(path) if rubric_dir is not None else _shown(path)
        return _parsed_rubric(path.read_text("utf-8"), source)
    except FileNotFoundError:
        raise LookupError(f"no rubric for {exercise}: {path.name} is missing from the assignment's rubric folder") from None


def _shown(path: Path) -> str:
    """A rubric's path as messages show it: relative to the grader's source tree when inside it."""
    try:
        return path.relative_to(Path(__file__).resolve().parents[2]).as_posix()
    except ValueError:
        return path.name


@functools.lru_cache(maxsize=32)
def _parsed_rubric(text: str, source: str) -> Rubric:
    return parse_rubric(text, source=source)


def group_of(test_name: str) -> str:
    """The contract name a test belongs to: the first dotted part ('backward.gradcheck' -> 'backward')."""
    return test_name.split(".", 1)[0]
