"""Exercise 1's judgements: a right answer passes, a known mistake is named."""
from __future__ import annotations

import numpy as np
import pytest

from grader.checks.base import CheckContext
from grader.checks.lib.activations_losses import (
    LOSS_GRADS, LOSSES, STEM, judge_activation, judge_gradient, judge_loss, judge_stable, mean_count,
)
from grader.rubric import load_rubric

Z = np.array([[-1.5, 0.3, 2.0], [0.7, -0.2, 1.1]])


@pytest.fixture
def ctx():
    return CheckContext(exercise=STEM, transport=None, settings=dict(load_rubric(STEM).settings))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_an_activation_derivative_passes_right_and_names_a_slip(ctx):
    right = sigmoid(Z) * (1.0 - sigmoid(Z))
    assert judge_activation(ctx, "sigmoid_grad", Z, right, right, "sigmoid_grad(z)").passed
    flipped = judge_activation(ctx, "sigmoid_grad", Z, -right, right, "sigmoid_grad(z)")
    assert not flipped.passed and flipped.diagnosis == "sign_flipped"
    of_output = judge_activation(ctx, "sigmoid_grad", Z, sigmoid(sigmoid(Z)) * (1.0 - sigmoid(sigmoid(Z))), right,
                                 "sigmoid_grad(z)")
    assert of_output.diagnosis == "derivative_of_wrong_input"


def test_a_loss_taken_twice_over_the_batch_is_named(ctx):
    y_hat, y = np.full((3, 2), 0.5), np.zeros((3, 2))
    right = float(np.mean((y_hat - y) ** 2))
    n = mean_count("mse", y_hat)
    assert n == 6 and judge_loss(ctx, "mse", right, right, n, "mse").passed
    assert judge_loss(ctx, "mse", right / n, right, n, "mse").diagnosis == "batch_mean_twice"


def test_a_gradient_for_the_summed_loss_is_named(ctx):
    y_hat, y = np.array([[0.2, 0.8], [0.6, 0.1]]), np.array([[0.0, 1.0], [1.0, 0.0]])
    right = 2.0 * (y_hat - y) / y_hat.size
    verdict = judge_gradient(ctx, "mse_grad", right * y_hat.size, right, y_hat.size, "mse_grad")
    assert verdict.diagnosis == "batch_sum_not_mean"


def test_an_answer_at_extreme_inputs_holding_nan_is_named(ctx):
    expected = np.array([0.0, 1.0])
    assert judge_stable(ctx, np.array([np.nan, 1.0]), expected, "softmax(z)", "softmax_unstable").diagnosis \
        == "softmax_unstable"
    assert judge_stable(ctx, expected + 1e-9, expected, "softmax(z)", "softmax_unstable").passed


def test_the_contract_names_a_gradient_for_each_loss():
    assert LOSS_GRADS == tuple(f"{name}_grad" for name in LOSSES)
    assert mean_count("cce", np.zeros((4, 3))) == 4 and mean_count("softmax_cce_delta", np.zeros((4, 3))) == 4
