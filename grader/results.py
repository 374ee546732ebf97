"""Plain result dataclasses: what grading produces and every reporter reads.

Scores are derived from the tests, never stored twice, so a report cannot disagree with itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

Status = Literal["passed", "failed", "error", "timeout", "missing", "blocked"]
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "timeout", "missing", "blocked")

ErrorKind = Literal["bad_submission", "syntax", "timeout", "memory", "crash", "blocked"]
ERROR_KINDS: tuple[str, ...] = ("bad_submission", "syntax", "timeout", "memory", "crash", "blocked")

Visibility = Literal["visible", "hidden"]


@dataclass(frozen=True)
class TestResult:
    """One rubric line: a named check of one exercise, with the points it earned."""

    __test__ = False  # not a pytest class

    name: str
    score: float
    max_score: float
    status: Status
    visibility: Visibility = "visible"
    feedback: str = ""
    diagnosis: Optional[str] = None
    hint: str = ""


@dataclass(frozen=True)
class GradingError:
    """Something that went wrong around the student's code, for the report's `errors` list."""

    kind: ErrorKind
    message: str
    exercise: Optional[str] = None


@dataclass
class ExerciseResult:
    name: str
    source: Optional[str]  # file name in the submission, None when the exercise is absent
    tests: list[TestResult] = field(default_factory=list)
    # notebook cells that raised while loading: {"cell": index, "message": "..."}; later cells still ran
    cell_errors: list[dict] = field(default_factory=list)

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 6)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 6)


@dataclass
class SubmissionResult:
    student: str
    path: str
    sha256: str
    exercises: list[ExerciseResult] = field(default_factory=list)
    errors: list[GradingError] = field(default_factory=list)
    seed: int = 0
    sandbox: str = "none"
    duration_s: float = 0.0
    grader_version: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 6)

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises), 6)
