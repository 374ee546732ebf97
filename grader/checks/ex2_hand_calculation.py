"""Public checks for exercise 2: the lecture's 2-2-1 network by formula, and the hand answers' form.

The network: z = x @ V (z_j = sum_i v_ij x_i), h = sigmoid(z), z_out = w . h, y_hat = sigmoid(z_out),
L = BCE(y_hat, y), delta_out = y_hat - y, grad_w = delta_out h,
delta_hidden_j = delta_out w_j h_j (1 - h_j), grad_V[i, j] = delta_j x_i.

An answer key is right when it matches the exact chain, or (on the lecture's case and for hand
answers) the chain rounded to 3 decimals at every step; on the lecture's case the slides' own
numbers count too. The checks of `HAND_ANSWERS` against the student's personal case are hidden:
they need the reference. Reading and judging answer dicts is `grader.checks.lib.hand_chain`,
reading `HAND_ANSWERS` as written `grader.checks.lib.hand_answers`; both serve the hidden checks too.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.compare import describe, relative_error
from grader.checks.fixtures import fixture_builder
from grader.checks.lib.answers import answer_array, answer_scalar, register
from grader.checks.lib.central_differences import degenerate_slope
from grader.checks.lib.hand_answers import hand_answers, hand_written_verdict
from grader.checks.lib.hand_answers import written_answers  # noqa: F401 - read here by its tests
from grader.checks.lib.hand_chain import (
    FORMULA, KEYS, SHAPES, STEM, answer_dict, chain_diagnosis, judge_chain, key_value, lecture_chains, wrong_keys,
)
from grader.diagnosis.layout import transposed_code
from grader.diagnosis.scale import SIGN, log2_factors, match_scale
from grader.diagnosis.text import mistake_text


# ---------------------------------------------------------------- public data

@fixture_builder(STEM, "lecture")
def build_lecture() -> dict:
    """The lecture's case, its exact chain, the chain rounded to 3 decimals, and the slides' numbers."""
    from reference import hand_network as ref

    x, V, w, y = ref.LECTURE_CASE
    return {"case": {"x": np.array(x), "V": np.array(V), "w": np.array(w), "y": int(y)},
            "exact": ref.forward_backward_221(x, V, w, y),
            "rounded": ref.forward_backward_221_rounded(x, V, w, y),
            "printed": dict(ref.LECTURE_PRINTED)}


@fixture_builder(STEM, "other", draws=True)
def build_other(rng: np.random.Generator | None = None) -> dict:
    """A second case, label 0 and mixed signs, with its exact chain.

    Without `rng`: the published case; with it (grading): a case of the same kind drawn from it.
    """
    from reference import hand_network as ref

    if rng is None:
        x, V, w, y = np.array([0.2, 0.9]), np.array([[0.3, -0.6], [-0.4, 0.8]]), np.array([-1.2, 0.7]), 0
    else:  # each of V's columns and w hold one positive and one negative entry, as published
        x = rng.uniform(0.1, 1.0, size=2)
        V = rng.uniform(0.2, 1.0, size=(2, 2)) * np.array([[1.0, -1.0], [-1.0, 1.0]])
        w = rng.uniform(0.3, 1.5, size=2) * rng.permutation([1.0, -1.0])
        y = 0
    return {"case": {"x": x, "V": V, "w": w, "y": y}, "exact": ref.forward_backward_221(x, V, w, y)}


# ---------------------------------------------------------------- forward_backward_221

def case_arguments(case: Mapping[str, Any]) -> tuple:
    return case["x"], case["V"], case["w"], int(case["y"])


@register(STEM, "forward_backward_221.lecture_case", needs=("forward_backward_221",),
          hint="On the lecture's case: z = 0.75, h = 0.679, z_out = 1.358, y_hat = 0.796, ..., "
               "grad_V = (-0.022, -0.022; -0.044, -0.044).")
def lecture_case(ctx: CheckContext) -> Verdict:
    data = ctx.fixture("lecture")
    answers = answer_dict(ctx.call("forward_backward_221", *case_arguments(data["case"])),
                          "forward_backward_221(x, V, w, y)")
    s = ctx.settings
    chains = [(data["exact"], s["rtol"], s["atol"])] + lecture_chains(ctx)[1:]
    case = data["case"]
    diagnosis = chain_diagnosis(answers, [data["exact"]], None, s, x=case["x"], w=case["w"]) \
        if wrong_keys(answers, chains) else None
    return judge_chain(answers, chains, "forward_backward_221 on the lecture's case", diagnosis)


@register(STEM, "forward_backward_221.other_case", needs=("forward_backward_221",),
          hint="Compute every value from the arguments x, V, w and y; the label may be 0.")
def other_case(ctx: CheckContext) -> Verdict:
    data = ctx.fixture("other")
    answers = answer_dict(ctx.call("forward_backward_221", *case_arguments(data["case"])),
                          "forward_backward_221(x, V, w, y)")
    s = ctx.settings
    chains = [(data["exact"], s["rtol"], s["atol"])]
    diagnosis = None
    if wrong_keys(answers, chains):
        diagnosis = chain_diagnosis(answers, [data["exact"]], lecture_chains(ctx), s,
                                    x=data["case"]["x"], w=data["case"]["w"])
    return judge_chain(answers, chains, "forward_backward_221 on a case with y = 0", diagnosis)


def loss_of(answer: Any) -> float:
    """The 'loss' entry of one forward_backward_221 answer (an outcome of `ctx.call_all`)."""
    answers = answer_dict(answer.get(), "forward_backward_221(x, V, w, y)")
    return answer_scalar(answers.get("loss"), "the 'loss' entry")


def numerical_gradients(ctx: CheckContext, x: np.ndarray, V: np.ndarray, w: np.ndarray,
                        y: int) -> tuple[np.ndarray, np.ndarray]:
    """dL/dw and dL/dV by central differences of the student's own loss (the 12 calls sent together)."""
    h = ctx.settings["fd_step"]
    nudges = [(x, V, w + sign * h * np.eye(2)[j], y) for j in range(2) for sign in (1.0, -1.0)]
    nudges += [(x, V + sign * h * np.eye(4)[2 * i + j].reshape(2, 2), w, y)
               for i, j in np.ndindex(2, 2) for sign in (1.0, -1.0)]
    losses = iter(ctx.call_all([("forward_backward_221", args, {}) for args in nudges]))
    grad_w, grad_V = np.empty(2), np.empty((2, 2))
    for j in range(2):
        grad_w[j] = (loss_of(next(losses)) - loss_of(next(losses))) / (2.0 * h)
    for i, j in np.ndindex(2, 2):
        grad_V[i, j] = (loss_of(next(losses)) - loss_of(next(losses))) / (2.0 * h)
    return grad_w, grad_V


