"""Gradients against known-right ones: a shared scale factor or a layout slip is named."""
from __future__ import annotations

import numpy as np

from grader.checks.lib.mlp_cases import random_case
from grader.checks.lib.mlp_gradients import grads_against, layout_candidates, shape_problem

SETTINGS = {"rtol": 1e-6, "diagnosis_rtol": 1e-4}
CASE = random_case(np.random.default_rng(7), 2, "tanh", "softmax", "cce")
RIGHT = [np.random.default_rng(8).standard_normal(p.shape) for layer in CASE.params for p in layer]


def test_right_gradients_pass():
    assert grads_against(RIGHT, RIGHT, CASE, SETTINGS, "backward").passed


def test_gradients_for_the_summed_loss_are_named():
    verdict = grads_against([t * CASE.batch for t in RIGHT], RIGHT, CASE, SETTINGS, "backward")
    assert not verdict.passed and verdict.diagnosis == "batch_sum_not_mean"


def test_transposed_weight_gradients_are_found_by_their_shapes():
    transposed = [t.T if t.ndim == 2 else t for t in RIGHT]
    assert "has shape" in shape_problem(transposed, CASE.params)
    assert set(layout_candidates(transposed, CASE.params)) >= {"transposed"}
    assert grads_against(transposed, RIGHT, CASE, SETTINGS, "backward").diagnosis == "transposed"
