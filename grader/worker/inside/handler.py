"""Answers the grader's requests: one method per op, every outcome a plain reply dict.

Requests (see grader/README.md):

    ping                                          -> {"pid": ...}
    load     module [forbidden]                   -> {"defined": [...], "cell_errors": [...]}
    call     module name args kwargs [return_args] -> the return value
                                                     ({"value": v, "args_after": [...]} with return_args)
    value    module name                          -> a module-level value (e.g. HAND_ANSWERS)
    method   handle name args kwargs              -> the return value
    getattr  handle name                          -> the attribute
    program  module kind spec                     -> what the graph program returns
    free     handles                              -> None

A reply is {"ok": True, "value": ...} or {"ok": False, "kind": "missing" | "error" | "blocked" |
"load_error" | "grader", "message": "TypeError: ...", "traceback": "<student frames only>"}, plus
"event" ("memory", "syntax", "blocked", "crash") when the failure concerns more than this one
call. Kind "grader" (event "crash") is the grader's own mistake, e.g. a malformed program spec.
A request's "id" is echoed so the grader can tell a reply from a forgery.

Objects that are not plain data stay here in a `HandleRegistry`; the grader gets a handle and can
call methods on it or read its attributes later.
"""
from __future__ import annotations

import os
import traceback
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Protocol

from . import protocol
from .guard import is_blocked

MAX_MESSAGE_CHARS = 2000
MAX_TRACEBACK_FRAMES = 8
PROGRAM_KINDS = ("value_graph", "tensor_graph")


class ModuleMissingError(LookupError):
    """The submission has no module of that name."""


@dataclass
class LoadedModule:
    """A student module as the handler sees it: its namespace and what went wrong loading it."""

    name: str
    namespace: dict
    cell_failures: list[tuple[int, BaseException]] = field(default_factory=list)
    unit: str = "cell"  # what a failure's number counts: notebook "cell"s, or a module's "line"s


class ModuleSource(Protocol):
    """Where student modules come from: staged files (sandbox) or live namespaces (in-process)."""

    def load(self, name: str) -> LoadedModule: ...


class NamespaceModules:
    """Modules given as namespaces, e.g. a notebook's `globals()` for a self-check."""

    def __init__(self, namespaces: dict[str, dict]):
        self.namespaces = namespaces

    def load(self, name: str) -> LoadedModule:
        if name not in self.namespaces:
            raise ModuleMissingError(f"no module named {name} was given")
        return LoadedModule(name, self.namespaces[name])


class HandleRegistry:
    """Objects the grader holds handles to. The same object always gets the same handle."""

    def __init__(self, first_id: int = 1):
        self._next = first_id
        self._objects: dict[int, Any] = {}
        self._ids: dict[int, int] = {}  # id(obj) -> handle id; stable while the object is held

    def add(self, obj: Any) -> protocol.Handle:
        handle_id = self._ids.get(id(obj))
        if handle_id is None:
            handle_id, self._next = self._next, self._next + 1
            self._objects[handle_id] = obj
            self._ids[id(obj)] = handle_id
        return protocol.Handle(handle_id, _type_name(obj))

    def get(self, handle_id: int) -> Any:
        try:
            return self._objects[handle_id]
        except KeyError:
            raise UnknownHandleError(handle_id) from None

    def free(self, items: Iterable[Any]) -> int:
        """Forget handles given as ids, `Handle`s or the objects they resolved to; returns how many."""
        freed = 0
        for item in items:
            handle_id = self._id_of(item)
            if handle_id in self._objects:
                self._ids.pop(id(self._objects.pop(handle_id)), None)
                freed += 1
        return freed

    def _id_of(self, item: Any) -> Optional[int]:
        if type(item) is int:
            return item
        if isinstance(item, protocol.Handle):
            return item.id
        return self._ids.get(id(item))

    def __len__(self) -> int:
        return len(self._objects)


class UnknownHandleError(LookupError):
    def __init__(self, handle_id: int):
        super().__init__(f"handle {handle_id} is unknown here: it was freed, or it came from a "
                         "worker that has since been restarted")


