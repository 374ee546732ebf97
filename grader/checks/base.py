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
    timeout: float = 10.0
    test_name: str = ""
    settings: dict = field(default_factory=dict)  # the rubric's [settings] table for this exercise
    calls: int = field(default=0)
    # Functions that already hung once: calling them again would only burn the time budget.
    timed_out: set = field(default_factory=set)

    @property
    def rng(self) -> np.random.Generator:
        return np.random.default_rng(seed_for(self.seed, self.exercise, self.test_name))

    def fixture(self, name: str) -> dict:
        """Public-check data for this exercise (shipped with the release, or built from the reference)."""
        from grader.checks.fixtures import load_fixture

        return load_fixture(self.exercise, name)

    def _send(self, header: dict, timeout: Optional[float]) -> Any:
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

    def call(self, name: str, *args: Any, timeout: Optional[float] = None, **kwargs: Any) -> Any:
        """Call the student's `name(*args, **kwargs)` and return the result as plain data."""
        return self._send({"op": "call", "module": self.exercise, "name": name,
                           "args": list(args), "kwargs": kwargs}, timeout)

    def call_all(self, calls: Sequence[tuple[str, Sequence[Any], dict[str, Any]]],
                 timeout: Optional[float] = None) -> list[Outcome]:
        """`call(name, *args, **kwargs)` for each (name, args, kwargs), as independent calls.

        The requests go out together, so the worker runs one after the other without waiting for
        the grader; the outcomes are those of calling one at a time, in order (a timeout still
        stops the worker, and what comes after it runs on a fresh one).
        """
        return self._send_all([{"op": "call", "module": self.exercise, "name": name, "args": list(args),
                                "kwargs": dict(kwargs)} for name, args, kwargs in calls], timeout)

    def program_all(self, kind: str, specs: Sequence[dict], timeout: Optional[float] = None) -> list[Outcome]:
        """`program(kind, spec)` for each spec, sent together as `call_all` sends calls."""
        return self._send_all([{"op": "program", "module": self.exercise, "kind": kind, "spec": spec}
                               for spec in specs], timeout)

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
                       **kwargs: Any) -> tuple[Any, list[Any]]:
        """Like `call`, and also return the arguments as they were after the call (mutation checks)."""
        reply = self._send({"op": "call", "module": self.exercise, "name": name, "args": list(args),
                            "kwargs": kwargs, "return_args": True}, timeout)
        return reply["value"], reply["args_after"]

    def method(self, handle: dict, name: str, *args: Any, timeout: Optional[float] = None,
               **kwargs: Any) -> Any:
        return self._send({"op": "method", "handle": handle, "name": name, "args": list(args),
                           "kwargs": kwargs}, timeout)

    def getattr(self, handle: dict, name: str, timeout: Optional[float] = None) -> Any:
        return self._send({"op": "getattr", "handle": handle, "name": name}, timeout)

    def program(self, kind: str, spec: dict, timeout: Optional[float] = None) -> Any:
        """Run one of the worker's graph programs (see grader/worker/inside/programs.py)."""
        return self._send({"op": "program", "module": self.exercise, "kind": kind, "spec": spec}, timeout)
