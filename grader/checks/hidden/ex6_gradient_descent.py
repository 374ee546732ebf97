"""Hidden checks for exercise 6: random SGD steps against the reference, and training on unseen data.

`train.accuracy` draws a fresh data set (reference.datasets, seeded by ctx.rng), trains with the
rubric's settings within its time budget, and measures held-out accuracy with reference.mlp on the
returned parameters. Feedback gives the accuracy reached and the target, never the data.
"""
from __future__ import annotations

import numpy as np

from grader.checks.base import CheckContext, Verdict
from grader.checks.lib.answers import register
from grader.checks.lib.gradient_descent import STEM, judge_sgd_step, judge_training, train_arguments, train_result
from reference import datasets, mlp
from reference import training as ref


@register(STEM, "sgd_step.random", needs=("sgd_step",),
          hint="Every layer: W - lr * dW and b - lr * db, for any number of layers and any shapes.")
def sgd_random(ctx: CheckContext) -> Verdict:
    rng = ctx.rng
    sizes = [int(n) for n in rng.choice(np.arange(2, 9), size=4, replace=False)]
    params = [(rng.normal(size=(m, n)), rng.normal(size=n)) for m, n in zip(sizes[:-1], sizes[1:])]
    grads = [(rng.normal(size=W.shape), rng.normal(size=b.shape)) for W, b in params]
    lr = float(rng.uniform(0.01, 1.0))
    got = ctx.call("sgd_step", params, grads, lr)
    return judge_sgd_step(ctx, got, params, grads, lr, ref.sgd_step(params, grads, lr))


@register(STEM, "train.accuracy", needs=("train",),
          hint="Shuffle every epoch, step after every minibatch, and return the final params.")
def train_accuracy(ctx: CheckContext) -> Verdict:
    s = ctx.settings
    seed = int(ctx.rng.integers(2 ** 31))
    X, labels = datasets.make_dataset(s["train_dataset"], n=s["train_n"], classes=s["train_classes"],
                                      noise=s["train_noise"], seed=seed)
    X_train, X_test, labels_train, labels_test = datasets.train_test_split(
        X, labels, test_fraction=s["train_test_fraction"], seed=seed)
    value = ctx.call("train", X_train, datasets.one_hot(labels_train, s["train_classes"]),
                     timeout=float(s["train_time_budget_s"]), **train_arguments(s))
    params, losses = train_result(value, s)
    accuracy = mlp.accuracy(params, X_test, labels_test, s["train_hidden"])
    return judge_training(losses, accuracy, s, "a new data set")