class Reply(Exception):
    """Raised inside an op to answer with a failure right away."""

    def __init__(self, kind: str, message: str, traceback: str = "", event: Optional[str] = None):
        super().__init__(message)
        self.reply = {"ok": False, "kind": kind, "message": message, "traceback": traceback}
        if event:
            self.reply["event"] = event


def _type_name(obj: Any) -> str:
    return str(type(obj).__name__)[:100]


def safe_str(obj: Any, limit: int = MAX_MESSAGE_CHARS) -> str:
    """str(obj) that survives a hostile __str__ and stays short."""
    try:
        text = str(obj)
    except BaseException:  # the student's __str__ may raise anything
        text = f"<{_type_name(obj)} that cannot be printed>"
    return text if len(text) <= limit else text[:limit] + " [...]"


def describe_exception(exc: BaseException, is_student_file: Callable[[str], bool]) -> tuple[str, str]:
    """("TypeError: message", a short traceback of the student's own frames)."""
    name = _type_name(exc)
    text = safe_str(exc)
    message = f"{name}: {text}" if text else name
    if isinstance(exc, NotImplementedError):
        message = _not_implemented(exc, is_student_file) or message
    try:
        if isinstance(exc, SyntaxError):
            return message, safe_str("".join(traceback.format_exception_only(type(exc), exc)), 4000)
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if is_student_file(f.filename)]
        lines = traceback.format_list(frames[-MAX_TRACEBACK_FRAMES:])
        if len(frames) > MAX_TRACEBACK_FRAMES:
            lines.insert(0, f"  [... {len(frames) - MAX_TRACEBACK_FRAMES} earlier frames ...]\n")
        return message, safe_str("".join(lines) + message, 8000)
    except Exception:  # a traceback is a courtesy: never let it hide the error itself
        return message, message


def _not_implemented(exc: NotImplementedError, is_student_file: Callable[[str], bool]) -> Optional[str]:
    """"sigmoid is not implemented yet (...)." when the student's own function raised it, else None."""
    try:
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        code = tb.tb_frame.f_code if tb is not None else None
        if code is None or code.co_name == "<module>" or not is_student_file(code.co_filename):
            return None  # raised by a cell or a module's top level, or by a library
        function = getattr(code, "co_qualname", code.co_name).replace(".<locals>", "")
        text = safe_str(exc, 300)
        return f"{function} is not implemented yet (it raises NotImplementedError{': ' + text if text else ''})."
    except Exception:  # a courtesy: the plain message will do
        return None


def outside_dirs(*dirs: str) -> Callable[[str], bool]:
    """A frame filter: a frame is the student's unless its file lies in one of `dirs`."""
    prefixes = tuple(os.path.realpath(d).rstrip("/") + "/" for d in dirs if d)

    def is_student_file(filename: str) -> bool:
        if filename.startswith("<frozen "):
            return False
        return not os.path.realpath(filename).startswith(prefixes) if os.path.isabs(filename) else True

    return is_student_file


def _default_student_filter() -> Callable[[str], bool]:
    import sysconfig

    import numpy

    paths = sysconfig.get_paths()
    return outside_dirs(os.path.dirname(__file__), paths.get("stdlib", ""), paths.get("platstdlib", ""),
                        paths.get("purelib", ""), paths.get("platlib", ""),
                        os.path.dirname(numpy.__file__))


def _import_programs() -> Any:
    from . import programs  # written separately; absent in early checkouts

    return programs


