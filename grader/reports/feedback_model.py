"""What a student's feedback page says, before it is written as Markdown or HTML.

Both renderers draw from these views, so the Markdown and the HTML file always say the same
thing and apply the same rule for hidden tests (see `redaction.py`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from grader.reports.redaction import TestView, view_test
from grader.reports.wording import error_words
from grader.results import ExerciseResult, SubmissionResult


@dataclass(frozen=True)
class ExerciseView:
    name: str
    source: Optional[str]  # None: the exercise was not in the submission
    score: float
    max_score: float
    checks: int
    passed: int
    problems: list[TestView] = field(default_factory=list)  # not passed, shown in full
    passed_names: list[str] = field(default_factory=list)  # passed and shown by name
    hidden: list[TestView] = field(default_factory=list)  # redacted: name and points only
    notes: list[str] = field(default_factory=list)  # cell errors and grading problems of this exercise
    unreadable: list[str] = field(default_factory=list)  # handed in, but the file could not be read: why

    @property
    def absence(self) -> str:
        """Why an ungraded exercise was not graded, in two words; "" when it was graded."""
        if self.source is not None:
            return ""
        return "cannot be read" if self.unreadable else "not found"

    @property
    def hidden_passed(self) -> int:
        return sum(v.passed for v in self.hidden)

    @property
    def hidden_score(self) -> float:
        return round(sum(v.score for v in self.hidden), 6)

    @property
    def hidden_max(self) -> float:
        return round(sum(v.max_score for v in self.hidden), 6)


@dataclass(frozen=True)
class FeedbackView:
    student: str
    score: float
    max_score: float
    exercises: list[ExerciseView]
    problems: list[str]  # grading problems that concern the whole submission
    warnings: list[str]
    grader_version: str
    show_hidden: bool

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0


def cell_note(cell: dict) -> str:
    """One of an exercise's `cell_errors` in words: a notebook cell, or a module's statement
    (which has a "line" and a message that starts with "line N:")."""
    message = cell.get("message", "an error")
    if "line" in cell:
        return f"{message} while loading; the rest of the file still ran."
    index = cell.get("index", cell.get("cell"))
    return f"Cell {index} raised {message} while loading; the cells after it still ran."


def exercise_view(exercise: ExerciseResult, result: SubmissionResult, *, show_hidden: bool) -> ExerciseView:
    views = [view_test(t, show_hidden=show_hidden, exercise=exercise.name) for t in exercise.tests]
    notes = [f"{error_words(e.kind).capitalize()}: {e.message}" for e in result.errors if e.exercise == exercise.name]
    notes += [cell_note(c) for c in exercise.cell_errors]
    # A file that is there but cannot be read (not JSON, not a notebook) is no missing file.
    unreadable = [e.message for e in result.errors
                  if e.exercise == exercise.name and e.kind == "bad_submission"] if exercise.source is None else []
    return ExerciseView(
        name=exercise.name, source=exercise.source, score=exercise.score, max_score=exercise.max_score,
        checks=len(views), passed=sum(v.passed for v in views),
        problems=[v for v in views if not v.redacted and not v.passed],
        passed_names=[v.name for v in views if not v.redacted and v.passed],
        hidden=[v for v in views if v.redacted], notes=notes, unreadable=unreadable)


def feedback_view(result: SubmissionResult, *, show_hidden: bool = False) -> FeedbackView:
    """Everything a feedback page shows for `result`, hidden tests redacted unless `show_hidden`."""
    names = {ex.name for ex in result.exercises}
    return FeedbackView(
        student=result.student, score=result.score, max_score=result.max_score,
        exercises=[exercise_view(ex, result, show_hidden=show_hidden) for ex in result.exercises],
        problems=[f"{error_words(e.kind).capitalize()}: {e.message}" for e in result.errors if e.exercise not in names],
        warnings=list(result.warnings), grader_version=result.grader_version, show_hidden=show_hidden)
