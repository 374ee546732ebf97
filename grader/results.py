"""Plain result dataclasses: what grading produces and every reporter reads.

Scores are derived from the tests, never stored twice, so a report cannot disagree with itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Literal, Optional, TypeVar

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
    # "sandbox": memory, processes and CPU limited for all the worker's processes together (a cgroup);
    # "process": rlimits per process only (the host gives no usable cgroups)
    limits: str = "sandbox"
    duration_s: float = 0.0
    grader_version: str = ""
    warnings: list[str] = field(default_factory=list)
    student_name: str = ""  # the folder, zip or file name as submitted, when `student` had to differ
    assignment: str = "module-2a"  # the assignment (course profile) it was graded as

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 6)

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises), 6)


# ---------------------------------------------------------------- caps on what a report holds

# A submission decides how many statements fail, files it holds and how long its messages are;
# a report stays readable (and its JSON and HTML small) whatever it decides.
MAX_ENTRIES = 50  # cell_errors of one exercise, errors, warnings
MAX_TEXT = 2_000  # characters of one feedback, hint, message or warning

_NOTE_ROOM = 48
T = TypeVar("T")


def capped_text(text: str, limit: int = MAX_TEXT) -> str:
    """`text`, cut to `limit` characters with a note of how many were left out."""
    if len(text) <= limit + _NOTE_ROOM:  # the room keeps a text cut once from being cut again
        return text
    return f"{text[:limit]} ... (and {len(text) - limit} more characters)"


def capped_list(items: list[T], more: Callable[[int], T], limit: int = MAX_ENTRIES) -> list[T]:
    """The first `limit` of `items`, then `more(N)` standing for the N left out."""
    if len(items) <= limit + 1:  # a capped list (limit + its "more" entry) stays as it is
        return list(items)
    return [*items[:limit], more(len(items) - limit)]


def _capped_cell(cell: dict) -> dict:
    return {k: capped_text(v) if isinstance(v, str) else v for k, v in cell.items()}


def _more_cells(count: int) -> dict:
    return {"line": None, "message": f"and {count} more cells or statements that raised"}


def _capped_test(test: TestResult) -> TestResult:
    feedback, hint = capped_text(test.feedback), capped_text(test.hint)
    return test if (feedback, hint) == (test.feedback, test.hint) else replace(test, feedback=feedback, hint=hint)


def capped_result(result: SubmissionResult) -> SubmissionResult:
    """`result` with every list and text of the report bounded, each cut marked "and N more".

    Scores are unchanged (tests are never dropped). Idempotent, so every writer may apply it.
    """
    exercises = [replace(ex, tests=[_capped_test(t) for t in ex.tests],
                         cell_errors=capped_list([_capped_cell(c) for c in ex.cell_errors], _more_cells))
                 for ex in result.exercises]
    errors = [replace(e, message=capped_text(e.message)) for e in result.errors]
    errors = capped_list(errors, lambda n: GradingError(
        errors[MAX_ENTRIES].kind, f"and {n} more problems like the ones above"))
    warnings = capped_list([capped_text(w) for w in result.warnings], lambda n: f"and {n} more notes")
    return replace(result, exercises=exercises, errors=errors, warnings=warnings)
