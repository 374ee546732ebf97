"""Each student's own numbers for the 2-2-1 hand calculation (exercise 2).

The case is a pure function of the student id, so the student can print it (`grade case ID`)
and the grader recomputes it from the id it grades under, never from the submission.
Values sit on a 0.1 grid so that the chain can be worked by hand to 3 decimals.
"""
from __future__ import annotations

import hashlib

import numpy as np


def _digits(student_id: str) -> list[int]:
    key = student_id.strip()
    if not key:
        raise ValueError("a personal case needs a non-empty student id")
    digest = hashlib.sha256(("backprop-grader/personal-case/1:" + key).encode("utf-8")).digest()
    return list(digest)


def personal_case(student_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Return `(x, V, w, y)` for `student_id`.

    x: (2,) inputs in 0.1 .. 1.0; V: (2, 2) with V[i, j] = v_ij in +-0.1 .. +-0.9;
    w: (2,) in +-0.5 .. +-1.5 (steps of 0.1); y: 0 or 1.
    """
    d = _digits(student_id)
    x = np.array([(1 + d[0] % 10) / 10, (1 + d[1] % 10) / 10])
    sign = lambda b: 1.0 if b % 2 == 0 else -1.0  # noqa: E731 - a one-line rule
    V = np.array([[sign(d[2]) * (1 + d[3] % 9) / 10, sign(d[4]) * (1 + d[5] % 9) / 10],
                  [sign(d[6]) * (1 + d[7] % 9) / 10, sign(d[8]) * (1 + d[9] % 9) / 10]])
    w = np.array([sign(d[10]) * (5 + d[11] % 11) / 10, sign(d[12]) * (5 + d[13] % 11) / 10])
    y = int(d[14] % 2)
    return x, V, w, y


def format_case(student_id: str) -> str:
    """The case as a student reads it, one quantity per line."""
    x, V, w, y = personal_case(student_id)
    return "\n".join([
        f"Personal case for student {student_id.strip()!r} (exercise 2):",
        f"  x   = ({x[0]:.1f}, {x[1]:.1f})",
        f"  v11 = {V[0, 0]:.1f}   v12 = {V[0, 1]:.1f}",
        f"  v21 = {V[1, 0]:.1f}   v22 = {V[1, 1]:.1f}",
        f"  w   = ({w[0]:.1f}, {w[1]:.1f})",
        f"  y   = {y}",
    ])
