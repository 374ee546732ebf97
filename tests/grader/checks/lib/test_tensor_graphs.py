"""Tensor graphs judged against the right answer: mutation, broadcast gradients, wrong grads."""
from __future__ import annotations

import numpy as np
import pytest

from grader.checks.base import CheckContext, Verdict
from grader.checks.lib.answers import AnswerError
from grader.checks.lib.tensor_graphs import STEM, judge_tensor_graph, read_result, same_values, single_op_case
from grader.worker.inside.programs import run_tensor_graph
from reference import tensor_engine

CASE = single_op_case("M + row (1, C)", [("M", np.arange(6.0).reshape(2, 3)), ("row", np.ones((1, 3)))],
                      ["op", "add", 0, 1], np.arange(6.0).reshape(2, 3) - 2.0)
RIGHT = run_tensor_graph(tensor_engine, CASE.spec)
CTX = CheckContext(exercise=STEM, transport=None, settings={"rtol": 1e-8})


def never(ctx):
    raise AssertionError("no graph mistake here: the probes are not asked")


def judged(changes: dict) -> Verdict:
    """The verdict on the right answer with `changes` ({(key, node): value}) made to it."""
    got = {key: list(values) for key, values in RIGHT.items()}
    for (key, node), value in changes.items():
        got[key][node] = value
    return judge_tensor_graph(CTX, CASE, RIGHT, confirm=never, got=got)


def test_the_right_answer_passes():
    assert judged({}).passed


def test_a_broadcast_operands_grad_left_unreduced_is_named():
    verdict = judged({("grad", 1): RIGHT["grad"][0]})  # row's grad with M's (2, 3) shape
    assert verdict.diagnosis == "broadcast_grad_not_reduced" and "should have row's shape (1, 3)" in verdict.feedback


def test_a_leaf_changed_in_place_is_named():
    assert judged({("data", 0): RIGHT["data"][0] + 1.0}).diagnosis == "mutates_input"


def test_a_negated_grad_is_sign_flipped():
    verdict = judged({("grad", 0): -RIGHT["grad"][0], ("grad", 1): -RIGHT["grad"][1]})
    assert verdict.diagnosis == "sign_flipped"


def test_values_compare_by_norm_and_results_need_every_key():
    assert same_values(np.array([[2.0]]), 2.0, 1e-8) and not same_values(np.zeros(2), np.zeros(3), 1e-8)
    with pytest.raises(AnswerError, match="instead of one entry per node"):
        read_result({"data": RIGHT["data"]}, 3)
