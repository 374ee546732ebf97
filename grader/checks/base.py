"""What a check is, and the context it runs in.

A check is a small function `(ctx) -> Verdict`. It asks the student's code for answers through
`ctx` (which talks to the sandboxed worker) and decides, here in the grader's process, whether
those answers are right. Points and visibility come from the rubric, not from the check.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol, Sequence

import numpy as np

from grader.defaults import CALL_TIMEOUT_S
from grader.errors import GraderError, StudentCodeError


class Transport(Protocol):
    """Sends one request to wherever the student's code lives and returns the decoded value.

    Raises `grader.errors.StudentCodeError` when the code raised, timed out, crashed or is missing.
    Implemented by `grader.worker.client.WorkerClient` (sandboxed) and
    `grader.worker.in_process.InProcessTransport` (a notebook's own kernel, for self-checks).
    A transport may also offer `request_many(headers, timeout)` (see WorkerClient) to send
    independent requests without a round trip each; `CheckContext.call_all` uses it when there.
    """

    def request(self, header: dict, timeout: float) -> Any: ...


@dataclass(frozen=True)
class Outcome:
    """One call's result from `CheckContext.call_all`: its value, or the error it raised."""

    value: Any = None
    error: Optional[Exception] = None

    def get(self) -> Any:
        """The value; the call's error is raised here, where a one-at-a-time call would have raised it."""
        if self.error is not None:
            raise self.error
        return self.value


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check. `fraction` gives partial credit (None: all or nothing)."""

    passed: bool
    feedback: str = ""
    diagnosis: Optional[str] = None
    fraction: Optional[float] = None

    @property
    def credit(self) -> float:
        if self.fraction is not None:
            return float(min(1.0, max(0.0, self.fraction)))
        return 1.0 if self.passed else 0.0


def ok(feedback: str = "") -> Verdict:
    return Verdict(True, feedback)


def fail(feedback: str, diagnosis: Optional[str] = None, fraction: Optional[float] = None) -> Verdict:
    return Verdict(False, feedback, diagnosis, fraction)


@dataclass(frozen=True)
class Check:
    exercise: str  # file stem, e.g. "ex1_activations_losses"
    name: str  # test name in the report and the rubric, e.g. "sigmoid.values"
    run: Callable[["CheckContext"], Verdict]
    needs: tuple[str, ...] = ()  # contract names it calls: missing ones give status "missing"
    hint: str = ""  # one line a student sees when it fails
    timeout: Optional[float] = None  # seconds for each call; None: the grading run's default


REGISTRY: dict[str, dict[str, Check]] = {}


def check(exercise: str, name: str, *, needs: tuple[str, ...] = (), hint: str = "",
          timeout: Optional[float] = None) -> Callable[[Callable[["CheckContext"], Verdict]], Callable]:
    """Register a check function under `exercise` and `name`."""

    def register(fn: Callable[["CheckContext"], Verdict]) -> Callable:
        REGISTRY.setdefault(exercise, {})[name] = Check(exercise, name, fn, tuple(needs), hint, timeout)
        return fn

    return register


def seed_for(seed: int, *parts: str) -> int:
    """A stable 64-bit seed for one check, so each check's inputs do not depend on the others."""
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass
class CheckContext:
    """Everything a check may use. Only `call`, `method`, `getattr` and `program` reach student code."""

    exercise: str
    transport: Transport
    seed: int = 0
    student_id: str = ""
    timeout: float = CALL_TIMEOUT_S  # seconds for each call into student code that names no timeout
    test_name: str = ""
    settings: dict = field(default_factory=dict)  # the rubric's [settings] table for this exercise
    # True in the instructor's grading run: public checks build their fixtures on inputs drawn
    # from the seed; False in a self-check, which uses the published fixtures.
    fresh_fixtures: bool = False
    # The exercise's source as submitted, read in the grader (a module's text, or a notebook's
    # code cells, one entry each); None when unknown. For checks of how an answer is written.
    source_cells: Optional[tuple[str, ...]] = None
    calls: int = field(default=0)
    # Functions that already hung once: calling them again would only burn the time budget.
    timed_out: set = field(default_factory=set)

    @property
    def rng(self) -> np.random.Generator:
        return np.random.default_rng(seed_for(self.seed, self.exercise, self.test_name))

    @property
    def source_text(self) -> Optional[str]:
        """The exercise's source as one text (a notebook's code cells joined), or None."""
        return None if self.source_cells is None else "\n\n".join(self.source_cells)

    def fixture(self, name: str) -> dict:
        """Public-check data for this exercise: when grading, built on inputs drawn from the seed
        and this test's name; otherwise as published (shipped with the release, or built from
        the reference)."""
        from grader.checks.fixtures import drawn_fixture, load_fixture

        if self.fresh_fixtures:
            return drawn_fixture(self.exercise, name, seed_for(self.seed, self.exercise, "fixture", name,
                                                               self.test_name))
        return load_fixture(self.exercise, name)

    def _send(self, header: dict, timeout: Optional[float]) -> Any:
        """One request; its reply's value (checked against the reply schema by the transport)."""
        name = header.get("name") if header["op"] == "call" else header.get("kind")
        if name in self.timed_out:
            raise StudentCodeError("timeout", f"Not run: {name} did not finish in time in an earlier check.")
        self.calls += 1
        try:
            return self.transport.request(header, timeout=self.timeout if timeout is None else timeout)
        except StudentCodeError as exc:
            if exc.status == "timeout" and name:
                self.timed_out.add(name)
            raise

    def call(self, name: str, *args: Any, timeout: Optional[float] = None, max_reply_bytes: Optional[int] = None,
             **kwargs: Any) -> Any:
        """Call the student's `name(*args, **kwargs)` and return the result as plain data.

        `max_reply_bytes` overrides the transport's cap on the answer's size (by default a
        generous multiple of the arguments' size, see grader/worker/client.py).
        """
        return self._send(_capped({"op": "call", "module": self.exercise, "name": name,
                                   "args": list(args), "kwargs": kwargs}, max_reply_bytes), timeout)

    def call_all(self, calls: Sequence[tuple[str, Sequence[Any], dict[str, Any]]],
                 timeout: Optional[float] = None, max_reply_bytes: Optional[int] = None) -> list[Outcome]:
        """`call(name, *args, **kwargs)` for each (name, args, kwargs), as independent calls.

        The requests go out together, so the worker runs one after the other without waiting for
        the grader; the outcomes are those of calling one at a time, in order (a timeout still
        stops the worker, and what comes after it runs on a fresh one).
        """
        return self._send_all([_capped({"op": "call", "module": self.exercise, "name": name, "args": list(args),
                                        "kwargs": dict(kwargs)}, max_reply_bytes) for name, args, kwargs in calls],
                              timeout)

    def program_all(self, kind: str, specs: Sequence[dict], timeout: Optional[float] = None) -> list[Outcome]:
        """`program(kind, spec)` for each spec, sent together as `call_all` sends calls.

        A failed outcome whose spec is malformed raises GraderError instead (see `program`).
        """
        outcomes = self._send_all([{"op": "program", "module": self.exercise, "kind": kind, "spec": spec}
                                   for spec in specs], timeout)
        return [Outcome(error=_spec_error(kind, spec, outcome.error)) if outcome.error is not None else outcome
                for spec, outcome in zip(specs, outcomes)]

    def _send_all(self, headers: list[dict], timeout: Optional[float]) -> list[Outcome]:
        def name(header: dict) -> Any:
            return header.get("name") if header["op"] == "call" else header.get("kind")

        outcomes: list[Outcome] = []
        send_many = getattr(self.transport, "request_many", None)
        if send_many is not None and len(headers) > 1:
            ready = 0  # the leading requests not already known to hang
            while ready < len(headers) and name(headers[ready]) not in self.timed_out:
                ready += 1
            for value, error in send_many(headers[:ready], timeout=self.timeout if timeout is None else timeout):
                self.calls += 1
                if isinstance(error, StudentCodeError) and error.status == "timeout":
                    self.timed_out.add(name(headers[len(outcomes)]))
                outcomes.append(Outcome(value, error))
        for header in headers[len(outcomes):]:  # one at a time: after a stopped worker, or without request_many
            try:
                outcomes.append(Outcome(self._send(header, timeout)))
            except (StudentCodeError, GraderError) as exc:  # raised by .get(), as request_many's are
                outcomes.append(Outcome(error=exc))
        return outcomes

    def call_with_args(self, name: str, *args: Any, timeout: Optional[float] = None,
                       max_reply_bytes: Optional[int] = None, **kwargs: Any) -> tuple[Any, list[Any]]:
        """Like `call`, and also return the arguments as they were after the call (mutation checks)."""
        reply = self._send(_capped({"op": "call", "module": self.exercise, "name": name, "args": list(args),
                                    "kwargs": kwargs, "return_args": True}, max_reply_bytes), timeout)
        return reply["value"], reply["args_after"]

    def method(self, handle: dict, name: str, *args: Any, timeout: Optional[float] = None,
               **kwargs: Any) -> Any:
        return self._send({"op": "method", "handle": handle, "name": name, "args": list(args),
                           "kwargs": kwargs}, timeout)

    def getattr(self, handle: dict, name: str, timeout: Optional[float] = None) -> Any:
        return self._send({"op": "getattr", "handle": handle, "name": name}, timeout)

    def program(self, kind: str, spec: dict, timeout: Optional[float] = None) -> Any:
        """Run one of the worker's graph programs (see grader/worker/inside/programs.py).

        When it fails, the grader parses the spec itself: a malformed spec is the grader's own
        mistake (GraderError), whatever the worker answered; otherwise the failure is the student's.
        """
        try:
            return self._send({"op": "program", "module": self.exercise, "kind": kind, "spec": spec}, timeout)
        except StudentCodeError as exc:
            raise _spec_error(kind, spec, exc) from None


def _capped(header: dict, max_reply_bytes: Optional[int]) -> dict:
    """`header` with a cap on its reply's size, when one is given."""
    if max_reply_bytes is not None:
        header["max_reply_bytes"] = int(max_reply_bytes)
    return header


class _SpecParsed(Exception):
    """Raised by the stand-in engine of `spec_problem`: the whole spec was parsed."""


class _StandIn:
    def __init__(self, *args: Any, **kwargs: Any):
        raise _SpecParsed()


def _stand_in_function(*args: Any, **kwargs: Any) -> Any:
    raise _SpecParsed()


def spec_problem(kind: str, spec: Any) -> Optional[str]:
    """Why the graph program would refuse `spec` (its SpecError), or None when it is well formed.

    The programs parse a whole spec before any engine code runs, so running one on a stand-in
    engine that stops at the first node decides this here, in the grader's process.
    """
    from grader.worker.inside import programs

    namespace = {"Value": _StandIn, "Tensor": _StandIn,
                 **{name: _stand_in_function for name in programs.TENSOR_FUNCTIONS}}
    try:
        programs.run_program(kind, namespace, spec)
    except _SpecParsed:
        return None
    except programs.SpecError as exc:
        return str(exc)[:500]
    return None


def _spec_error(kind: str, spec: Any, error: Exception) -> Exception:
    """The error a failed program request raises: GraderError when the grader's own parse finds
    the spec malformed (decided here, never by a reply), else the request's own error. Parsing
    only after a failure keeps a deep chain's spec from being parsed twice on the way to a pass."""
    if not (isinstance(error, StudentCodeError) and error.status == "error" and error.event is None):
        return error  # a timeout, a crash, a missing engine: not what a malformed spec gives
    problem = spec_problem(kind, spec)
    return error if problem is None else GraderError(f"the grader made a malformed {kind} spec: {problem}")
