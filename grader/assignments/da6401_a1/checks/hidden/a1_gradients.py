"""Hidden checks of `da6401-a1`'s backward: random weights, batches, losses, activations and target forms.

Drawn from the grading seed: every activation with both losses against the reference (one case
of three hidden layers too), and every activation with both losses against central differences
of the student's own forward. Each test's credit is the share of its cases right (a case of
mse_grad_scale_classes counting for its partial credit).
"""
from __future__ import annotations

from grader.assignments.da6401_a1.checks.lib.cases import ACTIVATIONS, FORMS, LOSSES, Case, draw_case, sizes_of
from grader.assignments.da6401_a1.checks.lib.gradient_runs import gradcheck_verdict, reference_verdict
from grader.assignments.da6401_a1.checks.lib.parts import A1_GRADIENTS, NEEDS
from grader.assignments.da6401_a1.checks.lib.verdicts import case_verdicts
from grader.checks.base import CheckContext, Verdict
from grader.checks.lib.answers import register

STEM = A1_GRADIENTS


def random_cases(ctx: CheckContext, *, gradcheck: bool) -> list[Case]:
    rng = ctx.rng
    settings = ctx.settings
    batches = [int(b) for b in settings.get("random_batches", (1, 4, 6, 9))]
    sizes = sizes_of(settings.get("hidden_sizes", (7, 5)), settings)
    extra = dict(active_inputs=int(settings.get("active_inputs", 4)),
                 kink_margin=float(settings.get("kink_margin", 0.02))) if gradcheck else {}
    cases = [draw_case(rng, sizes, activation, loss, str(rng.choice(FORMS)), int(rng.choice(batches)), **extra)
             for activation in ACTIVATIONS for loss in LOSSES]
    if not gradcheck:
        cases.append(draw_case(rng, sizes_of(settings.get("deep_hidden_sizes", (9, 7, 5)), settings),
                               str(rng.choice(ACTIVATIONS)), str(rng.choice(LOSSES)), str(rng.choice(FORMS)),
                               int(rng.choice(batches[1:]))))
    return cases


@register(STEM, "backward.random", needs=NEEDS,
          hint="Every activation, both losses, labels or one-hot targets, any batch size and depth.")
def backward_random(ctx: CheckContext) -> Verdict:
    return case_verdicts(lambda case: reference_verdict(ctx, case, STEM, ctx.settings),
                         random_cases(ctx, gradcheck=False), Case.label)


@register(STEM, "backward.gradcheck.random", needs=NEEDS, timeout=30.0,
          hint="backward must be the gradient of your own forward's loss for every activation and loss.")
def backward_gradcheck_random(ctx: CheckContext) -> Verdict:
    return case_verdicts(lambda case: gradcheck_verdict(ctx, case, STEM, ctx.settings),
                         random_cases(ctx, gradcheck=True), Case.label)
