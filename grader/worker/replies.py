"""A worker's reply as what a transport hands to checks: its value, or the StudentCodeError it stands for.

Both transports (client.py's sandboxed worker and in_process.py's notebook kernel) turn replies
into exceptions here, so one failure gives the same status, message and event whichever of them
ran the code. The trust rule comes from reply_schema.py: a reply outside the closed schema, a
failure of kind "grader" or of an unknown kind among them, is the student's malformed answer
(status "error"), never the grader's fault.

Pure functions: what a transport does about an event (recording it, stopping the worker) stays
with the transport.
"""
from __future__ import annotations

from typing import Any

from grader.errors import StudentCodeError
from grader.worker import reply_schema

UNEXPLAINED_FAILURE = "the worker reported a failure"  # the message of a failure that has none


def describe(header: dict) -> str:
    """A short phrase naming what a request asked for, for messages."""
    op, module, name = header.get("op"), header.get("module"), header.get("name")
    if op == "load":
        return f"loading {module}"
    if op == "call":
        return f"{module}.{name}"
    if op == "value":
        return f"reading {module}.{name}"
    if op in ("method", "getattr"):
        kind = header.get("handle", {}).get("type", "object") if isinstance(header.get("handle"), dict) else "object"
        return f"{'.'.join(filter(None, [kind, name]))} ({op})"
    if op == "program":
        return f"the {header.get('kind')} program on {module}"
    return str(op)


def malformed_message(header: dict, reason: str) -> str:
    """Feedback for a reply outside the schema; `reason` is the grader's own words."""
    return (f"The worker's answer to {describe(header)} was malformed ({reason}); "
            "the code may have written to the worker's reply channel.")


def failure_error(failure: reply_schema.Failure, unexplained: str = UNEXPLAINED_FAILURE) -> StudentCodeError:
    """The exception a validated failure stands for; `unexplained` stands in for an empty message."""
    return StudentCodeError(failure.status, failure.message or unexplained, event=failure.event,
                            traceback=failure.traceback)


def reply_value(header: dict, reply: Any, *, programs: bool = True, unexplained: str = UNEXPLAINED_FAILURE) -> Any:
    """The value of `reply` (the decoded answer to `header`); raises the StudentCodeError it reports.

    A reply outside the schema raises StudentCodeError("error") with no event: only this call
    failed, by the student's code writing the reply. `programs`: check a graph program's result
    (see reply_schema.check_value).
    """
    try:
        checked = reply_schema.check_reply(header, reply, programs=programs)
    except reply_schema.MalformedReplyError as exc:
        raise StudentCodeError("error", malformed_message(header, str(exc))) from None
    if isinstance(checked, reply_schema.Failure):
        raise failure_error(checked, unexplained)
    return checked
