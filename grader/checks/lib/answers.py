"""How a check fails on an answer it cannot use: raise `AnswerError`, and `register` turns it
into the check's verdict.

Helpers that read the student's answers (`answer_array`, the readers of each exercise's
contract) raise `AnswerError` with the failing Verdict instead of returning it beside a value,
so a check reads answers as if they were right and every failure reaches the report one way.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable, Optional

import numpy as np

from grader.checks.base import CheckContext, Verdict, check, fail
from grader.checks.compare import describe, to_array
from grader.diagnosis.text import mistake_text


class AnswerError(Exception):
    """An answer a check cannot use (wrong type, shape, not finite); carries the failing Verdict."""

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.feedback)
        self.verdict = verdict


def register(stem: str, name: str, *, needs: tuple[str, ...], hint: str,
             timeout: Optional[float] = None) -> Callable:
    """Register a check; an AnswerError raised inside it becomes the check's Verdict."""

    def decorate(fn: Callable[[CheckContext], Verdict]) -> Callable[[CheckContext], Verdict]:
        @functools.wraps(fn)
        def run(ctx: CheckContext) -> Verdict:
            try:
                return fn(ctx)
            except AnswerError as exc:
                return exc.verdict

        check(stem, name, needs=needs, hint=hint, timeout=timeout)(run)
        return run

    return decorate


def verdict_of(run: Callable[[], Verdict]) -> Verdict:
    """`run()`'s verdict, an AnswerError raised inside it included (for a check that weighs
    several attempts instead of stopping at the first failure)."""
    try:
        return run()
    except AnswerError as exc:
        return exc.verdict


def answer_array(value: Any, what: str, shape: Optional[tuple[int, ...]] = None,
                 finite: bool = True) -> np.ndarray:
    """The answer as a float64 array of `shape`; raises AnswerError saying what is wrong with it."""
    arr = to_array(value)
    if arr is None:
        raise AnswerError(fail(f"{what} should be a numpy array, but it is {describe(value)}."))
    if shape is not None and arr.shape != tuple(shape):
        raise AnswerError(fail(f"{what} has shape {arr.shape}; it should have shape {tuple(shape)}."))
    if finite and not np.all(np.isfinite(arr)):
        raise AnswerError(fail(f"{what} contains inf or nan."))
    return arr


def answer_scalar(value: Any, what: str, finite: bool = True) -> float:
    """The answer as one float (a Python float or a 0-d/1-element array); raises AnswerError otherwise."""
    arr = to_array(value)
    if arr is None or arr.size != 1:
        shape = f" of shape {arr.shape}" if arr is not None else ""
        raise AnswerError(fail(f"{what} should be a single number, but it is {describe(value)}{shape}."))
    number = float(arr.reshape(()))
    if finite and not math.isfinite(number):
        raise AnswerError(fail(f"{what} is {number!r}; it should be a finite number."))
    return number


def with_mistake(feedback: str, code: Optional[str], exercise: str) -> Verdict:
    """A failed verdict diagnosed `code` (None: no diagnosis), with the mistake's sentence for `exercise`."""
    return fail(f"{feedback} {mistake_text(code, exercise)}" if code else feedback, code)
