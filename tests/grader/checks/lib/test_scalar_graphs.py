"""Value graphs judged against the right answer: values, grads, and what a wrong grad shows."""
from __future__ import annotations

import pytest

from grader.checks.base import CheckContext
from grader.checks.lib.answers import AnswerError
from grader.checks.lib.graph_cases import GraphCase
from grader.checks.lib.scalar_graphs import STEM, judge_graph, read_result
from grader.worker.inside.programs import run_value_graph
from reference import scalar_engine

CASE = GraphCase("x * y", {"nodes": [["leaf", 1.7], ["leaf", -0.6], ["op", "mul", 0, 1]], "backward": [2]},
                 ("x", "y", "x * y"))
RIGHT = run_value_graph(scalar_engine.Value, CASE.spec)


def never(ctx):
    raise AssertionError("no graph mistake here: the probes are not asked")


def context(transport_factory):
    return CheckContext(exercise=STEM, transport=transport_factory({"Value": scalar_engine.Value}, STEM),
                        settings={"rtol": 1e-9})


def test_the_right_engine_passes(transport_factory):
    assert judge_graph(context(transport_factory), CASE, RIGHT, {}, confirm=never).passed


def test_grads_all_negated_are_sign_flipped(transport_factory):
    negated = {"data": RIGHT["data"], "grad": [-g for g in RIGHT["grad"]]}
    verdict = judge_graph(context(transport_factory), CASE, negated, {}, confirm=never)
    assert not verdict.passed and verdict.diagnosis == "sign_flipped"
    assert "the grad of x is wrong: it is" in verdict.feedback


def test_a_wrong_forward_value_is_named_before_any_grad(transport_factory):
    shifted = {"data": [RIGHT["data"][0] + 1.0, *RIGHT["data"][1:]], "grad": RIGHT["grad"]}
    verdict = judge_graph(context(transport_factory), CASE, shifted, {}, confirm=never, reveal=False)
    assert verdict.feedback == "x * y: the forward value of x is wrong."


def test_a_result_without_a_grad_per_node_raises_answer_error():
    with pytest.raises(AnswerError, match="instead of data and grads for 3 nodes"):
        read_result({"data": [1.0, 2.0, 3.0], "grad": [0.0]}, 3)
