"""The handler's ops and replies, driven through InProcessTransport (a real encode/decode trip)."""
from __future__ import annotations

import os
import types

import numpy as np
import pytest

from grader.errors import StudentCodeError
from grader.worker.in_process import InProcessTransport
from grader.worker.inside import protocol
from grader.worker.inside.guard import BlockedImportError
from grader.worker.inside.handler import (
    Handler,
    LoadedModule,
    ModuleMissingError,
    NamespaceModules,
    describe_exception,
    outside_dirs,
)

TIMEOUT = 5.0


class Node:
    def __init__(self, data):
        self.data = data

    def __add__(self, other):
        return Node(self.data + (other.data if isinstance(other, Node) else other))

    @property
    def broken(self):
        raise ValueError("the property fails")


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no")


def recurse(n):
    return recurse(n + 1)


def namespace() -> dict:
    def mutate(x):
        x[0] = 99.0

    def raise_(exc):
        raise exc

    return {
        "Node": Node, "Value": Node, "np": np, "_private": 1, "CONSTANT": 3,
        "add": lambda a, b=0: a + b, "mutate": mutate, "divide": lambda: 1 / 0, "recurse": recurse,
        "hog": lambda: raise_(MemoryError()), "blocked": lambda: raise_(BlockedImportError("no torch here")),
        "exit": lambda: raise_(SystemExit(3)), "interrupt": lambda: raise_(KeyboardInterrupt()),
        "unprintable": lambda: raise_(Unprintable()), "int_keys": lambda: {1: 2}, "same": lambda n: n,
    }


@pytest.fixture
def transport():
    return InProcessTransport({"ex": namespace()})


def request(transport, op, **fields):
    return transport.request({"op": op, **fields}, TIMEOUT)


def call(transport, name, *args, **kwargs):
    return request(transport, "call", module="ex", name=name, args=list(args), kwargs=kwargs)


def failure(transport, op, **fields) -> StudentCodeError:
    with pytest.raises(StudentCodeError) as caught:
        request(transport, op, **fields)
    return caught.value


# ---------------------------------------------------------------- ops


def test_ping(transport):
    assert request(transport, "ping") == {"pid": os.getpid()}


def test_load_lists_public_names_that_are_not_modules(transport):
    assert request(transport, "load", module="ex")["defined"] == sorted(
        n for n in namespace() if not n.startswith("_") and n != "np")


def test_call_passes_args_and_kwargs(transport):
    np.testing.assert_array_equal(call(transport, "add", np.arange(3), b=np.ones(3)), [1.0, 2.0, 3.0])


def test_value_reads_a_module_level_name(transport):
    assert request(transport, "value", module="ex", name="CONSTANT") == 3
    assert isinstance(request(transport, "value", module="ex", name="Node"), protocol.Handle)
    assert failure(transport, "value", module="ex", name="HAND_ANSWERS").status == "missing"


def test_return_args_shows_the_arguments_after_the_call(transport):
    x = np.zeros(2)
    reply = request(transport, "call", module="ex", name="mutate", args=[x], kwargs={}, return_args=True)
    assert reply["value"] is None
    np.testing.assert_array_equal(reply["args_after"][0], [99.0, 0.0])
    np.testing.assert_array_equal(x, [0.0, 0.0])


def test_objects_come_back_as_stable_handles(transport):
    node = call(transport, "Node", 2.0)
    assert isinstance(node, protocol.Handle) and node.type == "Node"
    assert call(transport, "same", node) == node  # the same object keeps its handle
    total = request(transport, "method", handle=node, name="__add__", args=[node], kwargs={})
    assert request(transport, "getattr", handle=total, name="data") == 4.0
    rebuilt = {"__handle__": total.id, "type": "Node"}  # a handle written out by hand still works
    assert request(transport, "getattr", handle=rebuilt, name="data") == 4.0


def test_freed_handles_are_unknown(transport):
    node = call(transport, "Node", 1.0)
    assert request(transport, "free", handles=[node]) is None
    assert len(transport.handler.handles) == 0
    error = failure(transport, "getattr", handle=node, name="data")
    assert error.status == "error" and "unknown" in error.message


