"""The directional gradient check: the right backward passes, a wrong one fails and is named."""
from __future__ import annotations

import numpy as np

from grader.checks.base import CheckContext, fail, ok
from grader.checks.lib.answers import AnswerError
from grader.checks.lib.directional import gradcheck_case, retried
from grader.checks.lib.mlp_cases import STEM, random_case
from reference import mlp

SETTINGS = {"gradcheck_step": 1e-5, "gradcheck_rtol": 1e-5, "gradcheck_atol": 1e-9, "gradcheck_min_slope": 1e-6,
            "diagnosis_rtol": 1e-4}


def check(transport_factory, backward, forward=mlp.forward, seed=0):
    ctx = CheckContext(exercise=STEM, transport=transport_factory({"forward": forward, "backward": backward}, STEM),
                       settings=dict(SETTINGS))
    rng = np.random.default_rng(seed)
    return gradcheck_case(ctx, random_case(rng, 2, "tanh", "softmax", "cce"), mlp.loss_value, rng)


def test_the_right_gradient_passes(transport_factory):
    assert check(transport_factory, mlp.backward).passed


def test_a_wrong_gradient_fails_and_a_known_factor_is_named(transport_factory):
    def flipped(params, cache, Y, loss="cce"):
        return [(-dW, -db) for dW, db in mlp.backward(params, cache, Y, loss)]

    def halved_first_layer(params, cache, Y, loss="cce"):
        grads = mlp.backward(params, cache, Y, loss)
        return [(grads[0][0] * 0.7, grads[0][1]), *grads[1:]]

    verdict = check(transport_factory, flipped)
    assert not verdict.passed and verdict.diagnosis == "sign_flipped" and "dW[0] (layer 1)" in verdict.feedback
    verdict = check(transport_factory, halved_first_layer)
    assert not verdict.passed and "dW[0] (layer 1)." in verdict.feedback and "db[0]" not in verdict.feedback


def test_a_forward_that_ignores_its_parameters_confirms_nothing(transport_factory):
    def constant(params, X, hidden, output):
        Y_hat, cache = mlp.forward(params, X, hidden, output)
        return np.full_like(Y_hat, 1.0 / Y_hat.shape[1]), cache

    verdict = check(transport_factory, lambda params, cache, Y, loss="cce": [(0 * W, 0 * b) for W, b in params],
                    forward=constant)
    assert not verdict.passed and "no slope to check backward against" in verdict.feedback


def test_retried_counts_an_unusable_answer_as_a_failed_draw():
    def draws(*outcomes):
        pending = iter(outcomes)

        def draw():
            outcome = next(pending)
            if isinstance(outcome, AnswerError):
                raise outcome
            return outcome
        return draw

    assert retried(3, draws(AnswerError(fail("unusable")), ok())).passed
    assert retried(2, draws(AnswerError(fail("unusable")), fail("wrong"))).feedback == "unusable"
