"""The graph programs' "chain" entry: len(pick) operations in a row, each a template applied to
the node before it with its own constant. It must build exactly the graph the same operations
written out as "op" nodes build, and a malformed chain is the spec's mistake (SpecError)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference.tensor_engine as tensor_engine
from grader.checks import graph_specs
from grader.worker.inside.programs import SpecError, run_tensor_graph, run_value_graph
from reference.scalar_engine import Value

TEMPLATES = [["add", "x", "c"], ["sub", "c", "x"], ["neg", "x"], ["mul", "x", "c"], ["tanh", "x"],
             ["truediv", "x", "c"]]


def written_out(start: list, templates: list, pick: list[int], const: list[float], tail: list) -> list:
    """The same chain as plain "op" nodes after the `start` nodes."""
    nodes = list(start)
    for chosen, number in zip(pick, const):
        name, *order = templates[chosen]
        x = len(nodes) - 1
        operands = [x] if order == ["x"] else [x, {"const": number}] if order[0] == "x" else [{"const": number}, x]
        nodes.append(["op", name, *operands])
    return nodes + tail


@settings(max_examples=60, deadline=None)
@given(picks=st.lists(st.integers(0, len(TEMPLATES) - 1), min_size=1, max_size=30),
       data=st.data())
def test_a_chain_builds_the_graph_its_written_out_nodes_build(picks, data):
    const = data.draw(st.lists(st.floats(0.5, 2.0) | st.floats(-2.0, -0.5), min_size=len(picks),
                               max_size=len(picks)))
    start = [["leaf", 0.3], ["leaf", -1.1]]
    chain = graph_specs.chain_entry(TEMPLATES, picks, const)
    last = len(start) + len(picks) - 1
    tail = [["op", "mul", last, 0]]  # a node after the chain refers to the chain's last node
    compact = {"nodes": [*start, chain, *tail], "backward": [last + 1]}
    plain = {"nodes": written_out(start, TEMPLATES, picks, const, tail), "backward": [last + 1]}
    assert run_value_graph(Value, compact) == run_value_graph(Value, plain)


def test_a_tensor_chain_matches_its_written_out_nodes():
    start = [["leaf", np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]), True]]
    picks, const = [0, 3, 1, 4, 2, 5], [0.5, -1.5, 2.0, 0.0, 0.0, 1.25]
    chain = graph_specs.chain_entry(TEMPLATES, picks, const)
    tail = [["op", "sum", len(picks)]]
    compact = run_tensor_graph(tensor_engine, {"nodes": [*start, chain, *tail], "backward": [[len(picks) + 1, None]]})
    plain = run_tensor_graph(tensor_engine, {"nodes": written_out(start, TEMPLATES, picks, const, tail),
                                             "backward": [[len(picks) + 1, None]]})
    assert len(compact["data"]) == len(plain["data"]) == len(picks) + 2
    for key in ("data", "grad"):
        for got, want in zip(compact[key], plain[key]):
            assert (got is None and want is None) or np.array_equal(got, want)


def test_the_deep_specs_count_their_chain_nodes():
    spec = graph_specs.chain_spec(5_000)
    assert graph_specs.node_count(spec) == 5_001
    assert graph_specs.report_ends(spec)["report"] == [0, 5_000]
    assert graph_specs.node_count(graph_specs.tensor_chain_spec(7)) == 9  # leaf, 7 operations, sum


@pytest.mark.parametrize("chain, fragment", [
    (["chain", TEMPLATES, np.array([0, 1])], "items"),
    (["chain", [["pow", "c", "x"]], np.array([0]), np.array([2.0])], "template"),
    (["chain", [["add", "x"]], np.array([0]), np.array([2.0])], "template"),
    (["chain", [["tanh", "x", "c"]], np.array([0]), np.array([2.0])], "template"),
    (["chain", [["nosuch", "x"]], np.array([0]), np.array([2.0])], "template"),
    (["chain", TEMPLATES, np.array([0, 9]), np.array([1.0, 2.0])], "index"),
    (["chain", TEMPLATES, np.array([0, -1]), np.array([1.0, 2.0])], "index"),
    (["chain", TEMPLATES, np.array([0.5, 1.0]), np.array([1.0, 2.0])], "1-D"),
    (["chain", TEMPLATES, np.array([0, 1]), np.array([1.0])], "1-D"),
    (["chain", TEMPLATES, np.array([0, 1]), np.array([1.0, np.inf])], "finite"),
])
def test_a_malformed_chain_is_a_spec_error(chain, fragment):
    with pytest.raises(SpecError, match=fragment):
        run_value_graph(Value, {"nodes": [["leaf", 1.0], chain], "backward": [1]})


def test_a_chain_needs_a_node_before_it():
    chain = graph_specs.chain_entry(TEMPLATES, [0], [1.0])
    with pytest.raises(SpecError, match="chain"):
        run_value_graph(Value, {"nodes": [chain], "backward": [0]})
