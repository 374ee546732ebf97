"""Hidden checks for exercise 3 (instructor only): random cases compared with the reference.

Inputs come from ctx.rng, so every grading run sees new numbers. Shapes are non-square
(B, n_0, ..., n_L all different), depths 1 to 3, batch 1 and B >= 3; ReLU cases keep every
hidden pre-activation away from the kink. Feedback says which function, tensor and layer is
wrong and which formula to compare with; it never shows inputs or expected values.

Diagnosis compares the student's answers with variants of the reference, one per known mistake
(`grader.diagnosis.variants`), after the cheaper layout and scale evidence.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional

import numpy as np

from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.compare import compare_arrays
from grader.checks.lib.answers import register, with_mistake
from grader.checks.lib.directional import gradcheck_case
from grader.checks.lib.mlp_calls import student_forward, student_forwards, students_gradients
from grader.checks.lib.mlp_cases import (
    HIDDEN_ACTIVATIONS, OUTPUT_LOSS_PAIRS, STEM, MLPCase, flat_params, random_case, random_params, random_targets,
    wire_params,
)
from grader.checks.lib.mlp_gradients import grads_against, shape_problem, variant_mistake
from grader.diagnosis import variants
from reference import mlp


def reference_grads(case: MLPCase) -> list[np.ndarray]:
    _, cache = mlp.forward(case.params, case.X, hidden=case.hidden, output=case.output)
    return flat_params(mlp.backward(case.params, cache, case.Y, loss=case.loss))


def reference_loss(Y_hat: np.ndarray, Y: np.ndarray, loss: str) -> float:
    """The reference's mean loss; nan when Y_hat is not valid input for it (e.g. outside [0, 1])."""
    try:
        return mlp.loss_value(Y_hat, Y, loss)
    except ValueError:
        return math.nan


def safe_case(rng: np.random.Generator, depth: int, hidden: str, output: str, loss: str,
              batch_one: bool = False, margin: float = 1e-4,
              draw: Optional[Callable[[], MLPCase]] = None) -> MLPCase:
    """A random case whose ReLU pre-activations all lie at least `margin` from the kink at 0."""
    draw = draw or (lambda: random_case(rng, depth, hidden, output, loss, batch_one))
    while True:
        case = draw()
        if case.hidden != "relu" or case.depth == 1:
            return case
        _, cache = mlp.forward(case.params, case.X, hidden=case.hidden, output=case.output)
        if min(float(np.min(np.abs(Z))) for Z in cache.pre_activations[:-1]) > margin:
            return case


def all_cases(rng: np.random.Generator, hidden: str, margin: float) -> list[MLPCase]:
    """Every output/loss pair at depths 1, 2, 3, each with batch B >= 3 and batch 1."""
    return [safe_case(rng, depth, hidden, output, loss, batch_one, margin)
            for output, loss in OUTPUT_LOSS_PAIRS for depth in (1, 2, 3) for batch_one in (False, True)]


# forward

def forward_mistake(Y_hat: np.ndarray, case: MLPCase, rtol: float) -> Optional[str]:
    """The slip a wrong Y_hat shows: an activation applied twice, or softmax over the wrong axis."""
    right, _ = mlp.forward(case.params, case.X, hidden=case.hidden, output=case.output)
    mistaken = variants.mlp_forward_variants(case.params, case.X, case.hidden, case.output)
    return variants.matching_variant(Y_hat, mistaken, rtol, right=right)


def register_forward_reference(hidden: str) -> None:
    @register(STEM, f"forward.reference.{hidden}", needs=("forward",),
              hint=f"Z_l = A_{{l-1}} @ W_l + b_l; hidden layers use {hidden}, the last layer `output`.")
    def forward_reference(ctx: CheckContext) -> Verdict:
        cases = all_cases(ctx.rng, hidden, 0.0)
        for case, (Y_hat, _) in zip(cases, student_forwards(ctx, cases)):
            expected, _ = mlp.forward(case.params, case.X, hidden=case.hidden, output=case.output)
            verdict = compare_arrays(Y_hat, expected, what=f"forward's Y_hat ({case.label()})",
                                     rtol=ctx.settings.get("rtol", 1e-6))
            if not verdict.passed:
                code = forward_mistake(Y_hat, case, ctx.settings.get("diagnosis_rtol", 1e-4))
                return with_mistake(f"{verdict.feedback} Compare with Z_l = A_{{l-1}} @ W_l + b_l, "
                                    f"A_l = act(Z_l), {case.output} on the last layer.", code, STEM)
        return ok()


for _hidden in HIDDEN_ACTIVATIONS:
    register_forward_reference(_hidden)


