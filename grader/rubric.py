"""Points and visibility per test, read from `grader/rubric/<exercise>.toml`.

An instructor changes points, visibility or settings (time budget, accuracy target) there without
touching code. A test named in a check but not in the rubric, or the reverse, is an error caught
by the test suite, so no check silently goes unscored.

    exercise = "ex3_mlp_backprop"
    title = "Backpropagation in an L-layer MLP"

    [settings]            # read by the checks as ctx.settings
    rtol = 1e-6

    [tests]
    "backward.gradcheck.sigmoid" = { points = 4, visibility = "hidden" }
    "layer.values" = { points = 2 }
    "layer.keeps_its_input" = { points = 1, requires = ["layer.values"] }

`requires` names tests that must pass before this one earns its points: a property of a
function (shape, range, "does not modify its input") is worth something only once the function
computes the right values. A name is a test of the same exercise, or `"<stem>:<test>"` of
another; `grader.checks.requirements.apply_requirements` applies them to a graded result.
A visible test should require only visible ones, so the self-check and the grading agree.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Mapping, Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

VISIBILITIES = ("visible", "hidden")


class RubricError(ValueError):
    """The rubric file is malformed; the message names the file and the line to fix."""


@dataclass(frozen=True)
class RubricItem:
    points: float
    visibility: str = "visible"
    requires: tuple[str, ...] = ()  # tests that must pass first: "name" or "<stem>:name"


@dataclass(frozen=True)
class Requirement:
    """One entry of a test's `requires`, resolved: the exercise and the test it names."""

    exercise: str
    test: str

    @property
    def label(self) -> str:
        return self.test if not self.exercise else f"{self.exercise}:{self.test}"


def resolve_requirement(name: str, exercise: str) -> Requirement:
    """`"name"` is a test of `exercise`; `"<stem>:name"` a test of exercise `<stem>`."""
    stem, sep, test = name.partition(":")
    return Requirement(stem, test) if sep else Requirement(exercise, name)


@dataclass(frozen=True)
class Rubric:
    exercise: str
    title: str
    tests: dict[str, RubricItem]
    settings: dict = field(default_factory=dict)

    @property
    def max_score(self) -> float:
        return sum(item.points for item in self.tests.values())

    def public(self) -> "Rubric":
        """The rubric as students see it: hidden tests left out (and requirements naming them)."""
        kept = {k for k, v in self.tests.items() if v.visibility != "hidden"}
        tests = {k: replace(v, requires=tuple(r for r in v.requires
                                              if resolve_requirement(r, self.exercise).exercise != self.exercise
                                              or resolve_requirement(r, self.exercise).test in kept))
                 for k, v in self.tests.items() if k in kept}
        return Rubric(self.exercise, self.title, tests, dict(self.settings))


def parse_rubric(text: str, *, source: str) -> Rubric:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{source}: not valid TOML: {exc}") from None
    exercise = data.get("exercise")
    if not isinstance(exercise, str) or not exercise:
        raise RubricError(f"{source}: needs a top-level `exercise = \"<stem>\"`")
    tests: dict[str, RubricItem] = {}
    raw_tests = data.get("tests") or {}
    for name, item in raw_tests.items():
        if not isinstance(item, dict) or "points" not in item:
            raise RubricError(f"{source}: test {name!r} needs `{{ points = N, visibility = \"visible\" }}`")
        points = item["points"]
        visibility = item.get("visibility", "visible")
        if not isinstance(points, (int, float)) or isinstance(points, bool) or points < 0:
            raise RubricError(f"{source}: test {name!r}: points must be a number >= 0, got {points!r}")
        if visibility not in VISIBILITIES:
            raise RubricError(f"{source}: test {name!r}: visibility must be one of {VISIBILITIES}, got {visibility!r}")
        tests[name] = RubricItem(float(points), visibility, _requires(item, name, source))
    if not tests:
        raise RubricError(f"{source}: the [tests] table is empty")
    _check_local_requirements(tests, exercise, source)
    return Rubric(exercise, str(data.get("title", exercise)), tests, dict(data.get("settings") or {}))


def _requires(item: dict, name: str, source: str) -> tuple[str, ...]:
    requires = item.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(r, str) and r.strip() for r in requires):
        raise RubricError(f"{source}: test {name!r}: requires must be a list of test names, got {requires!r}")
    for entry in requires:
        stem, sep, test = entry.partition(":")
        if sep and not (stem and test):
            raise RubricError(f"{source}: test {name!r}: requires {entry!r}: write \"<exercise>:<test>\" or \"<test>\"")
    return tuple(requires)


def _check_local_requirements(tests: dict[str, RubricItem], exercise: str, source: str) -> None:
    """Names of this exercise's own tests must exist; other exercises' are checked by
    `check_requirements` once every rubric is known."""
    for name, item in tests.items():
        for entry in item.requires:
            required = resolve_requirement(entry, exercise)
            if required.exercise == exercise and required.test not in tests:
                raise RubricError(f"{source}: test {name!r} requires {entry!r}, which is not a test of {exercise}")
            if required.exercise == exercise and required.test == name:
                raise RubricError(f"{source}: test {name!r} requires itself")


def check_requirements(rubrics: Mapping[str, Rubric]) -> None:
    """Every `requires` entry names a test of a known rubric, and no test depends on itself
    through others. Raises RubricError naming the first problem."""
    graph: dict[Requirement, list[Requirement]] = {}
    for stem, rubric in rubrics.items():
        for name, item in rubric.tests.items():
            needed = [resolve_requirement(entry, stem) for entry in item.requires]
            for entry, required in zip(item.requires, needed):
                other = rubrics.get(required.exercise)
                if other is None or required.test not in other.tests:
                    raise RubricError(f"grader/rubric/{stem}.toml: test {name!r} requires {entry!r}, "
                                      "which no rubric defines")
            graph[Requirement(stem, name)] = needed
    done: set[Requirement] = set()
    for start in graph:  # depth-first, with an explicit stack: a cycle would gate its tests forever
        path, stack = {start}, [(start, iter(graph[start]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.discard(node)
                done.add(node)
            elif child in path:
                raise RubricError(f"grader/rubric/{node.exercise}.toml: test {node.test!r} requires "
                                  f"{child.label!r}, which requires it in turn")
            elif child not in done:
                path.add(child)
                stack.append((child, iter(graph.get(child, []))))


def load_rubric(exercise: str, directory: Optional[Path] = None) -> Rubric:
    """The rubric for `exercise`, from `directory` if given (an instructor's override) or the package."""
    if directory is not None:
        path = Path(directory) / f"{exercise}.toml"
        return parse_rubric(path.read_text("utf-8"), source=str(path))
    text = resources.files("grader").joinpath("rubric", f"{exercise}.toml").read_text("utf-8")
    return parse_rubric(text, source=f"grader/rubric/{exercise}.toml")
