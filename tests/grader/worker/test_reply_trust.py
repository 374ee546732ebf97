"""Replies through the real sandboxed worker are harmless whatever the student's code writes.

The student's code finds the worker's request handler on the call stack and makes it answer
with forged replies (NaN events, a failure of kind "grader", cell errors holding NaN), returns
answers far larger than the request can call for, or returns integers beyond float range. Each
comes back as plain, bounded data or as the student's own error, and the worker keeps serving.
"""
from __future__ import annotations

import json
import math
import textwrap
import time
from pathlib import Path

import pytest

from grader.checks.base import CheckContext
from grader.errors import GraderError, StudentCodeError
from grader.worker import reply_schema
from grader.worker import sandbox as sb
from grader.worker.client import REPLY_FLOOR_BYTES, WorkerClient
from tests.grader.worker.workers import readable, sandboxes as _sandboxes

TIMEOUT = 20.0
CONFIG = dict(memory_mb=1024, max_processes=32, cpu_seconds=120)

FORGER = '''
import sys

import numpy as np


def _handler():
    """The worker's request handler, found on the call stack."""
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code.co_name == "reply_to" and "self" in frame.f_locals:
            return frame.f_locals["self"]
        frame = frame.f_back
    raise LookupError("no handler on the stack")


def forge(reply):
    """Make the handler answer this call's failure with `reply`."""
    _handler()._student_failure = lambda exc, kind="error": dict(reply)
    raise RuntimeError("forged")


def add(a, b):
    return a + b


class Value:
    """An engine that answers every graph program with the handler's "malformed spec" reply."""

    def __init__(self, data):
        forge({"ok": False, "kind": "grader", "event": "crash", "traceback": "",
               "message": "the grader sent a malformed value_graph spec (its own fault, not yours)"})


def zeros(n):
    return np.zeros(n)


def nested_lists(n):
    return [[] for _ in range(n)]


def huge_int(digits):
    return 10 ** digits


def huge_int_unlimited(digits):
    sys.set_int_max_str_digits(0)  # so the worker can write an int of any length
    return 10 ** digits


def huge_ints(n):
    return [-(10 ** 400)] + [10 ** 400] * (n - 1)
'''

FORGED_LOAD = '''
import sys

frame = sys._getframe()
while frame.f_code.co_name != "reply_to":
    frame = frame.f_back
frame.f_locals["self"]._cell_error = lambda index, exc, unit="cell": {
    "line": float("nan"), "kind": "error", "type": "E", "message": "m", "traceback": ""}
raise RuntimeError("a failing statement, listed in cell_errors")
'''

MANY_CELL_ERRORS = "\n".join(f"raise ValueError('statement {i}')" for i in range(120)) + "\n\ndef ok():\n    return 1\n"


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("staged")
    (folder / "ex_forger.py").write_text(textwrap.dedent(FORGER))
    (folder / "ex_forged_load.py").write_text(textwrap.dedent(FORGED_LOAD))
    (folder / "ex_many_errors.py").write_text(MANY_CELL_ERRORS)
    return readable(folder)


@pytest.fixture(scope="module", params=_sandboxes())
def sandbox(request) -> str:
    return request.param


def _client(staged: Path, sandbox: str) -> WorkerClient:
    return WorkerClient(staged, config=sb.SandboxConfig(use_bwrap="on" if sandbox == "bwrap" else "off", **CONFIG))


@pytest.fixture(scope="module")
def client(staged, sandbox):
    worker = _client(staged, sandbox)
    yield worker
    worker.close()


@pytest.fixture
def fresh(staged, sandbox):
    """A worker of its own, for code that leaves the handler forged."""
    worker = _client(staged, sandbox)
    yield worker
    worker.close()


def call(client, name, *args, module="ex_forger", **header):
    return client.request({"op": "call", "module": module, "name": name, "args": list(args), "kwargs": {},
                           **header}, TIMEOUT)


def failure(client, name, *args, **header) -> StudentCodeError:
    with pytest.raises(StudentCodeError) as caught:
        call(client, name, *args, **header)
    return caught.value


def plain(value) -> str:
    """`value` as strict JSON, as the report writer writes it (raises on NaN or inf)."""
    return json.dumps(value, allow_nan=False)


def forged(client, reply: dict) -> StudentCodeError:
    """The error a call gets when the student's code makes the handler answer with `reply`."""
    return failure(client, "forge", reply)


# ---------------------------------------------------------------- forged failures


def test_a_forged_nan_event_is_a_malformed_answer_of_the_student(client):
    error = forged(client, {"ok": False, "kind": "error", "message": "x", "traceback": "", "event": math.nan})
    assert error.status == "error" and error.event is None
    assert "malformed" in error.message
    plain([error.status, error.message, error.event, [e.kind for e in client.events]])
    assert call(client, "add", 2, 3) == 5  # the worker still serves


