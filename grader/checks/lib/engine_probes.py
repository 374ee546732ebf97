"""The engine probes: small graphs run on the student's engine to tell which graph mistake it makes.

In an arbitrary graph gradient_overwritten (`=` where `+=` belongs) and wrong_topological_order
(a node run before all its consumers) can look alike, so a check names either only when these
probes agree (`grader.diagnosis.engine_probes.shared_use_mistake`): a leaf used twice where the
walk's order cannot matter (x op x, op(x) + x) for gradient_overwritten, and graphs built to show
the order (an interior node reached by a short and a long path) for wrong_topological_order.

The procedure is the same for the scalar `Value` (exercise 4) and the numpy `Tensor`
(exercise 5); what differs, passed in, is how an answer is read and how the order probes are
judged (every node's grad is visible in a Value graph, only the leaves' in a Tensor graph).
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

from grader.checks.base import CheckContext
from grader.checks.lib.graph_cases import GraphCase, Result, Spec
from grader.diagnosis.engine_probes import Same, shared_use_mistake
from grader.errors import StudentCodeError

# The check's own engine probes, run only when a graph's answers suggest a graph mistake.
Confirm = Callable[[CheckContext], Optional[str]]


def probe_engine(ctx: CheckContext, program: str, overwrite: Sequence[GraphCase], order: Sequence[GraphCase], *,
                 readable: Callable[[Any, Spec], bool], order_failed: Callable[[GraphCase, Result], bool],
                 same: Same) -> Optional[str]:
    """gradient_overwritten, wrong_topological_order or None, from the probes run on the student's engine.

    `program`: the worker's graph program ("value_graph", "tensor_graph"). `overwrite`: the
    shared-use probes, whose right answers and edge contributions are the exercise's "probes"
    fixture. `order`: the order probes; `order_failed(case, answer)` says whether one shows a
    node run too early. Any answer that raised or cannot be read (`readable(answer, spec)`)
    gives no evidence: None.
    """
    cases = [*overwrite, *order]
    try:
        runs = [answer.get() for answer in ctx.program_all(program, [case.spec for case in cases])]
    except StudentCodeError:
        return None
    if not all(readable(run, case.spec) for run, case in zip(runs, cases)):
        return None
    answers = ctx.fixture("probes")
    kept = [(run["grad"][0], answers[case.label]["grad"][0], answers[case.label]["edges"]["0"])
            for case, run in zip(overwrite, runs)]
    failed = any(order_failed(case, run) for case, run in zip(order, runs[len(overwrite):]))
    return shared_use_mistake(kept, failed, same)
