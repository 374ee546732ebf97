"""Calling forward and backward: answers read in call order, unusable ones raised as AnswerError."""
from __future__ import annotations

import numpy as np
import pytest

from grader.checks.base import CheckContext
from grader.checks.lib.answers import AnswerError
from grader.checks.lib.mlp_calls import read_forward, read_grads, students_gradients
from grader.checks.lib.mlp_cases import STEM, flat_params, random_case
from reference import mlp

CASES = [random_case(np.random.default_rng(seed), 2, "tanh", "softmax", "cce") for seed in range(3)]


def context(transport_factory, **overrides):
    return CheckContext(exercise=STEM, transport=transport_factory(
        {"forward": mlp.forward, "backward": mlp.backward, **overrides}, STEM))


def test_read_forward_and_read_grads_raise_on_the_wrong_form():
    case = CASES[0]
    with pytest.raises(AnswerError, match="should return a pair"):
        read_forward(np.zeros(3), case)
    with pytest.raises(AnswerError, match="one row per example"):
        read_forward((np.zeros((case.batch + 1, case.sizes[-1])), None), case)
    with pytest.raises(AnswerError, match="for a network of 2 layer"):
        read_grads([(np.zeros(2), np.zeros(2))], 2)


def test_students_gradients_gives_each_cases_gradients(transport_factory):
    ctx = context(transport_factory)
    for case, (Y_hat, tensors) in zip(CASES, students_gradients(ctx, CASES)):
        right_Y, cache = mlp.forward(case.params, case.X, hidden=case.hidden, output=case.output)
        right = flat_params(mlp.backward(case.params, cache, case.Y, loss=case.loss))
        assert np.allclose(Y_hat, right_Y) and all(np.allclose(g, r) for g, r in zip(tensors, right))


def test_an_unusable_forward_is_raised_where_its_case_is_reached(transport_factory):
    bad_rows = CASES[1].batch

    def forward(params, X, hidden, output):
        Y_hat, cache = mlp.forward(params, X, hidden, output)
        return (Y_hat[:, :1] if X.shape[0] == bad_rows else Y_hat), cache

    answers = students_gradients(context(transport_factory, forward=forward), CASES)
    next(answers)  # the first case is fine
    with pytest.raises(AnswerError, match="forward's Y_hat has shape"):
        next(answers)
