"""A test-local transport: the student's code is a dict of functions in this process.

It answers the worker's requests the way the sandboxed worker does, closely enough for checks:
arguments and results are deep-copied both ways (so an in-place change is visible only through
`args_after`), numeric arrays keep their dtype, tuples stay tuples, other objects stay
behind as handles, a name that is not defined raises StudentCodeError("missing"), and an
exception in the student's code raises StudentCodeError("error").

`make_transport(namespace, module)` prefers the real in-process transport
(grader.worker.in_process: the worker's own handler and wire format) and falls back to this one.
Use it directly, or through the fixtures `transport_factory` and `run_check`.
"""
from __future__ import annotations

import copy
import sys
import time
import traceback
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import pytest

from grader.checks.base import REGISTRY, CheckContext, Verdict
from grader.checks.runner import check_timeout
from grader.defaults import CALL_TIMEOUT_S
from grader.errors import StudentCodeError


def _plain(value: Any, handles: dict[int, Any]) -> Any:
    """`value` as the protocol carries it: plain data, numeric arrays, handles for the rest."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.copy()  # the protocol keeps the original dtype
    if isinstance(value, tuple):
        return tuple(_plain(v, handles) for v in value)
    if isinstance(value, list):
        return [_plain(v, handles) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _plain(v, handles) for k, v in value.items()}
    n = len(handles) + 1
    handles[n] = value
    return {"__handle__": n, "type": type(value).__name__}


def _resolve(value: Any, handles: dict[int, Any]) -> Any:
    """Arguments as the student's code receives them: copies, with handles turned back into objects."""
    if isinstance(value, dict) and "__handle__" in value:
        return handles[value["__handle__"]]
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return tuple(_resolve(v, handles) for v in value)
    if isinstance(value, list):
        return [_resolve(v, handles) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, handles) for k, v in value.items()}
    return copy.deepcopy(value)


class DictTransport:
    """Answers `call`, `value`, `method`, `getattr`, `program`, `load` and `free` from a namespace."""

    def __init__(self, namespace: dict[str, Any], module: str = "student"):
        self.namespace = dict(namespace)
        self.module = module
        self.handles: dict[int, Any] = {}
        self.requests: list[dict] = []  # every header seen, for tests that count calls

    def request(self, header: dict, timeout: float) -> Any:
        self.requests.append(header)
        op = header.get("op")
        start = time.perf_counter()
        try:
            reply = self._answer(op, header)
        except StudentCodeError:
            raise
        except Exception as exc:  # the student's code raised
            raise StudentCodeError("error", f"{type(exc).__name__}: {exc}",
                                   traceback=traceback.format_exc()) from None
        # No preemption in-process: a call over budget is reported after the fact.
        if timeout is not None and time.perf_counter() - start > timeout:
            raise StudentCodeError("timeout", f"{header.get('name', op)} took longer than {timeout:g} s",
                                   event="timeout")
        return reply

    def _lookup(self, name: str) -> Any:
        if name not in self.namespace:
            raise StudentCodeError("missing", f"{name} is not defined")
        return self.namespace[name]

    def _answer(self, op: str, header: dict) -> Any:
        if op == "call":
            fn = self._lookup(header["name"])
            args = _resolve(list(header.get("args", [])), self.handles)
            kwargs = _resolve(dict(header.get("kwargs", {})), self.handles)
            value = _plain(fn(*args, **kwargs), self.handles)
            if header.get("return_args"):
                return {"value": value, "args_after": _plain(args, self.handles)}
            return value
        if op == "value":
            return _plain(copy.deepcopy(self._lookup(header["name"])), self.handles)
        if op == "method":
            obj = self.handles[header["handle"]["__handle__"]]
            fn = getattr(obj, header["name"])
            args = _resolve(list(header.get("args", [])), self.handles)
            kwargs = _resolve(dict(header.get("kwargs", {})), self.handles)
            return _plain(fn(*args, **kwargs), self.handles)
        if op == "getattr":
            obj = self.handles[header["handle"]["__handle__"]]
            if not hasattr(obj, header["name"]):
                raise StudentCodeError("missing", f"{type(obj).__name__} has no attribute {header['name']}")
            return _plain(getattr(obj, header["name"]), self.handles)
        if op == "program":
            from grader.worker.inside.programs import run_program

            return _plain(run_program(header["kind"], self.namespace, header["spec"]), self.handles)
        if op == "load":
            return {"defined": sorted(self.namespace), "cell_errors": []}
        if op == "free":
            for h in header.get("handles", []):
                self.handles.pop(h["__handle__"] if isinstance(h, dict) else h, None)
            return None
        raise ValueError(f"unknown op {op!r}")


