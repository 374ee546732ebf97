"""A student's optimizer recorded for k updates and judged by `optimizer_diagnosis.explain`.

Every rule: a network 784 - 7 - 5 - 10 is built with `optimizer=<rule>`, the rubric's learning
rate and weight decay (non-zero: at 0 the weight-decay mistakes are invisible) and the course's
momentum, beta, beta1, beta2, epsilon, and loaded with known weights (non-zero biases, so decay
applied to them shows from the first update). For k >= 3 fixed batches the grader calls
forward, backward and update_weights, recording get_weights() after each update and the
gradients backward returned; `explain` replays every accepted form of the rule and every named
mistake on that record, teacher-forced on the student's own weights and gradients, so a wrong
backward never costs optimizer points.

Gradients come from the student's backward in the call under which it is right at the start
(`backward_probes`: the contract's, or with softmax(logits), or arguments swapped): an interface
slip of backward costs gradient points only. A network in single precision is judged with
`tolerance_float32` instead of `tolerance`: its updates are right only to float32 rounding.

NAG. The grader's loop calls backward at the network's own weights and then update_weights,
so a NAG that takes its gradient at those weights is exact in the Bengio form (see
`optimizers.py`) and is judged on that record. A look-ahead NAG moves the weights to
w - lr beta u before its forward pass, which only the student's own training loop does (the
solution's `train` calls a `look_ahead` hook): when the loop's record is not NAG, the grader
trains through the public API instead, `train(X_k, y_k, 1, B)` on each batch (one epoch of one
full batch: exactly one update), records get_weights() after each, and judges it with a
`grad_fn`, the student's own backward on a fresh network at any point, so that the look-ahead
form (gradient at the look-ahead point) and the Bengio form both count. When train cannot be
called, the loop's verdict stands and the feedback says why.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from grader.assignments.da6401_a1.checks.lib.backward_probes import call_backward, right_under
from grader.assignments.da6401_a1.checks.lib.calls import (
    build, forward, load, network_for, read_gradients, student_params,
)
from grader.assignments.da6401_a1.checks.lib.cases import Case, draw_batches, draw_parameters, flat, network_options
from grader.assignments.da6401_a1.checks.lib.gradient_evidence import wrong_tensors
from grader.assignments.da6401_a1.checks.lib.verdicts import mistaken
from grader.assignments.da6401_a1.optimizer_diagnosis import (
    Explanation, StepGradientFunction, Trajectory, explain, make_trajectory,
)
from grader.assignments.da6401_a1.optimizers import HyperParams
from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.lib.answers import AnswerError
from grader.errors import StudentCodeError

Batch = tuple[np.ndarray, np.ndarray]  # X (B, 784), integer labels (B,)


@dataclass(frozen=True)
class Setup:
    """One optimizer run: the rule, its hyper-parameters, the network, its start and the batches."""

    rule: str
    hp: HyperParams
    sizes: tuple[int, ...]
    activation: str
    loss: str
    start: tuple[np.ndarray, ...]  # flat [W0, b0, ...], reference orientation
    batches: tuple[Batch, ...]

    @property
    def batch(self) -> int:
        return int(self.batches[0][0].shape[0])

    def options(self) -> dict:
        hp = self.hp
        return network_options(self.sizes, self.activation, self.loss, optimizer=self.rule, batch_size=self.batch,
                               learning_rate=hp.learning_rate, weight_decay=hp.weight_decay,
                               extra={"momentum": hp.momentum, "beta": hp.rmsprop_beta, "beta1": hp.beta1,
                                      "beta2": hp.beta2, "epsilon": hp.epsilon})

    def case(self, k: int, params: Optional[Sequence[np.ndarray]] = None) -> Case:
        """Update k's batch as a gradient case, at `params` (default: the start)."""
        params = list(self.start if params is None else params)
        X, labels = self.batches[k]
        return Case(self.sizes, self.activation, self.loss, tuple(params[0::2]), tuple(params[1::2]), X, labels)

    def label(self) -> str:
        hp = self.hp
        return (f"optimizer={self.rule}, learning_rate={hp.learning_rate:g}, weight_decay={hp.weight_decay:g}, "
                f"{len(self.batches)} updates of a {'-'.join(str(n) for n in self.sizes)} network")


