"""Public checks of `da6401-a1`'s training script: `src/train.py` run with the rubric's options.

Each of the rubric's `runs` is `python src/train.py -d ... -w_i ...` in the sandbox (the probe's
`_train`, within the rubric's `timeout` per run), on the data the sandbox serves from keras's
cache (2000 generated training and 500 test images, see support.py). The three tests judge the
same runs, each once (`lib/training_runs.py`):

- training.runs: the script finished and saved a best_model.npy that np.load reads;
- training.architecture: the saved weights have the layers that -nhl and -sz ask for;
- training.learns: scored with the reference's forward pass on the grader's private split
  (generated like the served data, never given to train.py), they reach `min_accuracy`.

The feedback names each run that failed and how (its traceback, its last output, the files it
wrote instead, the sizes it saved, the accuracy it reached), and the stand-ins it ran on.
"""
from __future__ import annotations

from grader.assignments.da6401_a1.checks.lib.parts import A1_TRAINING, NEEDS
from grader.assignments.da6401_a1.checks.lib.training_runs import DEFAULT_TIMEOUT_S, TrainingRun, run_specs, run_training
from grader.assignments.da6401_a1.checks.lib.training_verdicts import (
    architecture_verdict, judged, learned, ran_verdict, standin_note,
)
from grader.checks.base import CheckContext, Verdict
from grader.checks.lib.answers import register

STEM = A1_TRAINING


def visible_runs(ctx: CheckContext) -> list[TrainingRun]:
    """The rubric's runs, each run once for the three tests."""
    return [run_training(ctx, spec) for spec in run_specs(ctx.settings, "runs")]


@register(STEM, "training.runs", needs=NEEDS, timeout=DEFAULT_TIMEOUT_S,
          hint="`python src/train.py` with the spec's options (-d -e -b -l -o -lr -wd -nhl -sz -a -w_i) finishes and "
               "saves np.save(\"best_model.npy\", model.get_weights()) in the repository root.")
def training_runs(ctx: CheckContext) -> Verdict:
    runs = visible_runs(ctx)
    return judged(runs, ran_verdict, standin_note(runs))


@register(STEM, "training.architecture", needs=NEEDS, timeout=DEFAULT_TIMEOUT_S,
          hint="-nhl hidden layers of -sz units each, between the 784 inputs and the 10 outputs.")
def training_architecture(ctx: CheckContext) -> Verdict:
    return judged(visible_runs(ctx), architecture_verdict, full=False)


@register(STEM, "training.learns", needs=NEEDS, timeout=DEFAULT_TIMEOUT_S,
          hint="The saved weights (the best epoch's) classify images train.py never saw well above chance.")
def training_learns(ctx: CheckContext) -> Verdict:
    return judged(visible_runs(ctx), lambda run: learned(run, ctx.settings), full=False)
