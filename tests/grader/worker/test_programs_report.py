"""The graph programs' optional "report": answers for the listed nodes only, in the listed order,
equal to the same entries of the full answer; a bad index is the spec's mistake (SpecError) and
is found before any engine code runs."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference.tensor_engine as tensor_engine
from grader.checks import graph_specs
from grader.worker.in_process import InProcessTransport
from grader.worker.inside.programs import SpecError, run_program, run_tensor_graph, run_value_graph
from reference.scalar_engine import Value

TENSOR_FIELDS = ("data", "grad", "requires_grad", "is_leaf", "grad_fn")

VALUE_SPECS = {
    "micrograd": graph_specs.micrograd_example_spec,
    "shared node": graph_specs.shared_node_spec,
    "diamond": graph_specs.diamond_spec,
    "chain": lambda: graph_specs.chain_spec(40),
    "topological probe": lambda: graph_specs.topological_probe_spec(3),
    "zero grad between": lambda: {**graph_specs.shared_node_spec(), "backward": [6, 5, 6], "zero_grad_between": True},
    "two backward calls": lambda: {**graph_specs.diamond_spec(), "backward": [3, 1]},
}
TENSOR_SPECS = {
    "broadcast": graph_specs.tensor_broadcast_spec,
    "mlp": graph_specs.tensor_mlp_spec,
    "mlp mse": lambda: graph_specs.tensor_mlp_spec(loss="mse"),
    "explicit grad": graph_specs.tensor_explicit_grad_spec,
    "accumulation": graph_specs.tensor_accumulation_spec,
    "chain": lambda: graph_specs.tensor_chain_spec(30),
    "topological probe": graph_specs.tensor_topological_probe_spec,
}


def run_value(spec):
    return run_value_graph(Value, spec)


def run_tensor(spec):
    return run_tensor_graph(tensor_engine, spec)


def same_entry(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b))
    return type(a) is type(b) and a == b


def assert_picked(answer: dict, full: dict, report: list[int]) -> None:
    """`answer` holds, for every field of `full`, the entries at `report`, in that order."""
    assert set(answer) == set(full)
    for field, entries in full.items():
        assert len(answer[field]) == len(report), field
        for got, i in zip(answer[field], report):
            assert same_entry(got, entries[i]), (field, i, got, entries[i])


# ---------------------------------------------------------------- answers for the reported nodes


@pytest.mark.parametrize("name", sorted(VALUE_SPECS))
def test_value_graph_reports_the_listed_nodes_in_order(name):
    spec = VALUE_SPECS[name]()
    full = run_value(spec)
    size = len(full["data"])
    assert set(full) == {"data", "grad"} and len(full["grad"]) == size
    for report in ([size - 1, 0], [0], list(range(size))[::-1], [1, 1, 0, 1], []):
        assert_picked(run_value({**spec, "report": report}), full, report)


@pytest.mark.parametrize("name", sorted(TENSOR_SPECS))
def test_tensor_graph_reports_the_listed_nodes_in_order(name):
    spec = TENSOR_SPECS[name]()
    full = run_tensor(spec)
    size = len(full["data"])
    assert set(full) == set(TENSOR_FIELDS) and all(len(full[f]) == size for f in TENSOR_FIELDS)
    for report in ([size - 1, 0], [0], list(range(size))[::-1], [1, 1, 0, 1], []):
        assert_picked(run_tensor({**spec, "report": report}), full, report)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(VALUE_SPECS)), st.data())
def test_any_report_of_a_value_graph_picks_from_the_full_answer(name, data):
    spec = VALUE_SPECS[name]()
    full = run_value(spec)
    report = data.draw(st.lists(st.integers(0, len(full["data"]) - 1), max_size=12))
    assert_picked(run_value({**spec, "report": report}), full, report)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(TENSOR_SPECS)), st.data())
def test_any_report_of_a_tensor_graph_picks_from_the_full_answer(name, data):
    spec = TENSOR_SPECS[name]()
    full = run_tensor(spec)
    report = data.draw(st.lists(st.integers(0, len(full["data"]) - 1), max_size=12))
    assert_picked(run_tensor({**spec, "report": report}), full, report)


def test_report_accepts_numpy_ints_and_tuples():
    spec = graph_specs.diamond_spec()
    full = run_value(spec)
    assert_picked(run_value({**spec, "report": (np.int64(3), np.int32(0))}), full, [3, 0])


def test_run_program_passes_the_report_through():
    spec = graph_specs.tensor_accumulation_spec()
    assert_picked(run_program("tensor_graph", tensor_engine, {**spec, "report": [2, 0]}), run_tensor(spec), [2, 0])
    spec = graph_specs.reused_variable_spec()
    assert_picked(run_program("value_graph", {"Value": Value}, {**spec, "report": [3]}), run_value(spec), [3])


class Unreadable:
    """A minimal engine whose sums hold no number: reading such a node's answer is a TypeError."""

    def __init__(self, data, requires_grad=False):
        self.data, self.grad = data, 0.0

    def __add__(self, other):
        return type(self)(object())

    def backward(self, *grad):
        pass