def test_program_dispatches_to_the_graph_programs(transport):
    seen = []
    fake = types.SimpleNamespace(run_value_graph=lambda value, spec: seen.append((value, spec)) or "value",
                                 run_tensor_graph=lambda ns, spec: seen.append((ns, spec)) or "tensor")
    transport.handler.programs = lambda: fake
    assert request(transport, "program", module="ex", kind="value_graph", spec={"n": 1}) == "value"
    assert request(transport, "program", module="ex", kind="tensor_graph", spec={"n": 2}) == "tensor"
    assert seen[0] == (Node, {"n": 1})
    assert seen[1][0] is transport.namespaces["ex"] and seen[1][1] == {"n": 2}


def test_program_failures(transport):
    assert failure(transport, "program", module="ex", kind="sql", spec={}).status == "error"
    other = InProcessTransport({"ex": {"f": len}})
    assert failure(other, "program", module="ex", kind="value_graph", spec={}).status == "missing"

    def unavailable():
        raise ImportError("no programs")

    transport.handler.programs = unavailable
    assert "not available" in failure(transport, "program", module="ex", kind="value_graph", spec={}).message


# ---------------------------------------------------------------- failures


@pytest.mark.parametrize("op, fields", [
    ("call", {"module": "ex", "name": "absent"}),
    ("call", {"module": "absent", "name": "add"}),
    ("load", {"module": "absent"}),
])
def test_missing_modules_and_names(transport, op, fields):
    assert failure(transport, op, **fields).status == "missing"


def test_missing_attribute(transport):
    node = call(transport, "Node", 1.0)
    assert failure(transport, "getattr", handle=node, name="grad").status == "missing"
    error = failure(transport, "getattr", handle=node, name="broken")  # a property that raises
    assert (error.status, error.message) == ("error", "ValueError: the property fails")


def test_student_exceptions_are_errors_with_their_own_frames_only(transport):
    error = failure(transport, "call", module="ex", name="divide")
    assert error.status == "error" and error.event is None
    assert error.message == "ZeroDivisionError: division by zero"
    assert "test_handler.py" in error.traceback and "handler.py\"" not in error.traceback.replace("test_handler", "")


def test_deep_tracebacks_are_cut_short(transport):
    error = failure(transport, "call", module="ex", name="recurse", args=[0])
    assert error.message.startswith("RecursionError")
    assert "earlier frames ...]" in error.traceback
    assert "in recurse" in error.traceback and len(error.traceback) < 1500


@pytest.mark.parametrize("name, status, event", [
    ("hog", "error", "memory"),
    ("blocked", "blocked", "blocked"),
    ("exit", "error", None),  # in-process a SystemExit must not end the kernel
    ("unprintable", "error", None),
    ("int_keys", "error", None),
])
def test_failure_kinds(transport, name, status, event):
    error = failure(transport, "call", module="ex", name=name)
    assert (error.status, error.event) == (status, event)
    assert error.message


def test_an_unsendable_result_says_why(transport):
    assert "dict keys must be str" in failure(transport, "call", module="ex", name="int_keys").message


def test_keyboard_interrupt_stops_an_in_process_check(transport):
    with pytest.raises(KeyboardInterrupt):
        call(transport, "interrupt")


def test_system_exit_ends_a_sandboxed_worker():
    handler = Handler(NamespaceModules({"ex": namespace()}), sandboxed=True, is_student_file=lambda f: True)
    with pytest.raises(SystemExit):
        handler.reply_to({"op": "call", "module": "ex", "name": "exit"})


@pytest.mark.parametrize("header, words", [
    ({"op": "dance"}, "unknown op"),
    ({"op": 3}, "unknown op"),
    ({"op": "call", "module": "ex", "name": "add", "args": {"a": 1}}, "args must be a list"),
    ({"op": "call", "module": 7, "name": "add"}, "module must be"),
    ({"op": "call", "module": "ex", "name": None}, "name must be"),
    ({"op": "free", "handles": 3}, "handles must be a list"),
    ({"op": "load", "module": "ex", "forbidden": "torch"}, "forbidden must be"),
    ({"op": "call", "module": "ex", "name": "CONSTANT"}, "not a function"),
])
def test_malformed_requests_are_errors(transport, header, words):
    with pytest.raises(StudentCodeError, match=words):
        transport.request(header, TIMEOUT)