def large_logit_case(rng: np.random.Generator, hidden: str, output: str, loss: str, layer: int,
                     size: float) -> MLPCase:
    """A two-layer case whose pre-activations at `layer` (0 or 1) reach |z| = `size`."""
    case = random_case(rng, 2, hidden, output, loss)
    _, cache = mlp.forward(case.params, case.X, hidden=hidden, output=output)
    scale = size / float(np.max(np.abs(cache.pre_activations[layer])))
    params = [(W * scale, b * scale) if i == layer else (W, b) for i, (W, b) in enumerate(case.params)]
    return MLPCase(params, case.X, case.Y, hidden, output, loss)


@register(STEM, "forward.stability", needs=("forward",),
          hint="Keep softmax and sigmoid finite for |z| up to 1000: softmax(z) = softmax(z - max(z)) per row.")
def forward_stability(ctx: CheckContext) -> Verdict:
    rng = ctx.rng
    size = ctx.settings.get("large_logit", 1000.0)
    cases = [("tanh", "softmax", "cce", 1), ("relu", "softmax", "cce", 1), ("tanh", "sigmoid", "bce", 1),
             ("sigmoid", "softmax", "cce", 0), ("tanh", "identity", "mse", 0)]
    for hidden, output, loss, layer in cases:
        case = large_logit_case(rng, hidden, output, loss, layer, size)
        Y_hat, _ = student_forward(ctx, case)
        expected, _ = mlp.forward(case.params, case.X, hidden=hidden, output=output)
        where = "output logits" if layer == 1 else "hidden pre-activations"
        if not np.all(np.isfinite(Y_hat)):
            unstable = output == "softmax" and layer == 1
            act = output if layer == 1 else hidden
            # An axis slip can give nan too (0/0 where a column underflows): the variant explains it first.
            code = forward_mistake(Y_hat, case, ctx.settings.get("diagnosis_rtol", 1e-4)) or \
                ("softmax_unstable" if unstable else None)
            return with_mistake(f"forward's Y_hat holds inf or nan when the {where} reach |z| ~ {size:g} "
                                f"({case.label()}): {act} must stay finite there.", code, STEM)
        verdict = compare_arrays(Y_hat, expected, what=f"forward's Y_hat with {where} up to |z| ~ {size:g} "
                                                       f"({case.label()})", rtol=ctx.settings.get("rtol", 1e-6))
        if not verdict.passed:
            return verdict
    return ok()


def is_handle(value: Any) -> bool:
    return isinstance(value, dict) and "__handle__" in value


