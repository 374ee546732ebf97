"""A graph case: a spec for the worker's graph programs and the names of its nodes, for feedback.

Specs are those of `grader.worker.inside.programs`: leaves, then operations on earlier nodes
(an operand is a node's index or `const(value)`), then the nodes to call backward on. The
scalar engine (exercise 4) and the tensor engine (exercise 5) run the same kind of spec.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Spec = dict[str, Any]
Result = dict[str, list]  # the program's answer: one entry per node under each key ("data", "grad", ...)


@dataclass(frozen=True)
class GraphCase:
    """A spec and the names of its nodes ('x', 'y', 'x / y', ...), for feedback."""

    label: str
    spec: Spec
    names: tuple[str, ...]


def const(value: Any) -> dict:
    """An operand that is a number (or array), not a node."""
    return {"const": value}
