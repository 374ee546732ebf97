"""Verdicts of `da6401-a1`'s checks: a named mistake's, and several cases scored as one test.

`mistaken` is a failure with the mistake's sentence for the part (and partial credit when the
rubric gives one). Several cases make one test: the credit is the mean of the cases' credits;
the feedback is the first failure's (the first with a diagnosis, if any), with how many cases
failed. A case whose student code raised counts as failed with the error's message; when every
case raised, the first error is raised again, so the test's status is "error".
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence, TypeVar

from grader.checks.base import Verdict, fail, ok
from grader.checks.lib.answers import verdict_of
from grader.diagnosis.text import mistake_text
from grader.errors import StudentCodeError

T = TypeVar("T")


def mistaken(feedback: str, code: Optional[str], stem: str, credit: Optional[float] = None) -> Verdict:
    """A failed verdict with the mistake's sentence appended (partial `credit` when given)."""
    return fail(f"{feedback} {mistake_text(code, stem)}" if code else feedback, code, credit)


def combine(verdicts: Sequence[Verdict]) -> Verdict:
    """One verdict for several: passed when all passed, else the first (diagnosed) failure, mean credit."""
    failed = [v for v in verdicts if not v.passed]
    if not failed:
        return ok()
    first = next((v for v in failed if v.diagnosis), failed[0])
    credit = sum(v.credit for v in verdicts) / len(verdicts)
    count = f" ({len(failed)} of {len(verdicts)} cases wrong.)" if len(verdicts) > 1 else ""
    return fail(first.feedback + count, first.diagnosis, credit)


def case_verdicts(run: Callable[[T], Verdict], cases: Sequence[T], label: Callable[[T], str]) -> Verdict:
    """`run(case)` for every case (AnswerErrors become verdicts), scored together by `combine`."""
    verdicts: list[Verdict] = []
    errors: list[StudentCodeError] = []
    for case in cases:
        try:
            verdicts.append(verdict_of(lambda: run(case)))
        except StudentCodeError as exc:
            if exc.status != "error":
                raise  # a timeout, a crash, a blocked call: the whole test stops
            errors.append(exc)
            verdicts.append(fail(f"On {label(case)}, your code raised {exc.message}"))
    if errors and len(errors) == len(verdicts):
        raise errors[0]
    return combine(verdicts)
