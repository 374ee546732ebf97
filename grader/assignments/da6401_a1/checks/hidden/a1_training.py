"""Hidden check of `da6401-a1`'s training script: a run drawn from the rubric's `hidden_runs`.

The grading seed picks `hidden_draws` runs (other optimizers, activations, losses, depths and
weight decay than the public runs); each must run, save the architecture asked for and learn,
a third of its credit each. It runs in the hidden phase's own worker, like every hidden check.
"""
from __future__ import annotations

from grader.assignments.da6401_a1.checks.lib.parts import A1_TRAINING, NEEDS
from grader.assignments.da6401_a1.checks.lib.training_runs import DEFAULT_TIMEOUT_S, RunSpec, run_specs, run_training
from grader.assignments.da6401_a1.checks.lib.training_verdicts import judged, standin_note, whole_run
from grader.checks.base import CheckContext, Verdict
from grader.checks.lib.answers import register

STEM = A1_TRAINING


def drawn_runs(ctx: CheckContext) -> list[RunSpec]:
    """`hidden_draws` runs of the pool, drawn from the grading seed, in the pool's order."""
    pool = run_specs(ctx.settings, "hidden_runs")
    count = min(len(pool), int(ctx.settings.get("hidden_draws", 1)))
    return [pool[int(index)] for index in sorted(ctx.rng.choice(len(pool), size=count, replace=False))]


@register(STEM, "training.random", needs=NEEDS, timeout=DEFAULT_TIMEOUT_S,
          hint="Every optimizer, activation and loss of the spec, any depth and weight decay: train.py runs, "
               "saves the architecture asked for, and learns.")
def training_random(ctx: CheckContext) -> Verdict:
    runs = [run_training(ctx, spec) for spec in drawn_runs(ctx)]
    return judged(runs, lambda run: whole_run(run, ctx.settings), standin_note(runs))
