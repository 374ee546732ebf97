"""What an assignment (a course profile) is: everything that differs between two of them.

The grader's pipeline is the same for every assignment (submission -> staging -> sandboxed
worker -> checks -> scores -> reports); an `Assignment` says what to look for and how to judge
it: its exercises and the files they come from, where its checks and rubric live, what student
code may not import, the default time and memory budgets, and how its student release is built.
It travels inside `GradingOptions`, so every step reads it from there, in any process.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from grader.defaults import CALL_TIMEOUT_S, EXERCISE_BUDGET_S, LOAD_TIMEOUT_S
from grader.submission.exercises import FlatLayout
from grader.submission.layout import Layout

DEFAULT_MEMORY_MB = 2048  # the worker's address-space limit, unless the assignment or --memory-mb says otherwise


@dataclass(frozen=True)
class Exercise:
    """One graded part: its stem (the file `STEM.ipynb`/`STEM.py`, its checks and its rubric are
    named after it), a title for people, and the names a student must define in it."""

    stem: str
    title: str = ""
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assignment:
    """A course profile. `name` is what `--assignment` takes and what reports record.

    Checks live in the package `checks_package`: public ones in `<checks_package>.<stem>`, hidden
    ones in `<checks_package>.hidden.<stem>` (a student release ships without the latter); the
    rubric of each exercise is `rubric_dir/<stem>.toml`. `release` names the function that builds
    the student release (`"module:function"`, called with the output folder), "" for none.
    `folder`: set for an assignment loaded from a folder outside the grader's package, so another
    process (a batch's pool) can load it again by path. `withheld`: stems this copy of the grader
    cannot check (a student release's, checked when the instructor grades), not among `exercises`.
    """

    name: str
    title: str
    exercises: tuple[Exercise, ...]
    checks_package: str
    rubric_dir: Path
    layout: Layout
    forbidden_modules: tuple[str, ...] = ()
    timeout: float = CALL_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    exercise_budget: float = EXERCISE_BUDGET_S
    load_timeout: float = LOAD_TIMEOUT_S
    gradebook_name: str = ""  # the assignment's name in nbgrader's gradebook and CSV export
    release: str = ""
    folder: Optional[Path] = field(default=None, compare=False)
    withheld: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        stems = [e.stem for e in self.exercises]
        if len(set(stems)) != len(stems):
            raise ValueError(f"assignment {self.name}: an exercise stem appears twice in {stems}")
        if tuple(stems) != tuple(self.layout.stems):
            raise ValueError(f"assignment {self.name}: its layout finds {self.layout.stems}, not its exercises {stems}")

    @property
    def stems(self) -> tuple[str, ...]:
        return tuple(e.stem for e in self.exercises)

    @property
    def nbgrader_name(self) -> str:
        return self.gradebook_name or self.name.replace("-", "_")

    def exercise(self, stem: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.stem == stem:
                return exercise
        raise KeyError(f"{self.name} has no exercise {stem!r}; its exercises are {', '.join(self.stems)}")


def flat_assignment(name: str, title: str, exercises: tuple[Exercise, ...], *, package: str, folder: Path,
                    **settings) -> Assignment:
    """An assignment of side-by-side exercise files whose checks are `<package>.checks` and whose
    rubric is `<folder>/rubric`: what an assignment folder's `__init__.py` writes, e.g.

        ASSIGNMENT = flat_assignment("tiny", "A tiny assignment", (Exercise("ex_sum"),),
                                     package=__name__, folder=Path(__file__).parent)
    """
    return Assignment(name=name, title=title, exercises=exercises, checks_package=f"{package}.checks",
                      rubric_dir=Path(folder) / "rubric", layout=FlatLayout(tuple(e.stem for e in exercises)),
                      **settings)