class Handler:
    """Turns request frames into reply frames.

    `sandboxed` is True inside the worker process: there a `SystemExit` from student code ends
    the process (the grader sees the worker exit), while in-process it is reported as an error.
    """

    def __init__(self, modules: ModuleSource, *, sandboxed: bool = False,
                 is_student_file: Optional[Callable[[str], bool]] = None,
                 programs: Callable[[], Any] = _import_programs,
                 forbid: Optional[Callable[[list[str]], None]] = None,
                 first_handle: int = 1, limits: protocol.Limits = protocol.DEFAULT_LIMITS):
        self.modules = modules
        self.sandboxed = sandboxed
        self.is_student_file = is_student_file or _default_student_filter()
        self.programs = programs
        self.forbid = forbid
        self.handles = HandleRegistry(first_handle)
        self.limits = limits
        self._loaded: dict[str, LoadedModule] = {}
        self._failed: dict[str, dict] = {}  # module -> the failure reply, so import runs once

    # ---------------------------------------------------------------- frames

    def respond(self, frame: protocol.Frame) -> protocol.Frame:
        """Decode a request, run it, encode the reply. Never raises for a bad request."""
        request_id = protocol.request_id(frame)
        try:
            request = protocol.decode(frame, resolve_handle=self.handles.get, limits=self.limits)
            reply = self.reply_to(request)
        except UnknownHandleError as exc:
            reply = self._failure("error", f"LookupError: {exc}")
        except (ValueError, TypeError) as exc:
            reply = self._failure("error", f"malformed request: {safe_str(exc)}")
        return self._encode(reply, request_id)

    def _encode(self, reply: dict, request_id: Any) -> protocol.Frame:
        if request_id is not None:
            reply["id"] = request_id
        try:
            return protocol.encode(reply, make_handle=self.handles.add, limits=self.limits)
        except (ValueError, TypeError, RecursionError) as exc:
            failure = self._failure("error", f"the result cannot be sent to the grader: {safe_str(exc)}")
        except MemoryError:
            failure = self._failure("error", "MemoryError: the result is too large to send", event="memory")
        except Exception as exc:  # the student's object raised while being read
            message, trace = describe_exception(exc, self.is_student_file)
            failure = self._failure("error", message, trace)
        if request_id is not None:
            failure["id"] = request_id
        return protocol.encode(failure, limits=self.limits)

    @staticmethod
    def _failure(kind: str, message: str, trace: str = "", event: Optional[str] = None) -> dict:
        return Reply(kind, message, trace, event).reply

    # ---------------------------------------------------------------- requests

    def reply_to(self, request: dict) -> dict:
        """Run one decoded request and return the reply dict (values still Python objects)."""
        op = request.get("op")
        method = getattr(self, f"_op_{op}", None) if isinstance(op, str) else None
        if method is None:
            return self._failure("error", f"unknown op {op!r:.40}: expected one of ping, load, call, "
                                          "value, method, getattr, program, free")
        try:
            return {"ok": True, "value": method(request)}
        except Reply as failure:
            return failure.reply
        except BaseException as exc:
            return self._student_failure(exc)

    def _student_failure(self, exc: BaseException, kind: str = "error") -> dict:
        """The reply for an exception raised by student code (or re-raise what must end us)."""
        if isinstance(exc, SystemExit) and self.sandboxed:
            raise exc  # the worker exits; the grader records a crash and restarts it
        if isinstance(exc, KeyboardInterrupt) and not self.sandboxed:
            raise exc  # a person pressed stop in their own kernel
        message, trace = describe_exception(exc, self.is_student_file)
        if is_blocked(exc):
            return self._failure("blocked", message, trace, event="blocked")
        if isinstance(exc, MemoryError):
            return self._failure("error", message, trace, event="memory")
        if isinstance(exc, SyntaxError) and kind == "load_error":
            return self._failure(kind, message, trace, event="syntax")
        return self._failure(kind, message, trace)

    def _op_ping(self, request: dict) -> dict:
        return {"pid": os.getpid()}

    def _op_load(self, request: dict) -> dict:
        forbidden = request.get("forbidden") or []
        if not isinstance(forbidden, list) or not all(isinstance(n, str) for n in forbidden):
            raise Reply("error", "malformed request: forbidden must be a list of module names")
        if forbidden and self.forbid is not None:
            self.forbid(forbidden)
        loaded = self._module(request)
        defined = sorted(name for name, value in loaded.namespace.items()
                         if not name.startswith("_") and not isinstance(value, types.ModuleType))
        return {"defined": defined,
                "cell_errors": [self._cell_error(i, e, loaded.unit) for i, e in loaded.cell_failures]}

    def _cell_error(self, index: int, exc: BaseException, unit: str = "cell") -> dict:
        message, trace = describe_exception(exc, self.is_student_file)
        kind = "blocked" if is_blocked(exc) else "syntax" if isinstance(exc, SyntaxError) else "error"
        if unit == "line":  # a module's top-level statement: {"line": N, "message": "line N: ..."}
            return {"line": index, "kind": kind, "type": _type_name(exc), "message": f"line {index}: {message}",
                    "traceback": trace}
        return {"index": index, "kind": kind, "type": _type_name(exc), "message": message, "traceback": trace}

    def _op_call(self, request: dict) -> Any:
        function = self._name(request)
        if not callable(function):
            raise Reply("error", f"TypeError: {request['name']} is a {_type_name(function)}, not a function")
        args, kwargs = _arguments(request)
        value = function(*args, **kwargs)
        if request.get("return_args"):
            return {"value": value, "args_after": args}
        return value

    def _op_value(self, request: dict) -> Any:
        return self._name(request)

    def _op_method(self, request: dict) -> Any:
        target = self._attribute(request)
        args, kwargs = _arguments(request)
        return target(*args, **kwargs)

    def _op_getattr(self, request: dict) -> Any:
        return self._attribute(request)

    def _op_program(self, request: dict) -> Any:
        kind = request.get("kind")
        if kind not in PROGRAM_KINDS:
            raise Reply("error", f"unknown program kind {kind!r:.40}: expected one of {', '.join(PROGRAM_KINDS)}")
        namespace = self._module(request).namespace
        try:
            programs = self.programs()
        except ImportError:
            raise Reply("error", "graph programs are not available in this worker") from None
        spec = request.get("spec")
        if kind == "value_graph" and "Value" not in namespace:
            raise Reply("missing", f"{request['module']} does not define Value")
        try:
            if kind == "value_graph":
                return programs.run_value_graph(namespace["Value"], spec)
            return programs.run_tensor_graph(namespace, spec)
        except getattr(programs, "SpecError", ()) as exc:  # the grader's spec is wrong, not the student's code
            raise Reply("grader", f"the grader sent a malformed {kind} spec (its own fault, not yours): "
                                  f"{safe_str(exc, 500)}", event="crash") from None

    def _op_free(self, request: dict) -> None:
        items = request.get("handles") or []
        if not isinstance(items, list):
            raise Reply("error", "malformed request: handles must be a list")
        self.handles.free(items)
        return None

    # ---------------------------------------------------------------- lookups

    def _module(self, request: dict) -> LoadedModule:
        name = request.get("module")
        if not isinstance(name, str) or not name:
            raise Reply("error", "malformed request: module must be a name")
        if name in self._failed:
            raise Reply(**_reply_fields(self._failed[name]))
        if name not in self._loaded:
            try:
                self._loaded[name] = self.modules.load(name)
            except ModuleMissingError as exc:
                raise Reply("missing", safe_str(exc)) from None
            except Reply:
                raise
            except BaseException as exc:
                failure = self._student_failure(exc, kind="load_error")
                failure["message"] = f"{name} could not be loaded: {failure['message']}"
                self._failed[name] = failure
                raise Reply(**_reply_fields(failure)) from None
        return self._loaded[name]

    def _name(self, request: dict) -> Any:
        module = self._module(request)
        name = request.get("name")
        if not isinstance(name, str):
            raise Reply("error", "malformed request: name must be a str")
        if name not in module.namespace:
            raise Reply("missing", f"{module.name} does not define {name}")
        return module.namespace[name]

    def _attribute(self, request: dict) -> Any:
        target, name = request.get("handle"), request.get("name")
        if isinstance(target, dict) and set(target) == {"__handle__", "type"}:
            target = self.handles.get(target["__handle__"])  # a handle rebuilt by hand as a dict
        if not isinstance(name, str):
            raise Reply("error", "malformed request: name must be a str")
        try:
            return getattr(target, name)
        except AttributeError as exc:
            raise Reply("missing", f"{_type_name(target)} has no attribute {name}: {safe_str(exc, 300)}") from None


def _arguments(request: dict) -> tuple[list, dict]:
    args, kwargs = request.get("args") or [], request.get("kwargs") or {}
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise Reply("error", "malformed request: args must be a list and kwargs a dict")
    return args, kwargs


def _reply_fields(reply: dict) -> dict:
    return {"kind": reply["kind"], "message": reply["message"], "traceback": reply.get("traceback", ""),
            "event": reply.get("event")}
