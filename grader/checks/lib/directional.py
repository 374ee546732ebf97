"""The directional gradient check: the student's backward against the slope of the student's
own forward's loss, along one random unit direction per tensor.

For each tensor, <grad, U> from backward is compared with (L(theta + step U) - L(theta - step U))
/ (2 step), two forward calls, instead of a difference per parameter; a wrong gradient almost
surely disagrees along a random direction. Slopes that are all ~0 prove nothing (a forward that
ignores its parameters agrees with any backward), so they fail. A disagreement is explained when
certain: one known scale factor on every wrong tensor, or a layout slip whose rearranged answer
agrees.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.lib.answers import AnswerError, verdict_of, with_mistake
from grader.checks.lib.mlp_calls import forward_call, read_forward, student_gradients
from grader.checks.lib.mlp_cases import STEM, MLPCase, flat_params, tensor_name, unflatten
from grader.checks.lib.mlp_gradients import layout_candidates, scale_mistake, shape_problem, variant_mistake
from grader.diagnosis.scale import common_code

# (Y_hat, Y, loss name) -> the mean loss: the contract's own, or the reference's in hidden checks.
LossFunction = Callable[[np.ndarray, np.ndarray, str], float]


@dataclass(frozen=True)
class Slope:
    """The loss's slope along one random unit direction in one tensor: from backward and by differences."""

    index: int  # position in the flat list [W_1, b_1, W_2, ...]
    analytic: float
    numeric: float

    def agrees(self, rtol: float, atol: float) -> bool:
        return abs(self.analytic - self.numeric) <= atol + rtol * (abs(self.analytic) + abs(self.numeric))

    @property
    def ratio(self) -> float:
        return self.analytic / self.numeric if self.numeric != 0.0 else math.inf


def directional_slopes(ctx: CheckContext, case: MLPCase, tensors: list[np.ndarray], loss_fn: LossFunction,
                       rng: np.random.Generator, step: float) -> list[Slope]:
    """For each tensor: <grad, U> against (L(theta + step U) - L(theta - step U)) / (2 step), |U| = 1.

    L is `loss_fn` of the student's forward at the perturbed parameters; two forward calls per
    tensor, all sent together (they do not depend on each other). Raises AnswerError when a
    forward answer cannot be used or its loss is not finite.
    """
    base = flat_params(case.params)
    directions = []
    for param in base:
        direction = rng.standard_normal(param.shape)
        directions.append(direction / np.linalg.norm(direction))
    moves = [(index, sign) for index in range(len(base)) for sign in (1.0, -1.0)]
    outcomes = ctx.call_all([
        forward_call(case, unflatten([p + sign * step * directions[index] if i == index else p
                                      for i, p in enumerate(base)]))
        for index, sign in moves])
    slopes = []
    for index, (grad, direction) in enumerate(zip(tensors, directions)):
        losses = []
        for outcome in outcomes[2 * index:2 * index + 2]:
            Y_hat, _ = read_forward(outcome.get(), case)
            losses.append(loss_fn(Y_hat, case.Y, case.loss))
        numeric = (losses[0] - losses[1]) / (2.0 * step)
        if not math.isfinite(numeric):
            raise AnswerError(fail(f"The {case.loss} loss of forward's output is not finite for {case.label()}: "
                                   "forward's Y_hat must be valid input for that loss."))
        slopes.append(Slope(index, float(np.sum(grad * direction)), numeric))
    return slopes


def degenerate(slopes: list[Slope], min_slope: float) -> bool:
    """True when the slopes by differences are all ~0 together (their norm at most `min_slope`).

    A random case of a real network has slopes of order 0.1 along random unit directions; a
    loss that ignores the parameters has none, and any backward would "agree" with it.
    """
    return float(np.linalg.norm([s.numeric for s in slopes])) <= min_slope