def draw_setup(rng: np.random.Generator, rule: str, hp: HyperParams, sizes: Sequence[int], *, updates: int,
               batch: int, active_inputs: int = 16, activation: str = "tanh", loss: str = "cross_entropy") -> Setup:
    """Weights (W0's active rows scaled to them) and `updates` batches using `active_inputs` inputs."""
    active = tuple(sorted(int(i) for i in rng.choice(int(sizes[0]), active_inputs, replace=False)))
    weights, biases = draw_parameters(rng, sizes, active)
    batches = draw_batches(rng, updates, batch, int(sizes[0]), int(sizes[-1]), active)
    return Setup(rule, hp, tuple(int(n) for n in sizes), activation, loss, tuple(flat(weights, biases)),
                 tuple(batches))


def hyper_parameters(settings: dict, **changes: float) -> HyperParams:
    """The rubric's hyper-parameters (the course's defaults where it says nothing)."""
    return HyperParams(learning_rate=float(changes.get("learning_rate", settings.get("learning_rate", 0.1))),
                       weight_decay=float(changes.get("weight_decay", settings.get("weight_decay", 0.05))),
                       momentum=float(settings.get("momentum", 0.9)), rmsprop_beta=float(settings.get("beta", 0.9)),
                       beta1=float(settings.get("beta1", 0.9)), beta2=float(settings.get("beta2", 0.999)),
                       epsilon=float(settings.get("epsilon", 1e-8)))


def convention_for(ctx: CheckContext, setup: Setup, stem: str,
                   tol: float) -> tuple[str, Optional[list[np.ndarray]]]:
    """How to call backward so that it is right at the start ("contract" when no call is), and the
    gradient it then gives there on a network without weight decay (None when that call raises)."""
    case = setup.case(0)
    net = network_for(ctx, case, stem)  # weight_decay 0: the loss gradient alone
    logits = forward(ctx, net, case.X)
    right = case.reference_gradients()
    chosen = next((convention for convention in ("contract", "probabilities", "swapped")
                   if right_under(ctx, net, case, logits, convention, right, tol)), "contract")
    try:
        return chosen, read_gradients(call_backward(ctx, net, case, logits, chosen), net.layout).tensors
    except (StudentCodeError, AnswerError):
        return chosen, None


def without_backward_decay(record: Trajectory, plain: Optional[list[np.ndarray]], hp: HyperParams,
                           tol: float) -> tuple[Trajectory, str]:
    """The record with weight_decay * W taken out of the recorded weight gradients, when backward
    put it there (its first gradient is the loss gradient plus the L2 term), and a note saying so."""
    if plain is None or record.grads is None or hp.weight_decay == 0:
        return record, ""
    first, start = record.grads[0], record.start

    def decayed(grads: Sequence[np.ndarray], at: Sequence[np.ndarray], sign: float) -> list[np.ndarray]:
        return [g if bias else g + sign * hp.weight_decay * w for g, w, bias in zip(grads, at, record.is_bias)]

    if not wrong_tensors(first, plain, tol) or wrong_tensors(first, decayed(plain, start, 1.0), tol):
        return record, ""
    grads = [decayed(g, record.points[k], -1.0) for k, g in enumerate(record.grads)]
    note = (" backward's gradients include weight_decay * W, which belongs to the optimizer (the spec's backward "
            "returns the loss's gradient); the updates were judged on the gradients without it.")
    return make_trajectory(record.start, record.after, record.is_bias, grads, record.layers, record.names), note


def is_bias(depth: int) -> tuple[bool, ...]:
    return tuple(index % 2 == 1 for index in range(2 * depth))


