"""Pipelined requests to the real sandboxed worker: `request_many` answers as one-at-a-time
`request` calls would, stops after the first request that stopped the worker, and never deadlocks
on requests or replies larger than the pipes.

The tests where the sandbox matters (a worker that is stopped, large pipes) run under both
sandboxes, as in test_client.py: "bwrap" (skipped where bubblewrap cannot run) and "none"; the
others only without bubblewrap, to keep the file fast.
"""
from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from grader.checks.base import CheckContext
from grader.errors import GraderError, StudentCodeError
from grader.results import GradingError
from grader.worker import sandbox as sb
from grader.worker.client import WorkerClient
from tests.grader.worker.workers import readable, sandboxes as _sandboxes

TIMEOUT = 10.0
SHORT = 0.5  # the timeout for code that never finishes
CONFIG = dict(memory_mb=512, max_processes=32, cpu_seconds=120)

STUDENT = '''
import os
import sys

import numpy as np


def add(a, b):
    return a + b


def echo(*items):
    return list(items)


def fails(message):
    raise ValueError(message)


def spin():
    while True:
        pass


def exit_with_sys():
    sys.exit(3)


def exit_with_os():
    os._exit(4)


def counter():
    global COUNT
    COUNT = globals().get("COUNT", 0) + 1
    return COUNT


def pid():
    return os.getpid()


def nap(seconds, answer):
    import time
    time.sleep(seconds)
    return answer
'''


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("staged")
    (folder / "ex_student.py").write_text(textwrap.dedent(STUDENT))
    (folder / "ex_other.py").write_text("def triple(x):\n    return 3 * x\n")
    (folder / "ex_loops_at_import.py").write_text("while True:\n    pass\n")
    cells = {"cells": [{"index": 0, "source": "def nb(x):\n    return -x"}]}
    (folder / "ex_notebook.cells.json").write_text(json.dumps(cells))
    return readable(folder)


@pytest.fixture(scope="module", params=_sandboxes())
def sandbox(request) -> str:
    return request.param


def _client(staged: Path, sandbox: str) -> WorkerClient:
    return WorkerClient(staged, config=sb.SandboxConfig(use_bwrap="on" if sandbox == "bwrap" else "off", **CONFIG))


@pytest.fixture
def client(staged, sandbox):
    """A fresh worker in each sandbox."""
    worker = _client(staged, sandbox)
    yield worker
    worker.close()


@pytest.fixture
def plain(staged):
    """A fresh worker without bubblewrap."""
    worker = _client(staged, "none")
    yield worker
    worker.close()


def header(name, *args, module="ex_student", **kwargs) -> dict:
    return {"op": "call", "module": module, "name": name, "args": list(args), "kwargs": kwargs}


def one_at_a_time(client, headers, timeout=TIMEOUT) -> list:
    out = []
    for h in headers:
        try:
            out.append((client.request(h, timeout), None))
        except (StudentCodeError, GraderError) as exc:
            out.append((None, exc))
    return out


def same_value(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and np.array_equal(a, b, equal_nan=True))
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return a == b


