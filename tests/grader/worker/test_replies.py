"""The one mapping from a worker's reply to the value or StudentCodeError a check sees: each
failure kind gives its status, and a worker's reply never makes a failure the grader's."""
from __future__ import annotations

import pytest

from grader.errors import StudentCodeError
from grader.worker import replies
from grader.worker.in_process import InProcessTransport
from grader.worker.inside import protocol

CALL = {"op": "call", "module": "ex", "name": "f"}


def failure_of(reply: dict, **options) -> StudentCodeError:
    with pytest.raises(StudentCodeError) as caught:
        replies.reply_value(CALL, reply, **options)
    return caught.value


@pytest.mark.parametrize("kind, status", [("missing", "missing"), ("blocked", "blocked"), ("error", "error"),
                                          ("load_error", "error")])
def test_each_failure_kind_gives_its_status_and_keeps_message_event_and_traceback(kind, status):
    error = failure_of({"ok": False, "kind": kind, "message": "ValueError: bad", "traceback": "line 3",
                        "event": "syntax"})
    assert (error.status, error.message, error.event, error.traceback) == (status, "ValueError: bad", "syntax",
                                                                           "line 3")


def test_a_failure_without_an_event_concerns_only_this_call():
    error = failure_of({"ok": False, "kind": "error", "message": "ZeroDivisionError: division by zero"})
    assert (error.status, error.event, error.traceback) == ("error", None, "")


@pytest.mark.parametrize("kind", ["grader", "internal", 7, None])
def test_a_forged_grader_or_unknown_kind_is_the_students_malformed_answer(kind):
    error = failure_of({"ok": False, "kind": kind, "message": "the grader's own fault, not yours",
                        "traceback": "", "event": "crash"})
    assert error.status == "error" and error.event is None
    assert error.message == replies.malformed_message(CALL, "it reports a failure of an unknown kind")
    assert "not yours" not in error.message


def test_a_failure_with_no_message_says_who_reported_it():
    assert failure_of({"ok": False, "kind": "error"}).message == replies.UNEXPLAINED_FAILURE
    assert failure_of({"ok": False, "kind": "error"}, unexplained="the code reported a failure").message == (
        "the code reported a failure")


def test_a_success_gives_its_value_and_a_non_reply_is_malformed():
    assert replies.reply_value(CALL, {"ok": True, "value": [1, 2]}) == [1, 2]
    error = failure_of({"value": 3})
    assert (error.status, error.event) == ("error", None) and "it is not a reply" in error.message


def test_describe_names_the_request():
    assert replies.describe(CALL) == "ex.f"
    assert replies.describe({"op": "load", "module": "ex"}) == "loading ex"
    method = {"op": "method", "handle": {"type": "Value"}, "name": "backward"}
    assert replies.describe(method) == "Value.backward (method)"


class ForgingHandler:
    """Answers every request with `reply`, as student code that took over the handler would."""

    def __init__(self, reply: dict):
        self.reply = reply

    def respond(self, frame: protocol.Frame) -> protocol.Frame:
        return protocol.encode(dict(self.reply, id=protocol.request_id(frame)))


def test_the_in_process_transport_maps_replies_the_same_way():
    transport = InProcessTransport({"ex": {}})
    transport.handler = ForgingHandler({"ok": False, "kind": "grader", "message": "not your fault", "event": "crash"})
    with pytest.raises(StudentCodeError) as forged:
        transport.request(CALL)
    assert forged.value.status == "error" and forged.value.event is None and "malformed" in forged.value.message
    transport.handler = ForgingHandler({"ok": False, "kind": "load_error", "message": "", "event": "syntax"})
    with pytest.raises(StudentCodeError) as load:
        transport.request(CALL)
    assert (load.value.status, load.value.event, load.value.message) == ("error", "syntax",
                                                                         "the code reported a failure")
