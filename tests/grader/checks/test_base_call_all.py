"""`CheckContext.call_all`: independent calls sent together give the outcomes of calling one at a
time, whether the transport pipelines (`request_many`) or not; a function that hung is not called
again; errors wait in `Outcome.get()`."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.checks.base import CheckContext, Outcome
from grader.errors import StudentCodeError
from grader.worker.in_process import InProcessTransport

EXERCISE = "ex_calls"
STOPS_THE_WORKER = ("timeout", "crash", "memory")


def _hang(*args):
    raise StudentCodeError("timeout", "hang did not finish within the time", event="timeout")


def _crash(*args):
    raise StudentCodeError("error", "the worker exited with status 4 during crash", event="crash")


def _fail(*args):
    raise StudentCodeError("error", f"ValueError: bad {args!r}")


def _missing(*args):
    raise StudentCodeError("missing", "nothing is defined under that name")


BEHAVIOUR = {"double": lambda x: 2 * x, "echo": lambda *a: list(a), "fail": _fail, "hang": _hang,
             "slow": _hang, "crash": _crash, "absent": _missing}


class OneAtATime:
    """A transport with `request` only, answering from BEHAVIOUR; records what reached it."""

    def __init__(self):
        self.sent: list[tuple[str, tuple, float]] = []

    def request(self, header, timeout):
        assert header["op"] == "call" and header["module"] == EXERCISE
        self.sent.append((header["name"], tuple(header["args"]), timeout))
        return BEHAVIOUR[header["name"]](*header["args"], **header["kwargs"])


class Pipelined(OneAtATime):
    """Also `request_many`, as WorkerClient answers it: outcomes in order up to the first request that
    stopped the worker; `declines` makes it answer nothing (as for a load or a failed module)."""

    def __init__(self, declines=False):
        super().__init__()
        self.declines = declines
        self.batches: list[list[str]] = []

    def request_many(self, headers, timeout):
        self.batches.append([h.get("name") for h in headers])
        if self.declines:
            return []
        out = []
        for header in headers:
            try:
                out.append((self.request(header, timeout), None))
            except StudentCodeError as exc:
                out.append((None, exc))
                if exc.event in STOPS_THE_WORKER:
                    break
        return out


def context(transport, timed_out=(), timeout=2.0) -> CheckContext:
    return CheckContext(exercise=EXERCISE, transport=transport, timeout=timeout, timed_out=set(timed_out))


def one_by_one(ctx: CheckContext, calls, timeout=None) -> list[Outcome]:
    """The outcomes of `ctx.call` for each call in turn: what call_all must equal."""
    out = []
    for name, args, kwargs in calls:
        try:
            out.append(Outcome(ctx.call(name, *args, timeout=timeout, **kwargs)))
        except StudentCodeError as exc:
            out.append(Outcome(error=exc))
    return out


def same_outcome(a: Outcome, b: Outcome) -> bool:
    if (a.error is None) != (b.error is None):
        return False
    if a.error is not None:
        return (type(a.error) is type(b.error) and a.error.status == b.error.status
                and a.error.event == b.error.event and a.error.message == b.error.message)
    if isinstance(a.value, np.ndarray) or isinstance(b.value, np.ndarray):
        return np.array_equal(a.value, b.value) and np.asarray(a.value).dtype == np.asarray(b.value).dtype
    return type(a.value) is type(b.value) and a.value == b.value


def assert_same(got, expected) -> None:
    assert len(got) == len(expected)
    for i, (a, b) in enumerate(zip(got, expected)):
        assert same_outcome(a, b), (i, a, b)


# ---------------------------------------------------------------- Outcome


def test_outcome_get_returns_the_value_or_raises_the_error():
    assert Outcome(3).get() == 3 and Outcome().get() is None
    error = StudentCodeError("error", "ValueError: x")
    with pytest.raises(StudentCodeError) as caught:
        Outcome(error=error).get()
    assert caught.value is error
    with pytest.raises(AttributeError):
        Outcome(1).value = 2  # frozen


# ---------------------------------------------------------------- fakes: same outcomes either way


calls_strategy = st.lists(st.tuples(st.sampled_from(sorted(BEHAVIOUR)), st.integers(-3, 3)), max_size=12)


@settings(max_examples=200, deadline=None)
@given(calls_strategy, st.sets(st.sampled_from(["hang", "double", "slow"])), st.sampled_from([None, 0.5]))
def test_call_all_equals_calling_one_at_a_time(raw, hung_before, timeout):
    calls = [(name, (x,), {}) for name, x in raw]
    expected_transport = OneAtATime()
    expected_ctx = context(expected_transport, hung_before)
    expected = one_by_one(expected_ctx, calls, timeout)
    for transport in (OneAtATime(), Pipelined(), Pipelined(declines=True)):
        ctx = context(transport, hung_before)
        got = ctx.call_all(calls, timeout=timeout)
        assert_same(got, expected)
        assert ctx.calls == expected_ctx.calls  # only what reached the transport counts
        assert ctx.timed_out == expected_ctx.timed_out
        assert transport.sent == expected_transport.sent  # the same calls ran, in the same order, same limits


def test_a_pipelined_transport_gets_the_calls_together():
    transport = Pipelined()
    ctx = context(transport)
    outcomes = ctx.call_all([("double", (k,), {}) for k in range(5)] + [("echo", (1, "a"), {})])
    assert [o.get() for o in outcomes] == [0, 2, 4, 6, 8, [1, "a"]]
    assert transport.batches == [["double"] * 5 + ["echo"]]
    assert ctx.calls == 6


def test_after_a_timeout_the_rest_runs_one_at_a_time_and_the_hung_name_is_skipped():
    transport = Pipelined()
    ctx = context(transport, timeout=1.5)
    calls = [("double", (1,), {}), ("hang", (0,), {}), ("double", (2,), {}), ("hang", (1,), {}),
             ("fail", (3,), {}), ("double", (4,), {})]
    outcomes = ctx.call_all(calls)
    assert transport.batches == [["double", "hang", "double", "hang", "fail", "double"]]
    assert [name for name, _, _ in transport.sent] == ["double", "hang", "double", "fail", "double"]
    assert {timeout for _, _, timeout in transport.sent} == {1.5}
    assert outcomes[0].get() == 2 and outcomes[2].get() == 4 and outcomes[5].get() == 8
    assert outcomes[1].error.event == "timeout"
    assert outcomes[3].error.status == "timeout" and outcomes[3].error.event is None  # not run: no second event
    assert "earlier check" in outcomes[3].error.message
    assert outcomes[4].error.message.startswith("ValueError")
    assert ctx.timed_out == {"hang"} and ctx.calls == 5


def test_names_that_hung_before_are_not_sent_at_all():
    transport = Pipelined()
    ctx = context(transport, timed_out={"slow"})
    outcomes = ctx.call_all([("double", (1,), {}), ("double", (2,), {}), ("slow", (0,), {}), ("double", (3,), {})])
    assert transport.batches == [["double", "double"]]  # the leading calls not known to hang
    assert [name for name, _, _ in transport.sent] == ["double", "double", "double"]
    assert [o.error is None for o in outcomes] == [True, True, False, True]
    assert "earlier check" in outcomes[2].error.message and ctx.calls == 3


def test_a_crash_in_the_pipeline_leaves_the_rest_to_one_at_a_time_calls():
    transport = Pipelined()
    ctx = context(transport)
    outcomes = ctx.call_all([("double", (1,), {}), ("crash", (0,), {}), ("double", (2,), {}), ("crash", (0,), {})])
    assert transport.batches == [["double", "crash", "double", "crash"]]
    assert [name for name, _, _ in transport.sent] == ["double", "crash", "double", "crash"]
    assert outcomes[2].get() == 4
    assert outcomes[1].error.event == outcomes[3].error.event == "crash"
    assert ctx.timed_out == set() and ctx.calls == 4


def test_one_call_and_no_calls():
    transport = Pipelined()
    ctx = context(transport)
    assert ctx.call_all([]) == []
    assert ctx.call_all([("double", (4,), {})])[0].get() == 8
    assert transport.batches == [] and ctx.calls == 1  # a single call needs no pipeline


def test_student_errors_are_raised_by_get_only():
    ctx = context(Pipelined())
    outcomes = ctx.call_all([("fail", (1,), {}), ("absent", (2,), {}), ("hang", (3,), {}), ("double", (4,), {})])
    assert [type(o.error) for o in outcomes[:3]] == [StudentCodeError] * 3
    for outcome, status in zip(outcomes[:3], ["error", "missing", "timeout"]):
        assert outcome.value is None
        with pytest.raises(StudentCodeError) as caught:
            outcome.get()
        assert caught.value is outcome.error and caught.value.status == status
    assert outcomes[3].get() == 8


def test_a_per_call_timeout_overrides_the_contexts():
    transport = Pipelined()
    ctx = context(transport, timeout=9.0)
    ctx.call_all([("double", (1,), {}), ("double", (2,), {})], timeout=0.25)
    ctx.call_all([("double", (1,), {}), ("double", (2,), {})])
    assert [timeout for _, _, timeout in transport.sent] == [0.25, 0.25, 9.0, 9.0]


# ---------------------------------------------------------------- the real in-process transport


def namespace() -> dict:
    def scale(x, factor=2.0):
        return x * factor

    def divide(a, b):
        return a / b

    def pair(a, b):
        return (a, [b, {"sum": a + b}])

    return {"scale": scale, "divide": divide, "pair": pair}


class InProcessPipelined(InProcessTransport):
    """The in-process transport with `request_many`: each request still goes through the handler
    and the wire format, one after the other."""

    def __init__(self, namespaces):
        super().__init__(namespaces)
        self.batches = []

    def request_many(self, headers, timeout):
        self.batches.append(len(headers))
        out = []
        for header in headers:
            try:
                out.append((self.request(header, timeout), None))
            except StudentCodeError as exc:
                out.append((None, exc))
        return out


IN_PROCESS_CALLS = [
    ("scale", (np.arange(4.0),), {}),
    ("scale", (np.arange(3),), {"factor": 3}),
    ("divide", (1.0, 0.0), {}),  # ZeroDivisionError in the middle
    ("missing_function", (1,), {}),
    ("pair", (1, 2), {}),
    ("divide", (np.ones(2), np.array([2.0, 4.0])), {}),
    ("scale", ("ab",), {"factor": 2}),
]


def test_in_process_call_all_equals_one_at_a_time_with_and_without_request_many():
    plain_ctx = CheckContext(exercise=EXERCISE, transport=InProcessTransport({EXERCISE: namespace()}))
    expected = one_by_one(plain_ctx, IN_PROCESS_CALLS)
    assert expected[2].error.status == "error" and "ZeroDivisionError" in expected[2].error.message
    assert expected[3].error.status == "missing"
    assert expected[4].value == (1, [2, {"sum": 3}])
    pipelined = InProcessPipelined({EXERCISE: namespace()})
    for transport in (InProcessTransport({EXERCISE: namespace()}), pipelined):
        ctx = CheckContext(exercise=EXERCISE, transport=transport)
        got = ctx.call_all(IN_PROCESS_CALLS)
        assert_same(got, expected)
        assert ctx.calls == plain_ctx.calls == len(IN_PROCESS_CALLS)
        assert ctx.timed_out == set()
    assert pipelined.batches == [len(IN_PROCESS_CALLS)]


def test_in_process_arguments_are_sent_as_given():
    ctx = CheckContext(exercise=EXERCISE, transport=InProcessPipelined({EXERCISE: namespace()}))
    x = np.arange(3.0)
    outcomes = ctx.call_all([("scale", (x,), {"factor": -1.0}), ("pair", ("a",), {"b": "b"})])
    np.testing.assert_array_equal(outcomes[0].get(), -x)
    assert outcomes[1].get() == ("a", ["b", {"sum": "ab"}])
    np.testing.assert_array_equal(x, np.arange(3.0))  # the grader's array is untouched


# ---------------------------------------------------------------- program_all


class Programs(Pipelined):
    """Answers `program` requests: a spec's "n" doubled, or a timeout for a spec that hangs."""

    def request(self, header, timeout):
        assert header["op"] == "program" and header["module"] == EXERCISE
        self.sent.append((header["kind"], header["spec"]["n"], timeout))
        if header["spec"].get("hang"):
            raise StudentCodeError("timeout", f"the {header['kind']} program did not finish", event="timeout")
        return 2 * header["spec"]["n"]

    def request_many(self, headers, timeout):
        out = super().request_many(headers, timeout)
        self.batches[-1] = [h["spec"]["n"] for h in headers]
        return out


@pytest.mark.parametrize("pipelined", [False, True])
def test_program_all_sends_specs_as_call_all_sends_calls(pipelined):
    transport = Programs()
    if not pipelined:
        transport.request_many = None  # as a transport without request_many
    ctx = context(transport)
    specs = [{"n": 1}, {"n": 2}, {"n": 3, "hang": True}, {"n": 4}]
    outcomes = ctx.program_all("value_graph", specs)
    assert [o.value for o in outcomes[:2]] == [2, 4]
    assert outcomes[2].error.event == "timeout"
    assert outcomes[3].error.status == "timeout" and "earlier check" in outcomes[3].error.message
    assert [n for _, n, _ in transport.sent] == [1, 2, 3]
    assert ctx.timed_out == {"value_graph"} and ctx.calls == 3
    assert [o.get() for o in ctx.program_all("tensor_graph", [{"n": 5}, {"n": 6}])] == [10, 12]
    assert transport.batches == ([[1, 2, 3, 4], [5, 6]] if pipelined else [])