def test_a_frame_that_does_not_decode_still_gets_an_answer_with_its_id():
    handler = Handler(NamespaceModules({}), is_student_file=lambda f: True)
    bad = protocol.Frame(b'{"id": 5, "v": {"__handle__": 99, "type": "X"}, "__buffers__": 0}')
    reply = protocol.decode(handler.respond(bad))
    assert reply["ok"] is False and reply["id"] == 5 and "unknown" in reply["message"]


# ---------------------------------------------------------------- loading


class CountingModules:
    def __init__(self, outcome):
        self.outcome = outcome
        self.loads = 0

    def load(self, name):
        self.loads += 1
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def test_a_failed_load_is_remembered_not_repeated():
    modules = CountingModules(ValueError("top-level code failed"))
    handler = Handler(modules, is_student_file=lambda f: True)
    first = handler.reply_to({"op": "load", "module": "ex"})
    second = handler.reply_to({"op": "call", "module": "ex", "name": "f"})
    assert first["kind"] == second["kind"] == "load_error"
    assert first["message"] == "ex could not be loaded: ValueError: top-level code failed"
    assert modules.loads == 1


def test_a_syntax_error_at_load_carries_a_syntax_event():
    try:
        compile("def f(:\n", "ex.py", "exec")
    except SyntaxError as exc:
        error = exc
    handler = Handler(CountingModules(error), is_student_file=lambda f: True)
    reply = handler.reply_to({"op": "load", "module": "ex"})
    assert (reply["kind"], reply.get("event")) == ("load_error", "syntax")
    assert 'File "ex.py", line 1' in reply["traceback"]


def test_missing_module_source():
    handler = Handler(CountingModules(ModuleMissingError("no ex here")), is_student_file=lambda f: True)
    assert handler.reply_to({"op": "load", "module": "ex"})["kind"] == "missing"


def test_cell_failures_are_listed_in_the_load_reply():
    failures = [(2, RuntimeError("cell two")), (4, BlockedImportError("torch")), (5, SyntaxError("bad"))]
    handler = Handler(CountingModules(LoadedModule("nb", {"x": 1}, failures)), is_student_file=lambda f: True)
    reply = handler.reply_to({"op": "load", "module": "nb"})
    assert reply["value"]["defined"] == ["x"]
    assert [(e["index"], e["kind"], e["type"]) for e in reply["value"]["cell_errors"]] == [
        (2, "error", "RuntimeError"), (4, "blocked", "BlockedImportError"), (5, "syntax", "SyntaxError")]


def test_load_passes_forbidden_modules_to_the_guard():
    forbidden = []
    handler = Handler(NamespaceModules({"ex": {}}), forbid=forbidden.extend, is_student_file=lambda f: True)
    handler.reply_to({"op": "load", "module": "ex", "forbidden": ["torch", "jax"]})
    assert forbidden == ["torch", "jax"]


# ---------------------------------------------------------------- describing exceptions


def test_describe_exception_keeps_only_student_frames():
    try:
        recurse_twice = lambda: np.linalg.inv(np.zeros((2, 2)))  # noqa: E731
        recurse_twice()
    except np.linalg.LinAlgError as exc:
        message, trace = describe_exception(exc, outside_dirs(os.path.dirname(np.__file__)))
    assert message == "LinAlgError: Singular matrix"
    assert "recurse_twice()" in trace and "numpy" not in trace.replace(message, "")


def test_outside_dirs():
    is_student = outside_dirs("/opt/lib")
    assert is_student("/home/s/ex.py") and is_student("ex.ipynb, cell 3")
    assert not is_student("/opt/lib/x.py") and not is_student("<frozen importlib._bootstrap>")