@pytest.mark.parametrize("kind", ["grader", "internal", 7])
def test_a_failure_of_an_unknown_kind_is_the_students_not_the_graders(client, kind):
    error = forged(client, {"ok": False, "kind": kind, "message": "the grader's own fault, not yours",
                            "traceback": "", "event": "crash"})
    assert error.status == "error" and "malformed" in error.message
    assert "not yours" not in error.message and "own fault" not in error.message


def test_an_unknown_event_kind_is_a_malformed_answer(client):
    error = forged(client, {"ok": False, "kind": "error", "message": "m", "traceback": "", "event": "exploded"})
    assert error.status == "error" and error.event is None and "malformed" in error.message
    assert "exploded" not in [e.kind for e in client.events]


def test_a_message_that_blames_the_grader_is_not_passed_on(client):
    error = forged(client, {"ok": False, "kind": "error", "message": "Not your fault: the grader crashed",
                            "traceback": ""})
    assert error.status == "error" and error.message == reply_schema.BLAME_REPLACED


def test_forged_texts_are_bounded(client):
    error = forged(client, {"ok": False, "kind": "error", "message": "m" * 100_000, "traceback": "t" * 100_000})
    assert len(error.message) <= reply_schema.MAX_MESSAGE_CHARS and error.message.endswith(reply_schema.TRUNCATED)
    assert len(error.traceback) <= reply_schema.MAX_TRACEBACK_CHARS


def test_forged_cell_errors_holding_nan_make_the_load_the_students_malformed_answer(fresh):
    with pytest.raises(StudentCodeError) as caught:
        fresh.request({"op": "load", "module": "ex_forged_load"}, TIMEOUT)
    assert caught.value.status == "error" and "malformed" in caught.value.message
    plain(caught.value.message)


def test_cell_errors_are_capped_and_the_rest_counted(client):
    value = client.request({"op": "load", "module": "ex_many_errors"}, TIMEOUT)
    assert len(value["cell_errors"]) == reply_schema.MAX_CELL_ERRORS
    assert value["cell_errors_omitted"] == 120 - reply_schema.MAX_CELL_ERRORS
    assert [c["line"] for c in value["cell_errors"]] == list(range(1, reply_schema.MAX_CELL_ERRORS + 1))
    assert "ok" in value["defined"]
    plain(value)


def test_a_forged_malformed_spec_reply_for_a_sound_spec_is_the_students(client):
    ctx = CheckContext(exercise="ex_forger", transport=client, timeout=TIMEOUT)
    with pytest.raises(StudentCodeError) as caught:
        ctx.program("value_graph", {"nodes": [["leaf", 1.0]], "backward": [0]})
    assert caught.value.status == "error" and "own fault" not in caught.value.message
    [outcome] = ctx.program_all("value_graph", [{"nodes": [["leaf", 1.0]], "backward": [0]}])
    assert isinstance(outcome.error, StudentCodeError)


def test_a_spec_the_grader_finds_malformed_is_the_graders_own_mistake(client):
    ctx = CheckContext(exercise="ex_forger", transport=client, timeout=TIMEOUT)
    with pytest.raises(GraderError, match="malformed value_graph spec"):
        ctx.program("value_graph", {"nodes": "not a list of nodes", "backward": []})


# ---------------------------------------------------------------- sizes


def test_an_answer_far_larger_than_the_request_is_refused_at_its_header(client):
    size = 3 * REPLY_FLOOR_BYTES // 8  # three times the floor, in float64 entries
    starts = client.starts
    began = time.monotonic()
    error = failure(client, "zeros", size)
    assert time.monotonic() - began < TIMEOUT / 2
    assert error.status == "error" and error.event is None and "was not read" in error.message
    assert call(client, "add", 1, 1) == 2 and client.starts == starts + 1  # a fresh worker answered


def test_a_call_may_allow_a_larger_answer(client):
    size = 3 * REPLY_FLOOR_BYTES // 8
    assert call(client, "zeros", size, max_reply_bytes=4 * REPLY_FLOOR_BYTES).shape == (size,)


def test_an_answer_with_too_many_lists_is_refused_before_it_is_parsed(client):
    error = failure(client, "nested_lists", 600_000)  # about 2.4 MB of JSON: small, but 600k lists to build
    assert error.status == "error" and "lists and objects" in error.message
    assert call(client, "add", 1, 2) == 3


# ---------------------------------------------------------------- numbers beyond float range


def test_an_int_beyond_float_range_arrives_as_inf(client):
    assert call(client, "huge_int", 400) == math.inf


def test_an_int_longer_than_python_reads_arrives_as_inf(client):
    assert call(client, "huge_int_unlimited", 20_000) == math.inf


def test_ints_beyond_float_range_in_a_list_arrive_as_signed_infs(client):
    assert call(client, "huge_ints", 3) == [-math.inf, math.inf, math.inf]


def test_ints_within_float_range_arrive_exactly(client):
    assert call(client, "huge_int", 300) == 10 ** 300
