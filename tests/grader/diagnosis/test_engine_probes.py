"""Graph evidence for autograd engines, tried on engines with one known slip each."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import grader.checks.hidden.ex4_autograd_scalar as hidden4
from grader.checks import graph_specs
from grader.diagnosis import engine_probes as probes
from grader.errors import StudentCodeError
from grader.worker.inside.programs import run_tensor_graph, run_value_graph
from reference import scalar_engine, tensor_engine
from tests.grader.checks.test_ex4_autograd_scalar import make_engine


def run_reference(spec):
    return run_value_graph(scalar_engine.Value, spec)


def same(a, b):
    return probes.close(float(a), float(b), 1e-9)


def test_close_is_relative_and_refuses_non_finite():
    assert probes.close(1.0 + 1e-10, 1.0, 1e-9) and not probes.close(1.001, 1.0, 1e-9)
    assert not probes.close(math.nan, 1.0, 1e-9) and not probes.close(math.inf, math.inf, 1e-9)


def test_consumer_edges_count_each_use():
    spec = graph_specs.reused_variable_spec()  # x * x + (x + x)
    assert probes.consumer_edges(spec)[0] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert probes.operand_indices(["op", "pow", 0, {"const": 2}]) == [0]


def test_split_edge_moves_one_use_to_a_new_leaf():
    spec = {"nodes": [["leaf", 3.0], ["op", "mul", 0, 0], ["op", "add", 1, {"const": 1}]], "backward": [2]}
    assert probes.split_edge(spec, 1, 1, ["leaf", 3.0]) == {
        "nodes": [["leaf", 3.0], ["leaf", 3.0], ["op", "mul", 1, 0], ["op", "add", 2, {"const": 1}]], "backward": [3]}


def test_detach_uses_shifts_tensor_backward_calls_too():
    spec = {"nodes": [["leaf", np.ones(2), True], ["op", "mul", 0, 0], ["op", "sum", 1]], "backward": [[2, None]]}
    cut = probes.detach_uses(spec, [(1, 0), (1, 1)], [["leaf", "a", False], ["leaf", "b", False]])
    assert cut["nodes"][3] == ["op", "mul", 0, 1] and cut["backward"] == [[4, None]]


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_edge_contributions_add_up_to_the_grad(seed):
    case, result = hidden4.random_case(np.random.default_rng(seed), operations=10)
    edges = probes.edge_contributions(case.spec, result["data"], run_reference)
    for node, contributions in edges.items():
        assert math.isclose(sum(contributions), result["grad"][int(node)], rel_tol=1e-9, abs_tol=1e-12)


def test_partial_sums_are_the_proper_subsets():
    assert sorted(probes.partial_sums([1.0, 2.0, 4.0])) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


@pytest.mark.parametrize("mistake, code", [("overwrite", "gradient_overwritten"), ("preorder", "wrong_topological_order"),
                                           (None, None), ("tanh_of_input", None)])
def test_graph_mistake_on_the_shared_node_probe(mistake, code):
    spec = graph_specs.shared_node_spec()
    right = run_reference(spec)
    edges = probes.edge_contributions(spec, right["data"], run_reference)
    engine = make_engine(*([mistake] if mistake else []))["Value"]
    got = run_value_graph(engine, spec)
    assert probes.graph_mistake(got["grad"], right["grad"], edges, spec, 1e-9) == code


def test_graph_mistake_ignores_a_shared_node_whose_consumers_are_wrong():
    """relu' = 1 on micrograd's example lands a shared node on one use's share by chance."""
    spec = graph_specs.micrograd_example_spec()
    right = run_reference(spec)
    edges = probes.edge_contributions(spec, right["data"], run_reference)
    got = run_value_graph(make_engine("relu_constant")["Value"], spec)
    assert probes.graph_mistake(got["grad"], right["grad"], edges, spec, 1e-9) is None


def run_tensor(spec):
    return run_tensor_graph(tensor_engine, spec)


