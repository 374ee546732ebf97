"""The closed schema of the worker's replies, checked in the grader before anything uses them.

Student code runs in the worker's interpreter, so it can write any reply it likes. Whatever it
writes, what leaves this module is plain, bounded data: a failure's kind and event come from
closed sets, every string is cut to a known length, positions are small non-negative ints, and
lists have caps. A reply that does not fit is the student's malformed answer
(`MalformedReplyError`), never the grader's fault: a worker cannot blame the grader.

Pure functions over decoded reply dicts (see grader/README.md, "Requests").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

# failure kinds a worker may report, and the test status each gives; "grader" is not among them
FAILURE_STATUSES = {"missing": "missing", "blocked": "blocked", "error": "error", "load_error": "error"}
# events a worker may report (the contract's errors[].kind, less those only the grader sees)
EVENTS = frozenset({"memory", "syntax", "blocked", "crash"})
CELL_ERROR_KINDS = frozenset({"error", "syntax", "blocked"})

MAX_MESSAGE_CHARS = 2000
MAX_TRACEBACK_CHARS = 8000
MAX_TYPE_CHARS = 100
MAX_CELL_ERRORS = 50
MAX_DEFINED = 10_000
MAX_NAME_CHARS = 200
MAX_POSITION = 10**7  # a cell index or a line number
MAX_PROGRAM_ENTRIES = 2**20
TRUNCATED = " [... truncated]"

# a worker's message that claims the fault is the grader's is not passed on to the student
_BLAME = re.compile(r"not\s+(your|the\s+student'?s)\s+(fault|code|mistake)|own\s+fault|grader'?s\s+(fault|mistake|bug)",
                    re.IGNORECASE)
BLAME_REPLACED = "the code raised an error whose message is not shown (it claims the grader is at fault)"


class MalformedReplyError(ValueError):
    """A reply outside the schema. Its message is the grader's own words, safe to show."""


@dataclass(frozen=True)
class Failure:
    """A validated failure reply: the test status it gives, and bounded texts."""

    status: str  # missing, blocked or error
    message: str
    event: Optional[str] = None  # one of EVENTS
    traceback: str = ""


def _one_of(value: Any, names: Any) -> bool:
    """`value` is one of the str `names` (a forged value may be unhashable, or a str subclass)."""
    return type(value) is str and value in names


