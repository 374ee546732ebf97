"""Evidence for a diagnosis, read off one answer: each finder gives a mistake's code or None.

`explain` asks finders in turn and puts the first code they give, with its sentence, on a
failed verdict; a finder runs only when the ones before it found nothing.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Optional, Sequence

import numpy as np

from grader.checks.base import Verdict
from grader.checks.compare import to_array
from grader.diagnosis.scale import Factor, match_scale
from grader.diagnosis.text import mistake_text

Finder = Callable[[], Optional[str]]


def scale_code(got: Any, expected: Any, factors: Sequence[Factor], tol: float) -> Optional[str]:
    """The code of the known factor f with got = f * expected (within `tol`), or None."""
    match = match_scale(got, expected, factors, tol)
    return match.code if match else None


def nonfinite_code(got: Any, code: str) -> Optional[str]:
    """`code` when the answer holds inf or nan."""
    arr = to_array(got)
    return code if arr is not None and not np.all(np.isfinite(arr)) else None


def explain(verdict: Verdict, *evidence: Finder, exercise: str) -> Verdict:
    """A failed verdict with the first diagnosis the evidence supports, and its sentence for `exercise`."""
    if verdict.passed:
        return verdict
    for find in evidence:
        code = find()
        if code:
            return replace(verdict, diagnosis=code, feedback=f"{verdict.feedback} {mistake_text(code, exercise)}")
    return verdict