def judge_slopes(slopes: list[Slope], case: MLPCase, settings: dict, what: str, *, reveal: bool = True) -> Verdict:
    """Pass when every tensor's slope agrees; otherwise name the tensors and, if certain, the mistake.

    With `reveal=False` (hidden checks) the slopes themselves are left out of the feedback.
    """
    rtol, atol = settings.get("gradcheck_rtol", 1e-5), settings.get("gradcheck_atol", 1e-9)
    if degenerate(slopes, settings.get("gradcheck_min_slope", 1e-6)):
        # Both sides ~0 agree for any backward (a constant forward and a zero stub): no evidence.
        return fail(f"The mean {case.loss} loss of your forward does not change when the parameters move "
                    f"({case.label()}), so there is no slope to check backward against: forward must "
                    "compute the network's output from params and X.")
    wrong = [s for s in slopes if not s.agrees(rtol, atol)]
    if not wrong:
        return ok()
    code = common_code([scale_mistake(s.ratio, batch=case.batch, classes=case.sizes[-1], loss=case.loss,
                                      rtol=settings.get("diagnosis_rtol", 1e-4)) for s in wrong])
    first = wrong[0]
    names = ", ".join(tensor_name(s.index) for s in wrong)
    feedback = (f"{what} disagrees with central differences of your own forward's mean {case.loss} loss "
                f"for {case.label()}: {names}.")
    if reveal:
        feedback += (f" Along a random direction, {tensor_name(first.index)} gives slope {first.analytic:.6g} "
                     f"from backward and {first.numeric:.6g} by differences (ratio {first.ratio:.4g}).")
    return with_mistake(feedback, code, STEM)


def rearranged_agrees(ctx: CheckContext, case: MLPCase, candidate: list[np.ndarray], loss_fn: LossFunction,
                      rng: np.random.Generator, step: float) -> bool:
    """True when a layout candidate's slopes agree with the forward's (an unusable forward: no)."""
    try:
        slopes = directional_slopes(ctx, case, candidate, loss_fn, rng, step)
    except AnswerError:
        return False
    return judge_slopes(slopes, case, ctx.settings, "backward").passed


def gradcheck_case(ctx: CheckContext, case: MLPCase, loss_fn: LossFunction, rng: np.random.Generator,
                   reveal: bool = True) -> Verdict:
    """Forward, backward, then the directional gradient check of every tensor, with layout diagnosis.

    With `reveal=False` (hidden checks) the feedback leaves the slopes out. Raises AnswerError
    when the student's forward or backward answer cannot be used.
    """
    step = ctx.settings.get("gradcheck_step", 1e-5)
    _, tensors = student_gradients(ctx, case)
    shapes = shape_problem(tensors, case.params)
    if shapes is None:
        slopes = directional_slopes(ctx, case, tensors, loss_fn, rng, step)
        verdict = judge_slopes(slopes, case, ctx.settings, "backward", reveal=reveal)
        if verdict.passed or verdict.diagnosis:
            return verdict
        return with_mistake(verdict.feedback, variant_mistake(tensors, case, ctx.settings.get("diagnosis_rtol", 1e-4)),
                            STEM)
    for mistake, candidate in layout_candidates(tensors, case.params).items():
        if rearranged_agrees(ctx, case, candidate, loss_fn, rng, step):
            return with_mistake(f"backward, {case.label()}: {shapes}", mistake, STEM)
    return fail(f"backward, {case.label()}: {shapes}")


def retried(attempts: int, run: Callable[[], Verdict]) -> Verdict:
    """The first passing verdict of up to `attempts` fresh draws, else the first failure.

    A random ReLU case can, rarely, put a pre-activation within the finite-difference step of
    the kink; a correct backward then passes on a fresh draw, a wrong one fails every draw. An
    answer that cannot be used fails its draw like any other failure.
    """
    first = verdict_of(run)
    for _ in range(attempts - 1):
        if first.passed:
            break
        if verdict_of(run).passed:
            return ok()
    return first
