"""A graph case's spec runs as written on both engines' graph programs, constants included."""
from __future__ import annotations

import numpy as np

from grader.checks.lib.graph_cases import GraphCase, const
from grader.worker.inside.programs import run_tensor_graph, run_value_graph
from reference import scalar_engine, tensor_engine


def test_a_constant_operand_is_a_number_not_a_node():
    case = GraphCase("x * 3 + x", {"nodes": [["leaf", 2.0], ["op", "mul", 0, const(3.0)], ["op", "add", 1, 0]],
                                   "backward": [2]}, ("x", "x * 3", "x * 3 + x"))
    result = run_value_graph(scalar_engine.Value, case.spec)
    assert result["data"] == [2.0, 6.0, 8.0] and result["grad"][0] == 4.0
    assert len(case.names) == len(result["data"])


def test_the_tensor_engine_takes_an_array_constant():
    spec = {"nodes": [["leaf", np.ones((2, 2)), True], ["op", "mul", 0, const(np.array([1.0, 2.0]))],
                      ["op", "sum", 1]], "backward": [[2, None]]}
    result = run_tensor_graph(tensor_engine, GraphCase("x * c", spec, ("x", "x * c", "sum")).spec)
    assert np.array_equal(result["grad"][0], [[1.0, 2.0], [1.0, 2.0]])