def gradient_verdict(got: np.ndarray, numerical: np.ndarray, key: str, tol: float, dtol: float,
                     reference: np.ndarray | None = None, degenerate: float = 1e-3) -> Verdict:
    """grad_w or grad_V against central differences of the student's own loss.

    A ratio -1 is sign_flipped; ln 2 or 1/ln 2 is log_base_2 (the loss uses log2, its gradient
    the natural log, or the reverse); grad_V transposed is transposed. `reference`: the true
    gradient on the same case; a loss that does not move where the true one does confirms nothing.
    """
    if reference is not None:
        reason = degenerate_slope(numerical, reference, degenerate)
        if reason is not None:
            return fail(f"Central differences of your own loss {reason}, so they cannot confirm {key}: "
                        "make forward_backward_221 compute the loss from its arguments first.")
    err = relative_error(got, numerical)
    if err <= tol:
        return ok()
    feedback = (f"{key} disagrees with central differences of your own loss: norm-relative error {err:.2e}. "
                f"Compare with {FORMULA[key]}.")
    match = match_scale(got, numerical, [SIGN, *log2_factors()], dtol)
    code = match.code if match else transposed_code(got, numerical, dtol)
    return fail(f"{feedback} {mistake_text(code, STEM)}" if code else feedback, diagnosis=code)


