"""Exceptions the grader raises and catches. Each message says what to do about it."""
from __future__ import annotations

from typing import Optional


class GraderError(Exception):
    """Base class for the grader's own errors."""


class BadSubmissionError(GraderError):
    """The submission cannot be read at all (bad zip, no exercise files, unreadable file)."""


class StudentCodeError(GraderError):
    """A call into the student's code did not give an answer.

    `status` is the test status it causes (error, missing, blocked, timeout); `event` is the
    report's `errors[].kind` when the event concerns the whole worker (timeout, memory, crash,
    blocked, syntax), or None when only this call failed (the student's function raised).
    """

    def __init__(self, status: str, message: str, event: Optional[str] = None, traceback: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message
        self.event = event
        self.traceback = traceback
