"""Exercise 4's `sigmoid_trace`: the lecture's five steps of L = sigmoid(w x + b), forward then
backward, as ten numbers; reading an answer and judging it against the right one."""
from __future__ import annotations

from typing import Any, Optional

from grader.checks.base import Verdict, fail, ok
from grader.checks.compare import describe, to_scalar
from grader.checks.lib.answers import AnswerError, with_mistake
from grader.checks.lib.scalar_graphs import STEM  # the exercise sigmoid_trace belongs to
from grader.diagnosis.engine_probes import close

TRACE_KEYS: tuple[str, ...] = ("z1", "z2", "z3", "z4", "L", "dL_dz4", "dL_dz3", "dL_dz2", "dL_db", "dL_dw")
TRACE_FORMULAS = {
    "z1": "z1 = w x", "z2": "z2 = z1 + b", "z3": "z3 = -z2", "z4": "z4 = exp(z3)", "L": "L = 1 / (1 + z4)",
    "dL_dz4": "dL/dz4 = -L^2", "dL_dz3": "dL/dz3 = dL/dz4 * z4", "dL_dz2": "dL/dz2 = dL/dz3 * (-1)",
    "dL_db": "dL/db = dL/dz2 * 1", "dL_dw": "dL/dw = dL/dz2 * x",
}
# The lecture's PyTorch snippet uses w = 2, x = 1, b = 0.5; the trace is checked there first.
LECTURE_TRACE_INPUT = (2.0, 1.0, 0.5)


def read_trace(value: Any) -> dict[str, float]:
    """sigmoid_trace's answer as one number per key; raises AnswerError when it is not that."""
    if not isinstance(value, dict):
        raise AnswerError(fail(f"sigmoid_trace should return a dict with keys {', '.join(TRACE_KEYS)}, "
                               f"but it returned {describe(value)}."))
    missing = [k for k in TRACE_KEYS if k not in value]
    if missing:
        raise AnswerError(fail(f"sigmoid_trace's dict lacks the key(s) {', '.join(missing)}."))
    trace = {}
    for key in TRACE_KEYS:
        number = to_scalar(value[key])
        if number is None:
            raise AnswerError(fail(f"sigmoid_trace's {key!r} should be a number, but it is {describe(value[key])}."))
        trace[key] = number
    return trace


def trace_mistake(got: dict[str, float], expected: dict[str, float], wrong: list[str],
                  lecture: Optional[dict[str, float]], rtol: float) -> Optional[str]:
    """hardcoded_answer when the answer is the lecture input's; sign_flipped when every wrong
    gradient is the negative of the right one and every forward value is right."""
    if lecture is not None and all(close(got[k], lecture[k], rtol) for k in TRACE_KEYS):
        return "hardcoded_answer"
    if wrong and all(k.startswith("dL_") and close(-got[k], expected[k], rtol) for k in wrong):
        return "sign_flipped"
    return None


def judge_trace(got: dict[str, float], expected: dict[str, float], lecture: Optional[dict[str, float]],
                rtol: float, where: str, reveal: bool) -> Verdict:
    """Every number against the right trace; with `reveal`, the first wrong one is shown beside the right one."""
    wrong = [k for k in TRACE_KEYS if not close(got[k], expected[k], rtol)]
    if not wrong:
        return ok()
    code = trace_mistake(got, expected, wrong, lecture, rtol)
    first = wrong[0]
    shown = f" (it is {got[first]!r}, the right value is {expected[first]!r})" if reveal else ""
    return with_mistake(f"sigmoid_trace{where}: {', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong"
                        f"{shown}. Compare {first} with {TRACE_FORMULAS[first]}.", code, STEM)
