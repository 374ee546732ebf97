"""One gradient case from start to verdict: build, load, forward, backward, judge, explain.

`reference_verdict` compares backward with the reference's gradients; `gradcheck_verdict` with
central differences of the student's own forward (`numerical`). Both explain a failure with
`gradient_evidence` and, when that names nothing, by calling backward another way
(`backward_probes`).
"""
from __future__ import annotations

from typing import Sequence, Union

import numpy as np

from grader.assignments.da6401_a1.checks.lib.backward_probes import call_backward, interface_slip
from grader.assignments.da6401_a1.checks.lib.calls import (
    Gradients, Logits, Network, forward, network_for, read_gradients,
)
from grader.assignments.da6401_a1.checks.lib.cases import Case
from grader.assignments.da6401_a1.checks.lib.forward_evidence import forward_problem
from grader.assignments.da6401_a1.checks.lib.gradient_evidence import judge_gradients
from grader.assignments.da6401_a1.checks.lib.numerical import flat_slopes, numerical_gradients
from grader.assignments.da6401_a1.checks.lib.verdicts import mistaken
from grader.checks.base import CheckContext, Verdict, fail
from grader.checks.lib.answers import AnswerError
from grader.errors import StudentCodeError

Answer = Union[Gradients, StudentCodeError, AnswerError]  # backward's gradients, or why there are none


def backward_answer(ctx: CheckContext, net: Network, case: Case, logits: Logits) -> Answer:
    """backward(y_true, logits) read as Gradients; the error instead when it raised or cannot be read."""
    try:
        return read_gradients(call_backward(ctx, net, case, logits, "contract"), net.layout)
    except StudentCodeError as exc:
        if exc.status != "error":
            raise  # a timeout, a crash, a blocked call: nothing to explain by calling again
        return exc
    except AnswerError as exc:
        return exc


def explained(ctx: CheckContext, net: Network, case: Case, logits: Logits, answer: Answer,
              right: Sequence[np.ndarray], settings: dict, *, stem: str, what: str, rtol: float,
              refresh: bool = False) -> Verdict:
    """The verdict on `answer` against `right`; failures named by evidence, else by calling backward
    another way (after a fresh forward when `refresh`: something ran since the first one)."""
    if isinstance(answer, Gradients):
        verdict = judge_gradients(answer, right, case, settings, what=what, stem=stem, rtol=rtol,
                                  single=logits.single or net.layout.single,
                                  forward_wrong=forward_problem(logits.values, case, settings))
        if verdict.passed or verdict.diagnosis:
            return verdict
    if refresh:
        logits = forward(ctx, net, case.X)
    slip = interface_slip(ctx, net, case, logits, right, settings)
    if isinstance(answer, StudentCodeError):
        if slip is None:
            raise answer
        return mistaken(f"{what}: backward(y_true, y_pred) raised {answer.message}; {slip[1]}.", slip[0], stem)
    if isinstance(answer, AnswerError):
        if slip is None:
            raise answer
        return mistaken(f"{answer.verdict.feedback} {slip[1].capitalize()}.", slip[0], stem)
    return mistaken(f"{verdict.feedback} {slip[1].capitalize()}.", slip[0], stem) if slip else verdict


def reference_verdict(ctx: CheckContext, case: Case, stem: str, settings: dict) -> Verdict:
    """backward on a fresh network loaded with the case's weights, against the reference's gradients."""
    net = network_for(ctx, case, stem)
    logits = forward(ctx, net, case.X)
    answer = backward_answer(ctx, net, case, logits)
    return explained(ctx, net, case, logits, answer, case.reference_gradients(), settings, stem=stem,
                     what=f"backward on {case.label()}", rtol=float(settings.get("rtol", 1e-7)))


def gradcheck_verdict(ctx: CheckContext, case: Case, stem: str, settings: dict) -> Verdict:
    """backward against central differences of the student's own forward (the reference's loss on its logits)."""
    net = network_for(ctx, case, stem)
    logits = forward(ctx, net, case.X)
    answer = backward_answer(ctx, net, case, logits)  # before the differences: backward reads the last forward
    numeric = numerical_gradients(ctx, net, case, settings)
    if flat_slopes(numeric, float(settings.get("gradcheck_min_slope", 1e-8))):
        return fail(f"The {case.loss} of your forward's logits does not change when single weights move "
                    f"({case.label()}), so backward cannot be checked against it: forward must compute the "
                    "logits from the weights set_weights loaded.")
    return explained(ctx, net, case, logits, answer, numeric, settings, stem=stem,
                     what=f"backward against central differences of your own forward ({case.label()})",
                     rtol=float(settings.get("gradcheck_rtol", 1e-7)), refresh=True)
