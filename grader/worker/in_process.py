"""A Transport that runs checks against code already in this process, e.g. a notebook kernel.

Self-checks call `grade`'s public checks from inside the student's notebook. The requests go
through the worker's own handler and a real encode/decode round trip, so arrays, handles,
errors and missing names look exactly as they do to the grader.

What it does not do, because the code lives in the caller's own process: no sandbox, no guard
(no blocked imports or system calls), and no timeout: `timeout` is accepted and ignored, so an
endless loop in the student's code hangs the self-check as it would hang the notebook.
"""
from __future__ import annotations

from typing import Any, Optional

from grader.worker.inside import protocol
from grader.worker.inside.handler import Handler, NamespaceModules
from grader.worker.replies import reply_value

UNEXPLAINED_FAILURE = "the code reported a failure"  # no worker here: the code itself answered


class InProcessTransport:
    """`request(header, timeout)` against live namespaces: {"ex3_mlp_backprop": globals(), ...}."""

    def __init__(self, namespaces: dict[str, dict], *, limits: protocol.Limits = protocol.DEFAULT_LIMITS):
        self.namespaces = namespaces
        self.limits = limits
        self.handler = Handler(NamespaceModules(namespaces), sandboxed=False, limits=limits)
        self.sandbox_name = "none"
        self._next_id = 1

    def request(self, header: dict, timeout: Optional[float] = None) -> Any:
        """Send one request through the handler; return its value or raise StudentCodeError."""
        request_id = self._next_id
        self._next_id += 1
        wire = protocol.pack(dict(header, id=request_id), limits=self.limits)
        frame = protocol.read_frame(protocol.BytesReader(wire), limits=self.limits)
        reply = protocol.unpack(self.handler.respond(frame).to_bytes(), limits=self.limits)
        # a program's result is not checked: in a kernel of one's own, a stand-in may answer
        return reply_value(header, reply, programs=False, unexplained=UNEXPLAINED_FAILURE)

    def close(self) -> None:
        """Nothing to stop; here so callers can treat every transport alike."""
