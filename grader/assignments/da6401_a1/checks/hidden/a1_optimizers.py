"""Hidden checks of `da6401-a1`'s optimizers: every rule on a random setup.

Weights, batches, learning rate and weight decay drawn from the grading seed (momentum, beta,
beta1, beta2 and epsilon stay the course's defaults, which the skeleton lets students assume);
one more update than the public checks. The credit is the share of the six rules right.
"""
from __future__ import annotations

from grader.assignments.da6401_a1.checks.lib.cases import sizes_of
from grader.assignments.da6401_a1.checks.lib.optimizer_runs import Setup, draw_setup, hyper_parameters, rule_verdict
from grader.assignments.da6401_a1.checks.lib.parts import A1_OPTIMIZERS, NEEDS
from grader.assignments.da6401_a1.checks.lib.verdicts import case_verdicts
from grader.assignments.da6401_a1.optimizers import RULES
from grader.checks.base import CheckContext, Verdict
from grader.checks.lib.answers import register

STEM = A1_OPTIMIZERS


def random_setups(ctx: CheckContext) -> list[Setup]:
    rng = ctx.rng
    settings = ctx.settings
    low, high = settings.get("random_learning_rates", (0.02, 0.2))
    decay_low, decay_high = settings.get("random_weight_decays", (0.01, 0.1))
    sizes = sizes_of(settings.get("hidden_sizes", (7, 5)), settings)
    return [draw_setup(rng, rule, hyper_parameters(settings, learning_rate=rng.uniform(low, high),
                                                   weight_decay=rng.uniform(decay_low, decay_high)),
                       sizes, updates=int(settings.get("random_updates", 4)), batch=int(settings.get("batch", 8)),
                       active_inputs=int(settings.get("active_inputs", 16)))
            for rule in RULES]


@register(STEM, "optimizer.random", needs=NEEDS, timeout=30.0,
          hint="Every optimizer with any learning rate and weight decay, over several updates.")
def optimizer_random(ctx: CheckContext) -> Verdict:
    return case_verdicts(lambda setup: rule_verdict(ctx, setup, STEM, ctx.settings), random_setups(ctx),
                         Setup.label)