def test_nodes_left_out_of_the_report_are_not_read():
    value_spec = {"nodes": [["leaf", 2.0], ["leaf", 3.0], ["op", "add", 0, 1]], "backward": [2]}
    with pytest.raises(TypeError, match="node 2"):
        run_value_graph(Unreadable, value_spec)
    assert run_value_graph(Unreadable, {**value_spec, "report": [1, 0]}) == {"data": [3.0, 2.0], "grad": [0.0, 0.0]}
    tensor_spec = {"nodes": [["leaf", [1.0, 2.0], True], ["op", "add", 0, 0]], "backward": [[1, None]]}
    with pytest.raises(TypeError, match="node 1"):
        run_tensor_graph({"Tensor": Unreadable}, tensor_spec)
    out = run_tensor_graph({"Tensor": Unreadable}, {**tensor_spec, "report": [0]})
    np.testing.assert_array_equal(out["data"][0], [1.0, 2.0])


# ---------------------------------------------------------------- report_ends on the deep chains


@pytest.mark.parametrize("depth", [1, 2, 7, 5_000])
def test_report_ends_answers_the_first_and_last_of_the_value_chain(depth):
    spec = graph_specs.chain_spec(depth)
    full = run_value(spec)
    ends = run_value(graph_specs.report_ends(spec))
    assert_picked(ends, full, [0, len(full["data"]) - 1])
    assert len(full["data"]) == depth + 1
    assert abs(ends["grad"][0]) == 1.0  # d(last)/d(first) is +-1 along the chain


@pytest.mark.parametrize("depth", [1, 2, 7, 5_000])
def test_report_ends_answers_the_first_and_last_of_the_tensor_chain(depth):
    spec = graph_specs.tensor_chain_spec(depth)
    full = run_tensor(spec)
    ends = run_tensor(graph_specs.report_ends(spec))
    assert_picked(ends, full, [0, len(full["data"]) - 1])
    assert len(full["data"]) == depth + 2  # the leaf, the chain, the sum
    assert ends["data"][1].shape == () and ends["grad"][0].shape == (2, 2)


def test_report_ends_leaves_the_spec_it_was_given_alone():
    spec = graph_specs.chain_spec(3)
    ends = graph_specs.report_ends(spec)
    assert "report" not in spec and ends["report"] == [0, 3]
    assert {key: value for key, value in ends.items() if key != "report"}.keys() == spec.keys()


def test_the_report_crosses_the_workers_handler():
    transport = InProcessTransport({"ex4": {"Value": Value}, "ex5": vars(tensor_engine)})
    value_spec = graph_specs.chain_spec(20)
    got = transport.request({"op": "program", "module": "ex4", "kind": "value_graph",
                             "spec": graph_specs.report_ends(value_spec)}, 5.0)
    full = run_value(value_spec)
    assert got == {"data": [full["data"][0], full["data"][-1]], "grad": [full["grad"][0], full["grad"][-1]]}
    tensor_spec = graph_specs.tensor_chain_spec(20)
    got = transport.request({"op": "program", "module": "ex5", "kind": "tensor_graph",
                             "spec": {**tensor_spec, "report": [21, 0, 21]}}, 5.0)
    assert_picked(got, run_tensor(tensor_spec), [21, 0, 21])


# ---------------------------------------------------------------- bad reports


BAD_REPORTS = [[-1], [4], [0, 99], [True], [1.0], ["0"], [None], [[0]], "0", 3, {"0": 0}, None]


class Untouchable:
    """An engine whose every use fails the test: a bad spec must be refused before it runs."""

    def __init__(self, *args, **kwargs):
        raise AssertionError("engine code ran for a malformed spec")


@pytest.mark.parametrize("report", BAD_REPORTS, ids=repr)
def test_a_bad_value_report_is_a_spec_error_before_the_engine_runs(report):
    spec = {**graph_specs.diamond_spec(), "report": report}  # 4 nodes
    with pytest.raises(SpecError, match="report"):
        run_value_graph(Untouchable, spec)
    with pytest.raises(SpecError, match="report"):
        run_value(spec)


@pytest.mark.parametrize("report", BAD_REPORTS, ids=repr)
def test_a_bad_tensor_report_is_a_spec_error_before_the_engine_runs(report):
    spec = {**graph_specs.tensor_accumulation_spec(), "report": report}  # 3 nodes
    with pytest.raises(SpecError, match="report"):
        run_tensor_graph({"Tensor": Untouchable}, spec)
    with pytest.raises(SpecError, match="report"):
        run_tensor(spec)


def test_the_last_index_counts_the_nodes_of_a_chain_entry():
    spec = graph_specs.chain_spec(5)  # 6 nodes, however the chain is written
    assert run_value({**spec, "report": [5]})["data"] == [run_value(spec)["data"][5]]
    with pytest.raises(SpecError, match="report"):
        run_value({**spec, "report": [6]})
    tensor_spec = graph_specs.tensor_chain_spec(5)  # 7 nodes
    run_tensor({**tensor_spec, "report": [6]})
    with pytest.raises(SpecError, match="report"):
        run_tensor({**tensor_spec, "report": [7]})
