"""Exercise 6's answers: parameter lists, one SGD step, a training run's credit."""
from __future__ import annotations

import numpy as np
import pytest

from grader.checks.base import CheckContext
from grader.checks.lib.answers import AnswerError
from grader.checks.lib.gradient_descent import STEM, judge_sgd_step, judge_training, layer_shapes, params_answer
from grader.rubric import load_rubric

RNG = np.random.default_rng(3)
PARAMS = [(RNG.normal(size=(3, 4)), RNG.normal(size=4)), (RNG.normal(size=(4, 2)), RNG.normal(size=2))]
GRADS = [(RNG.normal(size=W.shape), RNG.normal(size=b.shape)) for W, b in PARAMS]
LR = 0.1
STEPPED = [(W - LR * dW, b - LR * db) for (W, b), (dW, db) in zip(PARAMS, GRADS)]


@pytest.fixture
def ctx():
    return CheckContext(exercise=STEM, transport=None, settings=dict(load_rubric(STEM).settings))


def test_params_answer_reads_pairs_of_the_given_shapes_or_raises():
    assert len(params_answer(STEPPED, layer_shapes([3, 4, 2]), "params")) == 2
    with pytest.raises(AnswerError, match=r"params\[1\] W has shape"):
        params_answer([STEPPED[0], (np.zeros((2, 4)), np.zeros(2))], layer_shapes([3, 4, 2]), "params")


def test_a_step_passes_when_right_and_names_uphill_and_reversed_steps(ctx):
    assert judge_sgd_step(ctx, STEPPED, PARAMS, GRADS, LR, STEPPED).passed
    uphill = [(W + LR * dW, b + LR * db) for (W, b), (dW, db) in zip(PARAMS, GRADS)]
    assert judge_sgd_step(ctx, uphill, PARAMS, GRADS, LR, STEPPED).diagnosis == "sign_flipped"
    assert judge_sgd_step(ctx, STEPPED[::-1], PARAMS, GRADS, LR, STEPPED).diagnosis == "layer_order_reversed"
    assert not judge_sgd_step(ctx, {"params": STEPPED}, PARAMS, GRADS, LR, STEPPED).passed


def test_training_credit_splits_between_losses_and_accuracy(ctx):
    s = ctx.settings
    falling = np.linspace(1.0, 0.1, int(s["train_epochs"]))
    assert judge_training(falling, 1.0, s, "the data").passed
    low = judge_training(falling, 0.0, s, "the data")
    assert not low.passed and low.fraction == pytest.approx(float(s["train_losses_share"]))
    flat = judge_training(np.ones(int(s["train_epochs"])), 1.0, s, "the data")
    assert flat.fraction == pytest.approx(1.0 - float(s["train_losses_share"]))