def test_partial_path_variants_are_the_graph_with_a_use_cut_off():
    spec = graph_specs.tensor_topological_probe_spec(seed=1, copies=1)  # w 0, x 1, s 2, a 7
    right = run_tensor(spec)
    found = probes.partial_path_variants(spec, 2, right["data"][2], run_tensor,
                                         lambda value: ["leaf", value, False])
    assert len(found) == 2  # two uses, each kept alone
    # w's two partial grads add up to its full grad (the gradient is linear in what s receives).
    assert np.allclose(found[0][0] + found[1][0], right["grad"][0])
    assert np.allclose(found[0][7], right["grad"][7])  # a does not go through s

    def alike(a, b):
        return a is not None and b is not None and np.allclose(a, b, rtol=1e-9, atol=1e-12)

    leaves = [0, 1, 7]
    assert probes.partial_path_mistake(found[1], right["grad"], found, leaves, alike) == "wrong_topological_order"
    assert probes.partial_path_mistake(right["grad"], right["grad"], found, leaves, alike) is None
    doubled = [None if g is None else 2 * g for g in right["grad"]]
    assert probes.partial_path_mistake(doubled, right["grad"], found, leaves, alike) is None


@pytest.mark.parametrize("probe, right, contributions, kept", [
    (1.0, 2.0, [1.0, 1.0], True), (2.0, 2.0, [1.0, 1.0], False), (1.5, 2.0, [1.0, 1.0], False),
    (None, 2.0, [1.0, 1.0], False), (0.0, 0.0, [1.0, -1.0], False), (1.0, 0.0, [1.0, -1.0], True),
])
def test_one_use_kept(probe, right, contributions, kept):
    assert probes.one_use_kept(probe, right, contributions, lambda a, b: same(a, b)) is kept


@pytest.mark.parametrize("overwrite, order, code", [
    ([(1.0, 2.0, [1.0, 1.0])], True, "gradient_overwritten"),
    ([(2.0, 2.0, [1.0, 1.0])], True, "wrong_topological_order"),
    ([(2.0, 2.0, [1.0, 1.0])], False, None),
    ([(1.7, 2.0, [1.0, 1.0])], False, None),
])
def test_shared_use_mistake(overwrite, order, code):
    assert probes.shared_use_mistake(overwrite, order, same) == code


@pytest.mark.parametrize("error, caught", [
    (StudentCodeError("error", "RecursionError: maximum recursion depth exceeded"), True),
    (StudentCodeError("error", "ValueError: x", traceback="... maximum recursion depth exceeded ..."), True),
    (StudentCodeError("error", "ValueError: x"), False),
    (StudentCodeError("timeout", "RecursionError"), False),
])
def test_recursion_failure(error, caught):
    assert probes.recursion_failure(error) is caught


def test_broadcast_evidence_needs_the_stretched_shape_and_the_right_total():
    spec = {"nodes": [["leaf", np.ones((3, 4)), True], ["leaf", np.ones((1, 4)), True], ["op", "add", 0, 1]],
            "backward": [[2, np.ones((3, 4))]]}
    shapes = [(3, 4), (1, 4), (3, 4)]
    assert probes.broadcast_evidence(spec, 1, np.ones((3, 4)), np.full((1, 4), 3.0), shapes)
    assert not probes.broadcast_evidence(spec, 1, np.ones((3, 4)), np.full((1, 4), 2.0), shapes)
    assert not probes.broadcast_evidence(spec, 1, np.ones((4, 3)), np.full((1, 4), 3.0), shapes)


def test_local_derivative_mistake_reads_one_unary_operation():
    x = np.array([[-0.5, 1.2]])
    upstream = np.array([[2.0, -1.0]])
    spec = {"nodes": [["leaf", x, True], ["op", "tanh", 0]], "backward": [[1, upstream]]}
    right = upstream * (1 - np.tanh(x) ** 2)

    def alike(a, b):
        return np.allclose(a, b)

    assert probes.local_derivative_mistake(spec, upstream * (1 - x ** 2), right, alike) == "derivative_of_wrong_input"
    assert probes.local_derivative_mistake(spec, upstream * np.tanh(x), right, alike) == \
        "activation_instead_of_derivative"
    assert probes.local_derivative_mistake(spec, 2 * right, right, alike) is None
    two_ops = {"nodes": [*spec["nodes"], ["op", "exp", 1]], "backward": [[2, upstream]]}
    assert probes.single_unary_op(two_ops) is None
    assert probes.single_unary_op({"nodes": [["leaf", 0.3], ["op", "relu", 0]], "backward": [1]}) == ("relu", 0, 1.0)


def test_sign_mistake_needs_every_wrong_grad_negated():
    assert probes.sign_mistake([1.0, -2.0, 3.0], [1.0, 2.0, -3.0], [0, 1, 2], same) == "sign_flipped"
    assert probes.sign_mistake([1.0, -2.0, 3.5], [1.0, 2.0, -3.0], [0, 1, 2], same) is None
    assert probes.sign_mistake([1.0, 2.0], [1.0, 2.0], [0, 1], same) is None
