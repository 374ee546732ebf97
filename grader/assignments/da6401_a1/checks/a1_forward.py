"""Public checks of `da6401-a1`'s forward pass: logits on known weights, and get/set_weights.

A network 784 - 7 - 5 - 10 (hidden sizes from the rubric) is built from a namespace for each
activation, loaded with known weights in the orientation its own get_weights shows, and its
logits compared with the reference's: Z_l = A_l @ W_l + b_l, A_{l+1} = act(Z_l) on hidden
layers, logits = Z_{L-1} (no softmax: that belongs to the loss). A self-check uses one fixed
case per activation; grading draws the case from the grading seed.
"""
from __future__ import annotations

import numpy as np

from grader.assignments.da6401_a1.checks.lib.calls import build, load
from grader.assignments.da6401_a1.checks.lib.cases import ACTIVATIONS, Case, case_rng, draw_case, sizes_of
from grader.assignments.da6401_a1.checks.lib.forward_runs import forward_verdict
from grader.assignments.da6401_a1.checks.lib.layout import weight_keys
from grader.assignments.da6401_a1.checks.lib.parts import A1_FORWARD, NEEDS
from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.compare import relative_error, to_array
from grader.checks.lib.answers import register

STEM = A1_FORWARD
FIXED_SEED = 64011  # the self-check's cases


def fixed_case(ctx: CheckContext, activation: str) -> Case:
    """The test's case: fixed in a self-check, drawn from the grading seed when grading."""
    rng = case_rng(ctx, FIXED_SEED + ACTIVATIONS.index(activation))
    sizes = sizes_of(ctx.settings.get("hidden_sizes", (7, 5)), ctx.settings)
    return draw_case(rng, sizes, activation, batch=int(ctx.settings.get("batch", 6)))


def register_activation(activation: str) -> None:
    """forward.<activation>: one case, logits against the reference's."""

    @register(STEM, f"forward.{activation}", needs=NEEDS,
              hint=f"Z = A_prev @ W + b, A = {activation}(Z) on hidden layers; the output layer returns Z, "
                   "the logits, with no softmax.")
    def check(ctx: CheckContext) -> Verdict:
        return forward_verdict(ctx, fixed_case(ctx, activation), STEM, ctx.settings)


for _activation in ACTIVATIONS:
    register_activation(_activation)


@register(STEM, "forward.weights_roundtrip", needs=NEEDS,
          hint="get_weights() returns what set_weights(d) loaded: keys W0, b0, W1, ... from the input layer, "
               "the same values and shapes.")
def weights_roundtrip(ctx: CheckContext) -> Verdict:
    """set_weights(d) then get_weights() gives d back: every key, shape and value."""
    case = fixed_case(ctx, "tanh")
    net = build(ctx, case.options(), STEM)
    loaded = net.layout.to_student(case.params)
    load(ctx, net, case.params)
    back = ctx.method(net.handle, "get_weights")
    tol = float(ctx.settings.get("roundtrip_rtol", 1e-12 if not net.layout.single else 1e-6))
    for key in weight_keys(net.layout.depth):
        value = to_array(back.get(key)) if isinstance(back, dict) else None
        if value is None or value.shape != loaded[key].shape:
            return fail(f"After set_weights(d), get_weights()['{key}'] is not an array of d['{key}']'s shape "
                        f"{loaded[key].shape}.")
        if relative_error(value, loaded[key]) > tol or not np.all(np.isfinite(value)):
            return fail(f"After set_weights(d), get_weights()['{key}'] differs from d['{key}'] (norm-relative "
                        f"error {relative_error(value, loaded[key]):.2e}): get_weights must return the loaded "
                        "values.")
    return ok()
