"""Public checks of `da6401-a1`'s backward: analytic gradients against the reference and against
central differences of the student's own forward.

`backward(y_true, y_pred)` gets forward's logits as y_pred and integer labels (B,) or one-hot
rows (B, C) as y_true, and returns (grad_Ws, grad_bs), index 0 = the OUTPUT layer, the
gradients of the batch-mean loss on p = softmax(logits): cross_entropy the batch mean of
-log p[y], mean_squared_error the mean over all B x C entries of (p - onehot(y))^2. Every tensor
must be within 1e-7 (norm-relative) of the right one. A self-check uses fixed cases; grading
draws them from the grading seed. See `lib/gradient_evidence.py` for the mistakes named.
"""
from __future__ import annotations

import numpy as np

from grader.assignments.da6401_a1.checks.lib.backward_probes import call_backward
from grader.assignments.da6401_a1.checks.lib.calls import forward, layer_grads, load, network_for, read_gradients
from grader.assignments.da6401_a1.checks.lib.cases import ACTIVATIONS, Case, case_rng, draw_case, sizes_of
from grader.assignments.da6401_a1.checks.lib.gradient_evidence import describe_wrong, wrong_tensors
from grader.assignments.da6401_a1.checks.lib.gradient_runs import gradcheck_verdict, reference_verdict
from grader.assignments.da6401_a1.checks.lib.parts import A1_GRADIENTS, NEEDS
from grader.assignments.da6401_a1.checks.lib.verdicts import case_verdicts, mistaken
from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.compare import relative_error, to_array
from grader.checks.lib.answers import register

STEM = A1_GRADIENTS
FIXED_SEED = 64021


def draw(ctx: CheckContext, rng: np.random.Generator, activation: str, loss: str, form: str = "labels", *,
         gradcheck: bool = False) -> Case:
    """One case of a test. A gradient-check case uses only `active_inputs` input columns and keeps
    ReLU pre-activations `kink_margin` from 0."""
    settings = ctx.settings
    return draw_case(rng, sizes_of(settings.get("hidden_sizes", (7, 5)), settings), activation, loss, form,
                     batch=int(settings.get("batch", 6)),
                     active_inputs=int(settings.get("active_inputs", 4)) if gradcheck else 0,
                     kink_margin=float(settings.get("kink_margin", 0.02)) if gradcheck else 0.0)


def cases_rng(ctx: CheckContext, offset: int) -> np.random.Generator:
    """The test's cases, drawn in turn: fixed in a self-check, from the grading seed when grading."""
    return case_rng(ctx, FIXED_SEED + offset)


def against_reference(ctx: CheckContext, cases: list[Case]) -> Verdict:
    return case_verdicts(lambda case: reference_verdict(ctx, case, STEM, ctx.settings), cases, Case.label)


def register_loss(loss: str) -> None:
    """backward.<loss>: integer labels, one case per activation."""

    @register(STEM, f"backward.{loss}", needs=NEEDS,
              hint="dL/dz = (p - Y) / B for cross_entropy; for mean_squared_error G = 2 (p - Y) / (B C) back "
                   "through the softmax; then delta_l = (delta_{l+1} @ W_{l+1}.T) * act'(Z_l), dW = A.T @ delta, "
                   "db = delta.sum(axis=0); grad_Ws[0] is the output layer's.")
    def check(ctx: CheckContext) -> Verdict:
        rng = cases_rng(ctx, 0)
        return against_reference(ctx, [draw(ctx, rng, activation, loss) for activation in ACTIVATIONS])


for _loss in ("cross_entropy", "mean_squared_error"):
    register_loss(_loss)


@register(STEM, "backward.one_hot", needs=NEEDS,
          hint="y_true may be integer labels (B,) or one-hot rows (B, C): accept both.")
def backward_one_hot(ctx: CheckContext) -> Verdict:
    rng = cases_rng(ctx, 1)
    return against_reference(ctx, [draw(ctx, rng, "tanh", "cross_entropy", "one_hot"),
                                   draw(ctx, rng, "sigmoid", "mean_squared_error", "one_hot")])