@register(STEM, "forward_backward_221.gradcheck", needs=("forward_backward_221",),
          hint="grad_w and grad_V must be the slopes of your own loss: nudge one weight and watch the loss.")
def gradcheck(ctx: CheckContext) -> Verdict:
    s = ctx.settings
    for fixture in ("lecture", "other"):
        data = ctx.fixture(fixture)
        x, V, w, y = case_arguments(data["case"])
        answers = answer_dict(ctx.call("forward_backward_221", x, V, w, y), "forward_backward_221(x, V, w, y)")
        got_w = answer_array(answers.get("grad_w"), "the 'grad_w' entry", shape=(2,))
        got_V = answer_array(answers.get("grad_V"), "the 'grad_V' entry", shape=(2, 2))
        num_w, num_V = numerical_gradients(ctx, x, V, w, y)
        for got, numerical, key in ((got_w, num_w, "grad_w"), (got_V, num_V, "grad_V")):
            verdict = gradient_verdict(got, numerical, key, s["fd_tol"], s["diagnosis_tol"],
                                       reference=data["exact"][key], degenerate=s.get("fd_degenerate", 1e-3))
            if not verdict.passed:
                return verdict
    return ok()


# ---------------------------------------------------------------- HAND_ANSWERS

@register(STEM, "HAND_ANSWERS.complete", needs=("HAND_ANSWERS",),
          hint="HAND_ANSWERS needs all nine keys, each a number or a list of numbers of the right shape.")
def hand_answers_complete(ctx: CheckContext) -> Verdict:
    answers = answer_dict(hand_answers(ctx), "HAND_ANSWERS")
    problems = []
    for key in KEYS:
        got = key_value(answers, key) if key in answers else None
        if key not in answers:
            problems.append(f"{key} is missing")
        elif got is None:
            shape = "a number" if SHAPES[key] == () else f"{SHAPES[key][0]} numbers" if len(SHAPES[key]) == 1 \
                else "a 2 x 2 list of numbers"
            problems.append(f"{key} should be {shape}, but it is {describe(answers[key])}")
        elif not np.all(np.isfinite(got)):
            problems.append(f"{key} is not a finite number")
    if problems:
        return fail("HAND_ANSWERS is incomplete: " + "; ".join(problems) + ".",
                    fraction=(len(KEYS) - len(problems)) / len(KEYS))
    not_written = hand_written_verdict(ctx, answers)
    if not_written is not None:
        return not_written
    broken = inconsistent_sigmoids(answers, 2.0 * ctx.settings["hand_atol"])
    if broken:
        return fail(f"HAND_ANSWERS is not worked through: {'; '.join(broken)}. "
                    "Work each value from the ones before it.")
    return ok()


def inconsistent_sigmoids(answers: Mapping[str, Any], atol: float) -> list[str]:
    """The steps h = sigma(z) and y_hat = sigma(z_out) that the answers break.

    They hold for any case, so a complete answer sheet of placeholders (zeros) is told apart
    from one worked by hand without the personal case. `atol` allows for rounding at each step
    (sigma' <= 1/4, so a rounded input moves the output by less than the rounding itself).
    """
    def sigmoid(t: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + np.tanh(0.5 * t))

    broken = []
    for out, inp in (("h", "z"), ("y_hat", "z_out")):
        got, want = key_value(answers, out), sigmoid(key_value(answers, inp))
        if not np.allclose(got, want, rtol=0.0, atol=atol):
            broken.append(f"{out} is not sigma({inp})")
    return broken
