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
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Optional

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
        """The rubric as students see it: hidden tests left out."""
        tests = {k: v for k, v in self.tests.items() if v.visibility != "hidden"}
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
    for name, item in (data.get("tests") or {}).items():
        if not isinstance(item, dict) or "points" not in item:
            raise RubricError(f"{source}: test {name!r} needs `{{ points = N, visibility = \"visible\" }}`")
        points = item["points"]
        visibility = item.get("visibility", "visible")
        if not isinstance(points, (int, float)) or isinstance(points, bool) or points < 0:
            raise RubricError(f"{source}: test {name!r}: points must be a number >= 0, got {points!r}")
        if visibility not in VISIBILITIES:
            raise RubricError(f"{source}: test {name!r}: visibility must be one of {VISIBILITIES}, got {visibility!r}")
        tests[name] = RubricItem(float(points), visibility)
    if not tests:
        raise RubricError(f"{source}: the [tests] table is empty")
    return Rubric(exercise, str(data.get("title", exercise)), tests, dict(data.get("settings") or {}))


def load_rubric(exercise: str, directory: Optional[Path] = None) -> Rubric:
    """The rubric for `exercise`, from `directory` if given (an instructor's override) or the package."""
    if directory is not None:
        path = Path(directory) / f"{exercise}.toml"
        return parse_rubric(path.read_text("utf-8"), source=str(path))
    text = resources.files("grader").joinpath("rubric", f"{exercise}.toml").read_text("utf-8")
    return parse_rubric(text, source=f"grader/rubric/{exercise}.toml")