@register(STEM, "backward.gradcheck", needs=NEEDS, timeout=30.0,
          hint="backward must be the gradient of your own forward's loss: compare it with "
               "(L(w + h) - L(w - h)) / 2h for single weights.")
def backward_gradcheck(ctx: CheckContext) -> Verdict:
    rng = cases_rng(ctx, 2)
    cases = [draw(ctx, rng, "tanh", "cross_entropy", gradcheck=True),
             draw(ctx, rng, "relu", "mean_squared_error", "one_hot", gradcheck=True)]
    return case_verdicts(lambda case: gradcheck_verdict(ctx, case, STEM, ctx.settings), cases, Case.label)


@register(STEM, "backward.layer_grads", needs=NEEDS,
          hint="After backward every layer holds self.grad_W and self.grad_b, the same arrays backward returns.")
def backward_layer_grads(ctx: CheckContext) -> Verdict:
    """Each layer object's grad_W and grad_b equal the gradients backward returned for it."""
    case = draw(ctx, cases_rng(ctx, 3), "tanh", "cross_entropy")
    net = network_for(ctx, case, STEM)
    logits = forward(ctx, net, case.X)
    value = call_backward(ctx, net, case, logits, "contract")
    read_gradients(value, net.layout)  # the returned lists must be usable first
    layers = layer_grads(ctx, net)
    depth = net.layout.depth
    if layers is None or len(layers) != depth:
        found = "no list of layer objects" if layers is None else f"a list of {len(layers)} layers"
        return fail(f"The network holds {found} with grad_W and grad_b ({depth} expected, one per layer): the "
                    "optimizer reads each layer's grad_W and grad_b.")
    returned = [(value[0][depth - 1 - layer], value[1][depth - 1 - layer]) for layer in range(depth)]
    if same_gradients(layers, returned) or same_gradients(layers[::-1], returned):
        return ok()
    return fail("After backward, the layers' grad_W and grad_b differ from the gradients backward returned "
                "(grad_Ws[i] and grad_bs[i] are the layers' own, output layer first).")


def same_gradients(layers: list, returned: list) -> bool:
    """True when each layer's [grad_W, grad_b] equals the returned pair (input layer first)."""
    for (grad_W, grad_b), (W, b) in zip(layers, returned):
        pairs = ((to_array(grad_W), to_array(W)), (to_array(grad_b), to_array(b)))
        for mine, theirs in pairs:
            if mine is None or theirs is None or mine.size != theirs.size:
                return False
            if mine.shape != theirs.shape and mine.ndim == 2 and theirs.ndim == 2 and min(mine.shape) > 1:
                return False
            if relative_error(mine.reshape(-1), theirs.reshape(-1)) > 1e-12:
                return False
    return True


@register(STEM, "backward.second_call", needs=NEEDS,
          hint="A second forward and backward on another batch (after set_weights) use only that batch.")
def backward_second_call(ctx: CheckContext) -> Verdict:
    """forward + backward, set_weights, forward + backward on another batch: the second must be right too."""
    rng = cases_rng(ctx, 4)
    first, second = draw(ctx, rng, "tanh", "cross_entropy"), draw(ctx, rng, "tanh", "cross_entropy")
    rtol = float(ctx.settings.get("rtol", 1e-7))
    net = network_for(ctx, first, STEM)
    logits = forward(ctx, net, first.X)
    grads = read_gradients(call_backward(ctx, net, first, logits, "contract"), net.layout)
    if grads.slip or wrong_tensors(grads.tensors, first.reference_gradients(), rtol):
        return fail("The first backward is already wrong (see backward.cross_entropy), so a second call cannot "
                    "be checked.")
    load(ctx, net, second.params)
    logits = forward(ctx, net, second.X)
    again = read_gradients(call_backward(ctx, net, second, logits, "contract"), net.layout)
    wrong = wrong_tensors(again.tensors, second.reference_gradients(), rtol)
    if not wrong:
        return ok()
    fresh = reference_verdict(ctx, second, STEM, ctx.settings)
    if not fresh.passed:
        return fresh
    return mistaken(f"The second backward, on another batch after set_weights: {describe_wrong(wrong, first.depth)}, "
                    "while a new network gives the right gradients for that batch: the second call reuses something "
                    "from the first.", "stale_state", STEM)