class InProcessRecordingTransport:
    """The real in-process transport (the worker's handler and wire format), with what tests need.

    It records every request, reports a call over its timeout after the fact (the in-process
    transport cannot stop one), and answers the `value` op itself while the handler lacks it.
    """

    def __init__(self, namespace: dict[str, Any], module: str):
        from grader.worker.in_process import InProcessTransport

        self.inner = InProcessTransport({module: dict(namespace)})
        self.local = DictTransport(namespace, module)
        self.requests: list[dict] = []

    def request(self, header: dict, timeout: float) -> Any:
        from grader.worker.inside.handler import Handler

        self.requests.append(header)
        start = time.perf_counter()
        if header.get("op") == "value" and not hasattr(Handler, "_op_value"):
            reply = self.local.request(header, timeout)
        else:
            reply = self.inner.request(header, timeout)
        if timeout is not None and time.perf_counter() - start > timeout:
            raise StudentCodeError("timeout", f"{header.get('name', header.get('op'))} took longer than "
                                              f"{timeout:g} s", event="timeout")
        return reply


def make_transport(namespace: dict[str, Any], module: str = "student") -> Any:
    """A transport whose student code is `namespace` (name -> function, class or value), as module `module`.

    The real in-process transport when it is installed, else the dict transport above.
    """
    try:
        return InProcessRecordingTransport(namespace, module)
    except ImportError:
        return DictTransport(namespace, module)


@dataclass(frozen=True)
class CheckOutcome:
    """What the runner would record: a status, and the verdict when the check returned one."""

    status: str  # passed, failed, error, timeout, missing, blocked
    verdict: Optional[Verdict] = None
    message: str = ""

    @property
    def diagnosis(self) -> Optional[str]:
        return None if self.verdict is None else self.verdict.diagnosis

    @property
    def feedback(self) -> str:
        return self.message if self.verdict is None else self.verdict.feedback


def run_one(exercise: str, name: str, namespace: dict[str, Any], *, seed: int = 0,
            student_id: str = "s001", settings: Optional[dict] = None,
            timeout: float = CALL_TIMEOUT_S) -> CheckOutcome:
    """Run the registered check `exercise`/`name` against `namespace`, as the runner would."""
    from grader.rubric import load_rubric

    chk = REGISTRY[exercise][name]
    if settings is None:
        settings = load_rubric(exercise).settings
    ctx = CheckContext(exercise=exercise, transport=make_transport(namespace, exercise), seed=seed,
                       student_id=student_id, timeout=check_timeout(chk, timeout), test_name=chk.name,
                       settings=dict(settings))
    try:
        verdict = chk.run(ctx)
    except StudentCodeError as exc:
        return CheckOutcome(exc.status, None, exc.message)
    return CheckOutcome("passed" if verdict.passed else "failed", verdict)


SOLUTIONS = Path(__file__).resolve().parents[3] / "solutions"


def load_solution(stem: str, imports: tuple[str, ...] = ()) -> Optional[dict[str, Any]]:
    """The namespace of `solutions/<stem>.py` or `.ipynb` (code cells run in order), or None if absent.

    While it runs, `solutions/` is on `sys.path`, so `from ex3_mlp_backprop import ...` finds the
    sibling solution module, as it would next to the student's files. `imports`: sibling stems
    to load first from this helper (kept for callers that name them; no longer needed). Sibling
    modules imported here are dropped from `sys.modules` afterwards.
    """
    from grader.submission.notebook import read_cells

    module, notebook = SOLUTIONS / f"{stem}.py", SOLUTIONS / f"{stem}.ipynb"
    if module.exists():
        cells = [module.read_text("utf-8")]
    elif notebook.exists():
        cells = [source for _, source in read_cells(notebook).cells]
    else:
        return None
    added = {}
    for name in imports:
        dependency = load_solution(name)
        if dependency is None:
            return None
        added[name] = types.ModuleType(name)
        added[name].__dict__.update(dependency)
    namespace: dict[str, Any] = {"__name__": stem}
    before = set(sys.modules)
    saved = {name: sys.modules.get(name) for name in added}
    sys.modules.update(added)
    sys.path.insert(0, str(SOLUTIONS))
    try:
        for source in cells:
            exec(compile(source, f"<{stem}>", "exec"), namespace)  # noqa: S102 - the course's own solution
    finally:
        sys.path.remove(str(SOLUTIONS))
        for name in set(sys.modules) - before:  # siblings imported from solutions/ while it ran
            origin = getattr(sys.modules[name], "__file__", None)
            if origin and Path(origin).parent == SOLUTIONS:
                del sys.modules[name]
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    return {name: value for name, value in namespace.items() if not name.startswith("__")}


@pytest.fixture
def transport_factory() -> Callable[..., Any]:
    return make_transport


@pytest.fixture
def run_check() -> Callable[..., CheckOutcome]:
    return run_one
