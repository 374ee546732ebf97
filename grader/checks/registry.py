"""Which checks exist for an exercise: import the exercise's check modules and read the rubric.

Public checks live in `grader/checks/<stem>.py`, hidden ones in `grader/checks/hidden/<stem>.py`.
The student release ships without the hidden modules, so asking for them there is an error
that says so, never a silent pass.
"""
from __future__ import annotations

import functools
import importlib
from importlib import resources
from pathlib import Path
from typing import Optional

from grader.checks.base import REGISTRY, Check
from grader.rubric import Rubric, parse_rubric


class HiddenChecksUnavailable(RuntimeError):
    """Hidden checks were asked for where only the public ones are installed (a student release)."""


def hidden_checks_available(exercise: str) -> bool:
    try:
        importlib.import_module(f"grader.checks.hidden.{exercise}")
    except ModuleNotFoundError:
        return False
    return True


def checks_for(exercise: str, *, hidden: bool, rubric: Optional[Rubric] = None,
               rubric_dir: Optional[Path] = None) -> tuple[Rubric, list[Check]]:
    """The rubric and the checks to run for `exercise`, in the rubric's order.

    With `hidden=False` only tests the rubric marks visible are returned.
    """
    importlib.import_module(f"grader.checks.{exercise}")
    if hidden:
        try:
            importlib.import_module(f"grader.checks.hidden.{exercise}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("grader.checks.hidden"):
                raise HiddenChecksUnavailable(
                    f"hidden checks for {exercise} are not installed: this is a student copy; "
                    "use `grade check` here, or grade from the instructor's repository") from None
            raise
    rubric = rubric or rubric_for(exercise, rubric_dir)
    registered = REGISTRY.get(exercise, {})
    chosen = []
    for name, item in rubric.tests.items():
        if item.visibility == "hidden" and not hidden:
            continue
        if name not in registered:
            raise LookupError(f"the rubric for {exercise} names test {name!r}, but no check has that name")
        chosen.append(registered[name])
    return rubric, chosen


def rubric_for(exercise: str, rubric_dir: Optional[Path] = None) -> Rubric:
    """`grader.rubric.load_rubric`, parsed once per process for each text of the file.

    A batch asks for every exercise's rubric once per student; the file is still read each time,
    so an edited rubric takes effect at once. The Rubric is shared: treat it as read-only.
    """
    if rubric_dir is not None:
        path = Path(rubric_dir) / f"{exercise}.toml"
        return _parsed_rubric(path.read_text("utf-8"), str(path))
    text = resources.files("grader").joinpath("rubric", f"{exercise}.toml").read_text("utf-8")
    return _parsed_rubric(text, f"grader/rubric/{exercise}.toml")


@functools.lru_cache(maxsize=32)
def _parsed_rubric(text: str, source: str) -> Rubric:
    return parse_rubric(text, source=source)


def group_of(test_name: str) -> str:
    """The contract name a test belongs to: the first dotted part ('backward.gradcheck' -> 'backward')."""
    return test_name.split(".", 1)[0]
