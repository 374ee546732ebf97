"""The reply schema alone: whatever a reply holds, what passes is plain bounded data, and what
does not is a MalformedReplyError (the student's malformed answer), never another exception."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.worker import reply_schema as rs
from grader.worker.in_process import InProcessTransport

# what a decoded reply may hold: JSON data with NaN and inf, long strings, huge ints, arrays
scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50)
           | st.just("x" * 30_000) | st.sampled_from(sorted(rs.EVENTS | set(rs.FAILURE_STATUSES) | {"grader"}))
           | st.just(np.zeros(3)))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=6)
                      | st.dictionaries(st.text(max_size=12) | st.sampled_from(["index", "line", "kind", "message"]),
                                        inner, max_size=6), max_leaves=30)
failures = st.fixed_dictionaries({"ok": st.just(False), "kind": values, "message": values},
                                 optional={"event": values, "traceback": values})
cell_errors = st.fixed_dictionaries({}, optional={"index": values, "line": values, "kind": values, "type": values,
                                                  "message": values, "traceback": values})
loads = st.fixed_dictionaries({"ok": st.just(True),
                               "value": st.fixed_dictionaries({}, optional={"defined": values | st.lists(st.text()),
                                                                            "cell_errors": st.lists(cell_errors | values,
                                                                                                    max_size=70)})})


def strict_json(value) -> str:
    return json.dumps(value, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(failures)
def test_a_failure_is_checked_into_closed_sets_and_bounded_text(reply):
    try:
        failure = rs.check_reply({"op": "call"}, reply)
    except rs.MalformedReplyError:
        return
    assert isinstance(failure, rs.Failure)
    assert failure.status in {"missing", "blocked", "error"} and failure.event in rs.EVENTS | {None}
    assert len(failure.message) <= rs.MAX_MESSAGE_CHARS and len(failure.traceback) <= rs.MAX_TRACEBACK_CHARS
    strict_json([failure.status, failure.message, failure.event, failure.traceback])


@settings(max_examples=300, deadline=None)
@given(loads)
def test_a_load_result_is_bounded_plain_data(reply):
    try:
        value = rs.check_reply({"op": "load"}, reply)
    except rs.MalformedReplyError:
        return
    assert len(value["cell_errors"]) <= rs.MAX_CELL_ERRORS
    assert value["cell_errors_omitted"] == max(0, len(reply["value"].get("cell_errors", [])) - rs.MAX_CELL_ERRORS)
    assert all(name.isidentifier() for name in value["defined"])
    for cell in value["cell_errors"]:
        [place] = [key for key in ("index", "line") if key in cell]
        assert type(cell[place]) is int and 0 <= cell[place] <= rs.MAX_POSITION
        assert cell["kind"] in rs.CELL_ERROR_KINDS
    strict_json(value)


@settings(max_examples=200, deadline=None)
@given(values)
def test_any_reply_is_checked_or_refused_as_malformed(reply):
    for header in ({"op": "call"}, {"op": "load"}, {"op": "program", "kind": "tensor_graph"},
                   {"op": "call", "return_args": True}, {"op": "ping"}):
        try:
            rs.check_reply(header, reply)
        except rs.MalformedReplyError:
            pass


@given(st.text(max_size=300), st.integers(min_value=len(rs.TRUNCATED), max_value=200))
def test_bounded_text_is_cut_with_a_marker(text, limit):
    cut = rs.bounded(text, limit)
    assert len(cut) <= limit
    assert cut == text if len(text) <= limit else cut.endswith(rs.TRUNCATED)


@pytest.mark.parametrize("kind", ["grader", "", None, "timeout"])
def test_failure_kinds_outside_the_closed_set_are_malformed(kind):
    with pytest.raises(rs.MalformedReplyError):
        rs.check_reply({"op": "call"}, {"ok": False, "kind": kind, "message": "m"})


def test_the_honest_handlers_replies_pass_unchanged():
    def broken():
        raise ValueError("no")

    namespace = {"f": lambda x: x * 2, "broken": broken}
    transport = InProcessTransport({"ex": namespace})
    assert transport.request({"op": "load", "module": "ex"}) == {"defined": ["broken", "f"], "cell_errors": [],
                                                                 "cell_errors_omitted": 0}
    assert transport.request({"op": "call", "module": "ex", "name": "f", "args": [21], "kwargs": {}}) == 42


def test_program_results_keep_their_shape_or_are_malformed():
    good = {"data": [1.0, 2.0], "grad": [0.5, 1]}
    assert rs.check_reply({"op": "program", "kind": "value_graph"}, {"ok": True, "value": good}) is good
    for bad in ({"data": [1.0]}, {"data": [1.0], "grad": []}, {"data": ["x"], "grad": [1.0]}, "value"):
        with pytest.raises(rs.MalformedReplyError):
            rs.check_reply({"op": "program", "kind": "value_graph"}, {"ok": True, "value": bad})