def bounded(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, the cut marked."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(TRUNCATED))] + TRUNCATED


def worker_text(value: Any, limit: int, what: str) -> str:
    """A string the worker chose, bounded and never blaming the grader."""
    if not isinstance(value, str):
        raise MalformedReplyError(f"its {what} is not text")
    return BLAME_REPLACED if _BLAME.search(value) else bounded(value, limit)


def position(value: Any, what: str) -> int:
    """A cell index or line number: a small non-negative int (not a bool, not a float)."""
    if type(value) is not int or not 0 <= value <= MAX_POSITION:
        raise MalformedReplyError(f"its {what} is not a small non-negative whole number")
    return value


def check_failure(reply: dict) -> Failure:
    """The failure reply `reply` ({"ok": false, ...}) as a Failure."""
    kind = reply.get("kind")
    if not _one_of(kind, FAILURE_STATUSES):
        raise MalformedReplyError("it reports a failure of an unknown kind")
    event = reply.get("event")
    if event is not None and not _one_of(event, EVENTS):
        raise MalformedReplyError("it reports an event of an unknown kind")
    return Failure(FAILURE_STATUSES[kind], worker_text(reply.get("message", ""), MAX_MESSAGE_CHARS, "message"),
                   event, worker_text(reply.get("traceback", ""), MAX_TRACEBACK_CHARS, "traceback"))


def check_cell_error(entry: Any) -> dict:
    """One of a load's `cell_errors`: {"index" or "line": N, "kind", "type", "message", "traceback"}."""
    if not isinstance(entry, dict):
        raise MalformedReplyError("a cell error is not a record")
    places = [key for key in ("index", "line") if key in entry]
    if len(places) != 1:
        raise MalformedReplyError("a cell error needs exactly one of a cell index and a line number")
    kind = entry.get("kind", "error")
    if not _one_of(kind, CELL_ERROR_KINDS):
        raise MalformedReplyError("a cell error has an unknown kind")
    type_name = worker_text(entry.get("type", ""), MAX_TYPE_CHARS, "cell error's type")
    return {places[0]: position(entry[places[0]], places[0]), "kind": kind, "type": type_name,
            "message": worker_text(entry.get("message", ""), MAX_MESSAGE_CHARS, "cell error's message"),
            "traceback": worker_text(entry.get("traceback", ""), MAX_TRACEBACK_CHARS, "cell error's traceback")}


def check_load_value(value: Any) -> dict:
    """A load's value: the names defined (identifiers, bounded) and the first MAX_CELL_ERRORS cell
    errors; `cell_errors_omitted` counts the rest."""
    if not isinstance(value, dict):
        raise MalformedReplyError("its load result is not a record")
    defined, cells = value.get("defined", []), value.get("cell_errors", [])
    if not isinstance(defined, list) or len(defined) > MAX_DEFINED:
        raise MalformedReplyError(f"its list of defined names is not a list of at most {MAX_DEFINED} names")
    if not all(type(n) is str for n in defined):
        raise MalformedReplyError("a defined name is not text")
    if not isinstance(cells, list):
        raise MalformedReplyError("its cell errors are not a list")
    # a global set through globals() may have any name; only identifiers can be the contract's
    names = [n for n in defined if len(n) <= MAX_NAME_CHARS and n.isidentifier()]
    return {"defined": names, "cell_errors": [check_cell_error(c) for c in cells[:MAX_CELL_ERRORS]],
            "cell_errors_omitted": max(0, len(cells) - MAX_CELL_ERRORS)}


def _is_number(x: Any) -> bool:
    return type(x) in (int, float)


def _is_array_or_none(x: Any) -> bool:
    return x is None or (isinstance(x, np.ndarray) and x.dtype.kind in "biuf")


def check_program_value(kind: Any, value: Any) -> dict:
    """A graph program's result (grader/worker/inside/programs.py): equal-length lists per field."""
    fields = {"value_graph": {"data": _is_number, "grad": _is_number},
              "tensor_graph": {"data": _is_array_or_none, "grad": _is_array_or_none,
                               "requires_grad": lambda x: x is None or type(x) is bool,
                               "is_leaf": lambda x: x is None or type(x) is bool,
                               "grad_fn": lambda x: x is None or (type(x) is str and len(x) <= MAX_TYPE_CHARS)}}
    if not _one_of(kind, fields):
        raise MalformedReplyError("it answers a program of an unknown kind")
    if not isinstance(value, dict) or set(value) != set(fields[kind]):
        raise MalformedReplyError(f"its {kind} result does not have the fields {sorted(fields[kind])}")
    lengths = {len(v) if isinstance(v, list) else -1 for v in value.values()}
    if len(lengths) != 1 or not 0 <= lengths.pop() <= MAX_PROGRAM_ENTRIES:
        raise MalformedReplyError(f"its {kind} result's fields are not lists of one length")
    for name, valid in fields[kind].items():
        if not all(valid(item) for item in value[name]):
            raise MalformedReplyError(f"its {kind} result's {name} holds an entry of the wrong type")
    return value


def check_value(header: dict, value: Any, *, programs: bool = True) -> Any:
    """The value of a successful reply to `header`, checked where the grader relies on its shape
    (a program's result only with `programs`)."""
    op = header.get("op")
    if op == "load":
        return check_load_value(value)
    if op == "program" and programs:
        return check_program_value(header.get("kind"), value)
    if op == "call" and header.get("return_args"):
        if not isinstance(value, dict) or set(value) != {"value", "args_after"} or not isinstance(
                value["args_after"], list):
            raise MalformedReplyError("its answer with the arguments after the call is not {value, args_after}")
    if op == "ping" and not (isinstance(value, dict) and type(value.get("pid")) is int):
        raise MalformedReplyError("its answer to a ping has no pid")
    return value


def check_reply(header: dict, reply: Any, *, programs: bool = True) -> Any:
    """The reply's value, or the Failure it reports; raises MalformedReplyError outside the schema.

    `reply` is the decoded reply dict (its id already matched to `header`'s request).
    """
    if not isinstance(reply, dict) or type(reply.get("ok")) is not bool:
        raise MalformedReplyError("it is not a reply")
    if reply["ok"]:
        return check_value(header, reply.get("value"), programs=programs)
    return check_failure(reply)