def same_error(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return (type(a) is type(b) and getattr(a, "status", None) == getattr(b, "status", None)
            and getattr(a, "event", None) == getattr(b, "event", None) and str(a) == str(b))


def assert_same_outcomes(got, expected) -> None:
    assert len(got) == len(expected)
    for i, ((value, error), (value_1, error_1)) in enumerate(zip(got, expected)):
        assert same_error(error, error_1), (i, error, error_1)
        assert same_value(value, value_1), (i, value, value_1)


# ---------------------------------------------------------------- answers


def test_many_calls_answer_as_one_at_a_time(plain):
    rng = np.random.default_rng(0)
    headers = []
    for k in range(60):
        x = rng.normal(size=(k % 5 + 1, 3))
        headers.append([header("add", x, float(k)), header("echo", k, (k, "s"), {"k": [x]}),
                        header("fails", f"number {k}"), header("nope"),
                        header("add", 1, "x"), header("triple", k, module="ex_other")][k % 6])
    piped = plain.request_many(headers, TIMEOUT)
    assert_same_outcomes(piped, one_at_a_time(plain, headers))
    errors = [error for _, error in piped if error is not None]
    assert len(errors) == 30 and all(isinstance(e, StudentCodeError) for e in errors)
    assert {e.status for e in errors} == {"error", "missing"}
    assert piped[2][1].message.startswith("ValueError: number 2")
    assert piped[-1] == (177, None)  # later calls still answer after errors in the middle
    assert plain.starts == 1 and plain.events == []


def test_calls_run_in_order_on_one_worker(plain):
    first = plain.request(header("counter"), TIMEOUT)
    piped = plain.request_many([header("counter") for _ in range(20)] + [header("pid")] * 3, TIMEOUT)
    assert [value for value, _ in piped[:20]] == list(range(first + 1, first + 21))
    assert len({value for value, _ in piped[20:]}) == 1
    assert plain.starts == 1


def test_a_plain_request_after_request_many_gets_its_own_reply(plain):
    for size in (1, 2, 7):
        piped = plain.request_many([header("add", k, 0.5) for k in range(size)], TIMEOUT)
        assert piped == [(k + 0.5, None) for k in range(size)]
        assert plain.request(header("add", 100, size), TIMEOUT) == 100 + size
    assert plain.request_many([], TIMEOUT) == []
    assert plain.request(header("echo", "last"), TIMEOUT) == ["last"]
    assert plain.events == [] and plain.starts == 1


def test_modules_are_loaded_before_the_pipeline_and_notebooks_work(plain):
    piped = plain.request_many([header("nb", 2, module="ex_notebook"), header("triple", 2, module="ex_other"),
                                 header("add", 2, 2)], TIMEOUT)
    assert piped == [(-2, None), (6, None), (4, None)]


# ---------------------------------------------------------------- a request that stops the worker


def test_a_timeout_in_the_middle_ends_the_answers_and_the_next_request_restarts(client):
    client.start()
    starts = client.starts
    headers = [header("add", 1, 2), header("fails", "before"), header("spin"), header("add", 3, 4),
               header("add", 5, 6)]
    began = time.monotonic()
    piped = client.request_many(headers, SHORT)
    assert time.monotonic() - began < SHORT + 3
    assert len(piped) == 3  # a prefix: the rest was never answered
    assert piped[0] == (3, None)
    assert piped[1][1].status == "error" and "before" in piped[1][1].message
    value, error = piped[2]
    assert value is None and isinstance(error, StudentCodeError)
    assert error.status == "timeout" and error.event == "timeout"
    assert client.events == [GradingError("timeout", error.message, "ex_student")]
    assert client.worker_pid is None  # stopped, not left spinning
    assert client.request(header("add", 3, 4), TIMEOUT) == 7
    assert client.starts == starts + 1
    assert client.request_many(headers[3:], TIMEOUT) == [(7, None), (11, None)]
    assert len(client.events) == 1 and client.starts == starts + 1


def test_each_reply_gets_its_timeout_from_when_the_worker_could_start_it(plain):
    # three naps of 0.2 s, each well within 0.5 s; the third reply comes 0.6 s after all were sent
    piped = plain.request_many([header("nap", 0.2, k) for k in range(3)], SHORT)
    assert piped == [(k, None) for k in range(3)]
    assert plain.events == []


@pytest.mark.parametrize("name, status", [("exit_with_os", "status 4"), ("exit_with_sys", "status 3")])
def test_a_worker_that_exits_in_the_middle_ends_the_answers(client, name, status):
    client.start()
    starts = client.starts
    piped = client.request_many([header("add", 1, 1), header(name), header("add", 2, 2), header("add", 3, 3)],
                                TIMEOUT)
    assert len(piped) == 2 and piped[0] == (2, None)
    value, error = piped[1]
    assert value is None and isinstance(error, StudentCodeError)
    assert error.status == "error" and error.event == "crash" and status in error.message
    assert [e.kind for e in client.events] == ["crash"]
    assert client.request_many([header("add", 2, 2), header("add", 3, 3)], TIMEOUT) == [(4, None), (6, None)]
    assert client.starts == starts + 1


def test_the_answers_match_one_at_a_time_up_to_the_stop(staged):
    config = sb.SandboxConfig(use_bwrap="off", **CONFIG)
    headers = [header("add", k, k) for k in range(5)] + [header("exit_with_os")] + [header("add", 9, 9)]
    with WorkerClient(staged, config=config) as piped_client, WorkerClient(staged, config=config) as single:
        piped = piped_client.request_many(headers, TIMEOUT)
        expected = one_at_a_time(single, headers[:len(piped)])
        assert len(piped) == 6
        assert_same_outcomes(piped, expected)
        assert piped_client.events == single.events


# ---------------------------------------------------------------- loading, and when request_many declines


def test_loads_and_failed_modules_are_left_to_request(plain):
    assert plain.request_many([{"op": "load", "module": "ex_other"}, header("add", 1, 1)], TIMEOUT) == []
    with pytest.raises(StudentCodeError) as caught:
        plain.request({"op": "load", "module": "ex_loops_at_import"}, SHORT)
    assert caught.value.status == "timeout"
    began = time.monotonic()
    assert plain.request_many([header("add", 1, 1), header("f", module="ex_loops_at_import")], SHORT) == []
    assert time.monotonic() - began < 0.5  # the poisoned module is not run again
    assert plain.request_many([header("add", 1, 1), header("add", 2, 2)], TIMEOUT) == [(2, None), (4, None)]
    assert len(plain.events) == 1


def test_a_module_that_hangs_at_import_costs_one_timeout(plain):
    piped = plain.request_many([header("f", module="ex_loops_at_import"), header("add", 1, 1)], SHORT)
    assert piped == []
    with pytest.raises(StudentCodeError) as caught:
        plain.request(header("f", module="ex_loops_at_import"), SHORT)
    assert caught.value.status == "timeout"
    assert [e.kind for e in plain.events] == ["timeout"]


def test_bad_arguments_are_refused_before_anything_is_sent(plain):
    with pytest.raises(ValueError, match="timeout"):
        plain.request_many([header("add", 1, 1)], 0)
    with pytest.raises(ValueError, match="'op'"):
        plain.request_many([header("add", 1, 1), {"name": "add"}], TIMEOUT)
    with pytest.raises(ValueError, match="not plain data"):
        plain.request_many([header("counter"), header("echo", object())], TIMEOUT)
    assert plain.request(header("counter"), TIMEOUT) == 1  # the first request was not sent either


def test_a_client_without_a_submission_refuses():
    client = WorkerClient(config=sb.SandboxConfig(use_bwrap="off", **CONFIG))
    try:
        with pytest.raises(GraderError, match="attach"):
            client.request_many([header("add", 1, 1)], TIMEOUT)
    finally:
        client.close()


# ---------------------------------------------------------------- larger than the pipes


def test_requests_and_replies_larger_than_the_pipes_do_not_deadlock(client):
    rng = np.random.default_rng(2)
    big = [rng.normal(size=500_000) for _ in range(3)]  # 4 MB each, several times a pipe
    medium = [rng.normal(size=40_000) for _ in range(40)]  # 320 KB each, 12.8 MB together
    small = [rng.normal(size=3) for _ in range(40)]
    arrays = [big[0], *medium[:20], big[1], *small, *medium[20:], big[2]]
    headers = [header("add", x, 0.0) if k % 2 else header("echo", x, k) for k, x in enumerate(arrays)]
    began = time.monotonic()
    piped = client.request_many(headers, TIMEOUT)
    assert time.monotonic() - began < TIMEOUT
    assert len(piped) == len(arrays)
    for k, ((value, error), x) in enumerate(zip(piped, arrays)):
        assert error is None
        if k % 2:
            np.testing.assert_array_equal(value, x)
        else:
            assert value[1] == k
            np.testing.assert_array_equal(value[0], x)
    assert client.starts == 1
    assert client.request(header("add", 1, 2), TIMEOUT) == 3


def test_a_timeout_behind_large_requests_is_still_reported(plain):
    x = np.ones(300_000)  # 2.4 MB
    piped = plain.request_many([header("add", x, 1.0), header("add", x, 2.0), header("spin"),
                                 header("add", x, 3.0)], SHORT)
    assert len(piped) == 3
    np.testing.assert_array_equal(piped[1][0], x + 2.0)
    assert piped[2][1].status == "timeout"


# ---------------------------------------------------------------- through CheckContext.call_all


def test_call_all_over_the_worker_matches_calls_one_at_a_time(plain):
    ctx = CheckContext(exercise="ex_student", transport=plain, timeout=SHORT)
    calls = [("add", (1, 2), {}), ("spin", (), {}), ("add", (3, 4), {}), ("fails", ("x",), {}), ("spin", (), {}),
             ("add", (np.arange(3.0), 1.0), {})]
    outcomes = ctx.call_all(calls)
    assert len(outcomes) == len(calls)
    assert outcomes[0].get() == 3 and outcomes[2].get() == 7
    np.testing.assert_array_equal(outcomes[5].get(), np.arange(3.0) + 1.0)
    for k, words in [(1, "did not finish"), (3, "ValueError: x"), (4, "earlier check")]:
        with pytest.raises(StudentCodeError, match=words):
            outcomes[k].get()
    assert outcomes[1].error.status == "timeout" and outcomes[4].error.status == "timeout"
    assert ctx.timed_out == {"spin"}
    assert ctx.calls == 5  # the second spin was not sent
    assert [e.kind for e in plain.events] == ["timeout"]