def record_updates(ctx: CheckContext, setup: Setup, convention: str, stem: str) -> tuple[Trajectory, bool]:
    """forward, backward and update_weights on each batch: the weights after each update and the
    gradients backward returned before it; and whether any of it was single precision."""
    net = build(ctx, setup.options(), stem)
    load(ctx, net, setup.start)
    start, single = student_params(ctx, net, stem)
    after, grads = [], []
    for k, (X, _) in enumerate(setup.batches):
        logits = forward(ctx, net, X)
        answer = read_gradients(call_backward(ctx, net, setup.case(k), logits, convention), net.layout)
        ctx.method(net.handle, "update_weights")
        weights, single_now = student_params(ctx, net, stem)
        grads.append(answer.tensors)
        after.append(weights)
        single = single or single_now or logits.single or answer.single
    return make_trajectory(start, after, is_bias(net.layout.depth), grads), single


def record_training(ctx: CheckContext, setup: Setup, stem: str) -> tuple[Trajectory, bool]:
    """train(X_k, y_k, 1, B) on each batch, one update each: the weights after each call."""
    net = build(ctx, setup.options(), stem)
    load(ctx, net, setup.start)
    start, single = student_params(ctx, net, stem)
    after = []
    for X, labels in setup.batches:
        ctx.method(net.handle, "train", X, labels, 1, setup.batch)
        weights, single_now = student_params(ctx, net, stem)
        after.append(weights)
        single = single or single_now
    return make_trajectory(start, after, is_bias(net.layout.depth)), single


def student_gradient(ctx: CheckContext, setup: Setup, convention: str, stem: str) -> StepGradientFunction:
    """grad_fn(k, params): the student's backward on update k's batch at `params`, on a fresh network."""

    def grad_fn(k: int, params: Sequence[np.ndarray]) -> list[np.ndarray]:
        case = setup.case(k, params)
        net = network_for(ctx, case, stem)
        logits = forward(ctx, net, case.X)
        return read_gradients(call_backward(ctx, net, case, logits, convention), net.layout).tensors

    return grad_fn


def judged(explanation: Explanation, setup: Setup, stem: str, note: str = "", *, passing: str = "") -> Verdict:
    """The explanation as a verdict: passed (with the note `passing`) when the rule explains the
    record, else the mistake it shows, with `note` after the explanation."""
    if explanation.matches:
        return ok(passing.strip())
    feedback = f"{setup.label()}: {explanation.detail}{note}"
    return mistaken(feedback, explanation.diagnosis, stem) if explanation.diagnosis else fail(feedback)


def rule_verdict(ctx: CheckContext, setup: Setup, stem: str, settings: dict) -> Verdict:
    """The student's `setup.rule` recorded and judged; NAG also through train when the loop's record is not NAG."""
    tol = float(settings.get("diagnosis_rtol", 1e-4))
    convention, plain = convention_for(ctx, setup, stem, tol)
    record, single = record_updates(ctx, setup, convention, stem)
    record, note = without_backward_decay(record, plain, setup.hp, tol)
    tolerance = float(settings.get("tolerance_float32" if single else "tolerance", 1e-6))
    explanation = explain(setup.rule, record, setup.hp, tolerance=tolerance)
    if setup.rule != "nag" or explanation.matches:
        return judged(explanation, setup, stem, note, passing=note)
    try:
        trained, single_trained = record_training(ctx, setup, stem)
    except StudentCodeError as exc:
        if exc.status != "error":
            raise
        return judged(explanation, setup, stem, f" train(X, y, 1, batch_size) raised {exc.message}, so a "
                                                "look-ahead NAG (gradient at w - lr beta u) could not be checked.")
    if single_trained and not single:
        tolerance = float(settings.get("tolerance_float32", 1e-4))
    through_train = explain("nag", trained, setup.hp, grad_fn=student_gradient(ctx, setup, convention, stem),
                            tolerance=tolerance)
    return judged(through_train, setup, stem, " (recorded through train(X, y, 1, batch_size), one update per call)")
