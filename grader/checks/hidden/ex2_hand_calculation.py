"""Hidden checks for exercise 2: random cases against the reference, purity, and the hand answers.

`HAND_ANSWERS` is judged against the personal case recomputed from the student id the grader
runs under (`grader.personal_case`), never from anything the submission says. A key is right
when it is within 5e-4 of the exact chain or of the chain rounded to 3 decimals at each step;
a backward-pass key also counts when it follows, rounded the same way, from the student's own
h and y_hat (an error carried forward costs only the key where it was made).
Feedback names the keys and their formulas, never the expected numbers.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.lib.answers import register
from grader.checks.lib.hand_answers import hand_answers, hand_written_verdict
from grader.checks.lib.hand_chain import (
    KEYS, STEM, answer_dict, chain_diagnosis, judge_chain, key_value, lecture_chains, wrong_keys,
)
from grader.checks.lib.mutation import changed_arguments
from grader.diagnosis.text import mistake_text
from grader.personal_case import personal_case
from reference import hand_network as ref

PERSONAL_TEST = "HAND_ANSWERS.personal_case"  # `grade check --student ID` may run it (see selfcheck.py)


def random_case(rng: np.random.Generator, y: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """x (2,) in [-1, 1], V (2, 2) and w (2,) with mixed signs, label y."""
    return rng.uniform(-1.0, 1.0, size=2), rng.normal(0.0, 0.8, size=(2, 2)), rng.normal(0.0, 1.2, size=2), y


@register(STEM, "forward_backward_221.random", needs=("forward_backward_221",),
          hint="Compute every value from the arguments; check both labels, y = 0 and y = 1.")
def random_cases(ctx: CheckContext) -> Verdict:
    s = ctx.settings
    rng = ctx.rng
    count = int(s["random_cases"])
    right, first_failure = 0, None
    for y in [k % 2 for k in range(count)]:
        case = random_case(rng, y)
        answers = answer_dict(ctx.call("forward_backward_221", *case), "forward_backward_221(x, V, w, y)")
        exact = ref.forward_backward_221(*case)
        wrong = wrong_keys(answers, [(exact, s["rtol"], s["atol"])])
        right += len(KEYS) - len(wrong)
        if wrong and first_failure is None:
            first_failure = (answers, exact, wrong, case)
    if first_failure is None:
        return ok()
    answers, exact, wrong, (x, _, w, y) = first_failure
    diagnosis = chain_diagnosis(answers, [exact], lecture_chains(ctx), s, x=x, w=w)
    reasons = "; ".join(f"{key} {reason}" for key, reason in wrong.items())
    feedback = (f"forward_backward_221 on {count} random cases: {right} of {count * len(KEYS)} values right. "
                f"In a failing case with y = {y}: {reasons}.")
    if diagnosis:
        feedback += f" {mistake_text(diagnosis, STEM)}"
    return fail(feedback, diagnosis=diagnosis, fraction=right / (count * len(KEYS)))


@register(STEM, "forward_backward_221.no_mutation", needs=("forward_backward_221",),
          hint="Never change x, V or w in place: work on copies.")
def no_mutation(ctx: CheckContext) -> Verdict:
    x, V, w, y = random_case(ctx.rng, 1)
    _, after = ctx.call_with_args("forward_backward_221", x, V, w, y)
    changed = [name for name, i in (("x", 0), ("V", 1), ("w", 2)) if i in changed_arguments((x, V, w), after[:3])]
    if not changed:
        return ok()
    return fail(f"forward_backward_221 changed {', '.join(changed)} in place. {mistake_text('mutates_input', STEM)}",
                diagnosis="mutates_input")


def carried_forward(answers: Mapping[str, Any], x: np.ndarray, w: np.ndarray, y: int) -> dict | None:
    """The backward pass worked by hand from the student's own h and y_hat (errors carried forward)."""
    h, y_hat = key_value(answers, "h"), key_value(answers, "y_hat")
    if h is None or y_hat is None or not np.all(np.isfinite(h)) or not 0.0 < float(y_hat) < 1.0:
        return None
    return ref.backward_221_rounded(x, w, h, float(y_hat), y)


@register(STEM, PERSONAL_TEST, needs=("HAND_ANSWERS",),
          hint="Work the chain for your own case (`grade case YOUR_ID`), to 3 decimals, step by step.")
def personal(ctx: CheckContext) -> Verdict:
    if not ctx.student_id.strip():
        return fail("HAND_ANSWERS can only be checked against a personal case, and this run has no student id.")
    x, V, w, y = personal_case(ctx.student_id)
    answers = answer_dict(hand_answers(ctx), "HAND_ANSWERS")
    not_written = hand_written_verdict(ctx, answers)
    if not_written is not None:  # numbers computed by code are not worked by hand
        return not_written
    atol = ctx.settings["hand_atol"]
    exact, rounded = ref.forward_backward_221(x, V, w, y), ref.forward_backward_221_rounded(x, V, w, y)
    chains = [(exact, 0.0, atol), (rounded, 0.0, atol)]
    carried = carried_forward(answers, x, w, y) if ctx.settings["carry_forward"] else None
    if carried is not None:
        chains.append((carried, 0.0, atol))
    if not wrong_keys(answers, chains):
        return ok()
    is_lecture_case = all(np.array_equal(a, b) for a, b in zip((x, V, w), ref.LECTURE_CASE[:3])) and \
        y == ref.LECTURE_CASE.y
    lecture = None if is_lecture_case else lecture_chains(ctx)
    diagnosis = chain_diagnosis(answers, [exact, rounded], lecture, ctx.settings, atol=atol, x=x, w=w)
    return judge_chain(answers, chains, f"HAND_ANSWERS for the personal case of {ctx.student_id.strip()}", diagnosis)
