"""Answers several checks of one part share, asked of the worker once per run of the part.

A training run takes seconds and feeds three tests (did it run, the architecture it saved, what
it learned); a handed-in model may be large and feeds two. A part's checks all run with one
CheckContext (one worker, one phase: see grader/checks/runner.py), so the answers are kept on
that context: the hidden phase, with its own context and worker, asks again, and nothing
carries over to another part or another student.
"""
from __future__ import annotations

from typing import Callable, Hashable, TypeVar

from grader.checks.base import CheckContext

T = TypeVar("T")

_ATTRIBUTE = "_da6401_shared_answers"


def shared(ctx: CheckContext, key: Hashable, get: Callable[[], T]) -> T:
    """`get()` the first time a check of this part's run asks for `key`; the same answer after."""
    store = vars(ctx).setdefault(_ATTRIBUTE, {})
    if key not in store:
        store[key] = get()
    return store[key]