def changed_argument(sent: Any, after: Any, path: str) -> Optional[str]:
    """The path of the first part of an argument that differs after the call, or None.

    An object that stayed in the worker (a handle) cannot be inspected, so it counts as unchanged.
    """
    if is_handle(sent) and is_handle(after):
        return None
    if isinstance(sent, np.ndarray) or isinstance(after, np.ndarray):
        a, b = np.asarray(sent), np.asarray(after)
        same = a.shape == b.shape and (a.dtype.kind not in "biufc" or np.array_equal(a, b, equal_nan=True))
        return None if same else path
    if isinstance(sent, (list, tuple)):
        if not isinstance(after, (list, tuple)) or len(after) != len(sent):
            return path
        for i, (x, y) in enumerate(zip(sent, after)):
            found = changed_argument(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    if isinstance(sent, dict):
        if not isinstance(after, dict) or set(after) != set(sent):
            return path
        for key in sent:
            found = changed_argument(sent[key], after[key], f"{path}[{key!r}]")
            if found:
                return found
        return None
    return None if sent == after else path


@register(STEM, "forward.no_mutation", needs=("forward",),
          hint="forward must not change params or X: compute new arrays (Z = A @ W + b), never A += ... on an input.")
def forward_no_mutation(ctx: CheckContext) -> Verdict:
    rng = ctx.rng
    for hidden in HIDDEN_ACTIVATIONS:
        output, loss = OUTPUT_LOSS_PAIRS[int(rng.integers(len(OUTPUT_LOSS_PAIRS)))]
        case = random_case(rng, 2, hidden, output, loss)
        sent = [wire_params(case.params), case.X.copy()]
        _, after = ctx.call_with_args("forward", *sent, hidden=hidden, output=output)
        for name, before, now in zip(("params", "X"), sent, after):
            changed = changed_argument(before, now, name)
            if changed:
                return fail(f"forward changed its argument {changed} in place ({case.label()}). "
                            "Functions must not modify their inputs.", "mutates_input")
    return ok()


# backward

def register_backward_reference(hidden: str) -> None:
    @register(STEM, f"backward.reference.{hidden}", needs=("forward", "backward"),
              hint=f"delta_l = (delta_{{l+1}} @ W_{{l+1}}.T) * {hidden}'(Z_l); gradients of the mean loss.")
    def backward_reference(ctx: CheckContext) -> Verdict:
        cases = all_cases(ctx.rng, hidden, ctx.settings.get("kink_margin", 1e-4))
        for case, answer in zip(cases, students_gradients(ctx, cases)):
            verdict = backward_against_reference(ctx, case, answer)
            if not verdict.passed:
                return verdict
        return ok()


def backward_against_reference(ctx: CheckContext, case: MLPCase, answer: tuple) -> Verdict:
    """`answer` is the student's (Y_hat, gradients) for `case` (see `students_gradients`)."""
    Y_hat, tensors = answer
    verdict = grads_against(tensors, reference_grads(case), case, ctx.settings, f"backward, {case.label()}")
    if verdict.passed or verdict.diagnosis is not None:
        return verdict
    expected, _ = mlp.forward(case.params, case.X, hidden=case.hidden, output=case.output)
    if not np.allclose(Y_hat, expected, rtol=1e-6, atol=1e-9):
        return fail(f"{verdict.feedback} Your forward's Y_hat is already wrong for this case; fix forward first.")
    if shape_problem(tensors, case.params) is None:
        code = variant_mistake(tensors, case, ctx.settings.get("diagnosis_rtol", 1e-4))
        if code is not None:
            return with_mistake(verdict.feedback, code, STEM)
    return verdict


for _hidden in HIDDEN_ACTIVATIONS:
    register_backward_reference(_hidden)


@register(STEM, "backward.gradcheck.random", needs=("forward", "backward"),
          hint="backward must give the slope of the mean loss of your forward, for every activation and loss.")
def backward_gradcheck_random(ctx: CheckContext) -> Verdict:
    """Directional checks against the student's own forward, loss by the reference, depths 1-3, batch 1 and B."""
    rng = ctx.rng
    margin = ctx.settings.get("kink_margin", 1e-4)
    for number, hidden in enumerate(HIDDEN_ACTIVATIONS):
        for offset, (output, loss) in enumerate(OUTPUT_LOSS_PAIRS):
            depth, batch_one = 1 + (number + offset) % 3, (number + offset) % 2 == 1
            case = safe_case(rng, depth, hidden, output, loss, batch_one, margin)
            verdict = gradcheck_case(ctx, case, reference_loss, rng, reveal=False)
            if not verdict.passed:
                return verdict
    return ok()


@register(STEM, "backward.gradcheck.large", needs=("forward", "backward"), timeout=30.0,
          hint="A 784-256-10 network must work too: vectorise over the batch, no Python loops over units.")
def backward_gradcheck_large(ctx: CheckContext) -> Verdict:
    """MNIST-sized 784-256-10, ReLU hidden, softmax + cce: a directional check of each tensor."""
    rng = ctx.rng
    sizes = list(ctx.settings.get("large_sizes", (784, 256, 10)))
    batch = int(ctx.settings.get("large_batch", 16))

    def draw() -> MLPCase:
        return MLPCase(random_params(rng, sizes), rng.standard_normal((batch, sizes[0])),
                       random_targets(rng, "cce", batch, sizes[-1]), "relu", "softmax", "cce")

    case = safe_case(rng, 2, "relu", "softmax", "cce", margin=ctx.settings.get("kink_margin", 1e-4), draw=draw)
    return gradcheck_case(ctx, case, reference_loss, rng, reveal=False)


@register(STEM, "backward.no_mutation", needs=("forward", "backward"),
          hint="backward must not change params, cache or Y: e.g. delta = Y_hat - Y, never Y_hat -= Y.")
def backward_no_mutation(ctx: CheckContext) -> Verdict:
    rng = ctx.rng
    for hidden in HIDDEN_ACTIVATIONS:
        for output, loss in OUTPUT_LOSS_PAIRS:
            case = random_case(rng, 2, hidden, output, loss)
            _, cache = student_forward(ctx, case)
            sent = [wire_params(case.params), cache, case.Y.copy()]
            _, after = ctx.call_with_args("backward", *sent, loss=loss)
            for name, before, now in zip(("params", "cache", "Y"), sent, after):
                changed = changed_argument(before, now, name)
                if changed:
                    return fail(f"backward changed its argument {changed} in place ({case.label()}). "
                                "Functions must not modify their inputs (a changed cache breaks a second "
                                "backward on the same forward).", "mutates_input")
    return ok()

