"""Hidden checks of exercise 6: random SGD steps and training on a data set drawn per grading run."""
from __future__ import annotations

import numpy as np
import pytest

import grader.checks.hidden.ex6_gradient_descent as hidden
from grader.checks.base import REGISTRY, CheckContext
from grader.rubric import load_rubric
from tests.grader.checks.test_ex6_gradient_descent import (
    BROKEN_TRAIN, REFERENCE, correct_namespaces, sgd_reversed, sgd_uphill, sgd_weights_only,
)

STEM = hidden.STEM
HIDDEN = sorted(name for name, item in load_rubric(STEM).tests.items() if item.visibility == "hidden")


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("namespace", correct_namespaces())
def test_correct_implementations_pass_every_hidden_check(namespace, seed, run_check):
    outcomes = {name: run_check(STEM, name, namespace, seed=seed) for name in HIDDEN}
    assert {name: o.feedback for name, o in outcomes.items() if o.status != "passed"} == {}


@pytest.mark.parametrize("step, diagnosis", [(sgd_uphill, "sign_flipped"), (sgd_reversed, "layer_order_reversed"),
                                             (sgd_weights_only, None)])
def test_broken_sgd_step_fails_on_random_layers(step, diagnosis, run_check):
    outcome = run_check(STEM, "sgd_step.random", {**REFERENCE, "sgd_step": step})
    assert outcome.status == "failed" and outcome.diagnosis == diagnosis, outcome.feedback


@pytest.mark.parametrize("label, train, credit", BROKEN_TRAIN, ids=[b[0] for b in BROKEN_TRAIN])
def test_broken_training_fails_on_new_data(label, train, credit, run_check):
    with np.errstate(all="ignore"):
        outcome = run_check(STEM, "train.accuracy", {**REFERENCE, "train": train})
    assert outcome.status == "failed"
    assert outcome.verdict.credit == pytest.approx(credit), outcome.feedback


def test_hidden_data_is_new_for_each_seed_and_not_the_public_set(transport_factory):
    from grader.checks.fixtures import load_fixture
    public = load_fixture(STEM, "train_data")["X_train"]
    seen = []
    for seed in (0, 1):
        transport = transport_factory(REFERENCE, STEM)
        ctx = CheckContext(exercise=STEM, transport=transport, seed=seed, test_name="train.accuracy",
                           settings=load_rubric(STEM).settings)
        assert REGISTRY[STEM]["train.accuracy"].run(ctx).passed
        X = transport.requests[-1]["args"][0]
        assert X.shape == public.shape and not np.array_equal(X, public)
        seen.append(X)
    assert not np.array_equal(seen[0], seen[1])
