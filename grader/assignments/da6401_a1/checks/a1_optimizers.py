"""Public checks of `da6401-a1`'s optimizers: sgd, momentum, nag, rmsprop, adam, nadam.

Each rule's update_weights is recorded for `updates` updates on fixed batches with the rubric's
hyper-parameters (weight decay on) and judged against the textbook rule and its named mistakes
(see `lib/optimizer_runs.py` for how, NAG through train included). A self-check uses one fixed
setup; grading draws it from the grading seed.
"""
from __future__ import annotations

from grader.assignments.da6401_a1.checks.lib.cases import case_rng, sizes_of
from grader.assignments.da6401_a1.checks.lib.optimizer_runs import draw_setup, hyper_parameters, rule_verdict
from grader.assignments.da6401_a1.checks.lib.parts import A1_OPTIMIZERS, NEEDS
from grader.assignments.da6401_a1.optimizers import RULES
from grader.checks.base import CheckContext, Verdict
from grader.checks.lib.answers import register

STEM = A1_OPTIMIZERS
FIXED_SEED = 64031
HINTS = {
    "sgd": "w -= lr (g + weight_decay w) for weights, b -= lr g_b.",
    "momentum": "u = beta u + g; w -= lr u (the learning rate may sit inside u: u = beta u + lr g; w -= u).",
    "nag": "Gradient at the look-ahead point w - lr beta u, or the Bengio form u = beta u + g; "
           "w -= lr (g + beta u).",
    "rmsprop": "v = beta v + (1 - beta) g^2; w -= lr g / (sqrt(v) + eps).",
    "adam": "m, v moving averages of g and g^2, bias-corrected with t = updates so far (one step per update).",
    "nadam": "Adam's moments; w -= lr (beta1 m_hat + (1 - beta1) g / (1 - beta1^t)) / (sqrt(v_hat) + eps).",
}


def register_rule(rule: str) -> None:
    @register(STEM, f"optimizer.{rule}", needs=NEEDS, hint=HINTS[rule], timeout=30.0)
    def check(ctx: CheckContext) -> Verdict:
        settings = ctx.settings
        setup = draw_setup(case_rng(ctx, FIXED_SEED + RULES.index(rule)), rule, hyper_parameters(settings),
                           sizes_of(settings.get("hidden_sizes", (7, 5)), settings),
                           updates=int(settings.get("updates", 3)), batch=int(settings.get("batch", 8)),
                           active_inputs=int(settings.get("active_inputs", 16)))
        return rule_verdict(ctx, setup, STEM, settings)


for _rule in RULES:
    register_rule(_rule)
