"""Hidden checks of `da6401-a1`'s forward pass: random weights and batches, deeper networks.

Cases drawn from the grading seed: every activation with batches of 1 and of several examples,
and a network of three hidden layers; the test's credit is the share of cases right.
"""
from __future__ import annotations

from grader.assignments.da6401_a1.checks.lib.cases import ACTIVATIONS, Case, draw_case, sizes_of
from grader.assignments.da6401_a1.checks.lib.forward_runs import forward_verdict
from grader.assignments.da6401_a1.checks.lib.parts import A1_FORWARD, NEEDS
from grader.assignments.da6401_a1.checks.lib.verdicts import case_verdicts
from grader.checks.base import CheckContext, Verdict
from grader.checks.lib.answers import register

STEM = A1_FORWARD


def random_cases(ctx: CheckContext) -> list[Case]:
    rng = ctx.rng
    hidden = ctx.settings.get("hidden_sizes", (7, 5))
    deep = ctx.settings.get("deep_hidden_sizes", (9, 7, 5))
    batches = [int(b) for b in ctx.settings.get("random_batches", (1, 4, 6, 9))]
    cases = [draw_case(rng, sizes_of(hidden, ctx.settings), activation, batch=batch)
             for activation in ACTIVATIONS for batch in (1, int(rng.choice(batches[1:])))]
    cases.append(draw_case(rng, sizes_of(deep, ctx.settings), str(rng.choice(ACTIVATIONS)),
                           batch=int(rng.choice(batches[1:]))))
    return cases


@register(STEM, "forward.random", needs=NEEDS,
          hint="Any number of hidden layers (num_layers, hidden_size) and any batch size, batch of 1 included.")
def forward_random(ctx: CheckContext) -> Verdict:
    return case_verdicts(lambda case: forward_verdict(ctx, case, STEM, ctx.settings), random_cases(ctx),
                         lambda case: case.label(loss=False))
