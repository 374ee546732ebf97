"""Exercise 4's `Value` graphs: running them on the student's engine and judging the answers.

`Value` is exercised through the worker's graph program (`ctx.program("value_graph", spec)`,
see grader/worker/inside/programs.py): a spec lists leaves and operations, the worker builds
them with the student's `Value`, calls backward, and returns every node's data and grad.

Graph mistakes are diagnosed from the answers alone (`grader.diagnosis.engine_probes`). The
contribution of one use of a node (one edge of the graph) is the gradient of a fresh leaf put
in that use's place; so
- a shared node whose grad equals one edge's contribution lost the other paths:
  gradient_overwritten (`=` instead of `+=`);
- a shared node whose grad is right while its inputs got a fraction of it (some edges'
  share) propagated before all its consumers were done: wrong_topological_order;
- wrong grads that are all minus the right ones: sign_flipped;
- one operation's grad equal to a slip in its local derivative (tanh' of the input, relu' = 1,
  the output for the derivative): that slip's code.
The first two are named only when the engine probes agree (`grader.checks.lib.engine_probes`).
"""
from __future__ import annotations

from typing import Any, Optional

from grader.checks import graph_specs
from grader.checks.base import CheckContext, Outcome, Verdict, fail, ok
from grader.checks.compare import describe
from grader.checks.lib.answers import AnswerError, with_mistake
from grader.checks.lib.engine_probes import Confirm, probe_engine
from grader.checks.lib.graph_cases import GraphCase, Result
from grader.diagnosis.engine_probes import (
    close, graph_mistake, local_derivative_mistake, recursion_failure, sign_mistake,
)
from grader.errors import StudentCodeError

STEM = "ex4_autograd_scalar"


def is_result(value: Any, size: int) -> bool:
    """True when the graph program's answer holds data and grads for `size` nodes."""
    return isinstance(value, dict) and all(isinstance(value.get(k), list) and len(value[k]) == size
                                           for k in ("data", "grad"))


def read_result(value: Any, size: int) -> Result:
    """The graph program's answer; raises AnswerError when it is not data and grads for `size` nodes."""
    if not is_result(value, size):
        raise AnswerError(fail(f"The graph program returned {describe(value)} instead of data and grads for "
                               f"{size} nodes: is Value's .data a number?"))
    return value


def wrong_nodes(got: Result, expected: Result, rtol: float) -> tuple[list[int], list[int]]:
    """Nodes whose data, and nodes whose grad, differ from the expected answer."""
    bad_data = [i for i, (g, e) in enumerate(zip(got["data"], expected["data"])) if not close(g, e, rtol)]
    bad_grad = [i for i, (g, e) in enumerate(zip(got["grad"], expected["grad"])) if not close(g, e, rtol)]
    return bad_data, bad_grad


def judge_graph(ctx: CheckContext, case: GraphCase, expected: Result, edges: dict[str, list], *,
                confirm: Confirm, reveal: bool = True, answer: Optional[Outcome] = None) -> Verdict:
    """Run `case` on the student's engine (or take its `answer` from `ctx.program_all`) and
    compare every node's data and grad with `expected`.

    `confirm`: the engine probes a graph mistake this graph suggests must agree with (the
    exercise's `engine_mistake`).
    """
    rtol = ctx.settings.get("rtol", 1e-9)
    value = ctx.program("value_graph", case.spec) if answer is None else answer.get()
    got = read_result(value, len(case.spec["nodes"]))
    bad_data, bad_grad = wrong_nodes(got, expected, rtol)
    if bad_data:
        i = bad_data[0]
        shown = f": it is {got['data'][i]!r}, the right value is {expected['data'][i]!r}" if reveal else ""
        return fail(f"{case.label}: the forward value of {case.names[i]} is wrong{shown}.")
    if not bad_grad:
        return ok()

    def same(a: Any, b: Any) -> bool:
        return close(float(a), float(b), rtol)

    code = graph_mistake(got["grad"], expected["grad"], edges, case.spec, rtol)
    if code is not None:
        code = confirm(ctx)  # what this graph suggests, the probes must confirm
    code = code or sign_mistake(got["grad"], expected["grad"], range(len(case.spec["nodes"])), same) \
        or local_derivative_mistake(case.spec, got["grad"][0], expected["grad"][0], same)
    i = bad_grad[0]
    shown = f": it is {got['grad'][i]!r}, the right value is {expected['grad'][i]!r}" if reveal else ""
    others = f" ({len(bad_grad) - 1} other node(s) too)" if len(bad_grad) > 1 else ""
    return with_mistake(f"{case.label}: after backward, the grad of {case.names[i]} is wrong{shown}{others}.", code,
                        STEM)


def run_deep_chain(ctx: CheckContext, case: GraphCase) -> Result:
    """The program's answer for a deep chain; a RecursionError raises AnswerError naming recursion_limit.

    Only a RecursionError is caught here: any other failure goes on to the runner, which records
    it with its own status (error, timeout, ...).
    """
    try:
        value = ctx.program("value_graph", case.spec, timeout=ctx.settings.get("deep_timeout", 20.0))
    except StudentCodeError as error:
        if recursion_failure(error):
            raise AnswerError(with_mistake(f"backward on {case.label} failed with RecursionError.",
                                           "recursion_limit", STEM)) from None
        raise
    return read_result(value, len(case.spec.get("report", case.spec["nodes"])))


# The engine probes for Value.

def probe_cases() -> list[GraphCase]:
    """A leaf x used twice where the order of the walk cannot matter: x op x, op(x) + x."""
    return [GraphCase(label, spec, ("x",) + tuple(f"node {i}" for i in range(1, len(spec["nodes"]))))
            for label, spec in graph_specs.shared_use_probe_specs().items()]


def topological_probe_case(mirrored: bool) -> GraphCase:
    """Four diamonds s_k = w_k x_k -> exp(3 tanh s_k) + s_k, summed (`graph_specs.topological_probe_spec`).

    Each s_k reaches the output by a short path and a long one, so a walk that visits s_k when
    its first consumer is done runs it too early; the sums' operands alternate (and swap when
    `mirrored`), so a walk that follows consumers in either order meets some s_k early.
    """
    spec = graph_specs.topological_probe_spec(copies=4, mirrored=mirrored)
    names = []
    for k in range(1, 5):
        names += [f"w{k}", f"x{k}", f"s{k} = w{k} x{k}", f"tanh s{k}", f"3 tanh s{k}", f"exp(3 tanh s{k})",
                  f"exp(3 tanh s{k}) + s{k}"]
    names += [f"sum of the first {k} diamonds" for k in range(2, 5)]
    return GraphCase(f"four diamonds exp(3 tanh s) + s with s = w x{', mirrored' if mirrored else ''}",
                     spec, tuple(names))


def engine_mistake(ctx: CheckContext) -> Optional[str]:
    """Run the engine probes on the student's Value: which of the two graph mistakes it makes.

    In an arbitrary graph the two can look alike (a node run too early may send nothing on one
    path, as if its grad had been overwritten), so a graph's own evidence is only believed when
    the probes agree (`engine_probes.shared_use_mistake`): x op x and op(x) + x for
    gradient_overwritten, the topological probes (a node reached by a short and a long path)
    for wrong_topological_order. Their right answers are the "probes" and "graphs" fixtures.
    """
    rtol = ctx.settings.get("rtol", 1e-9)

    def order_failed(case: GraphCase, run: Result) -> bool:
        right = ctx.fixture("graphs")[case.label]
        return graph_mistake(run["grad"], right["grad"], right["edges"], case.spec, rtol) == "wrong_topological_order"

    orders = [topological_probe_case(False), topological_probe_case(True)]
    return probe_engine(ctx, "value_graph", probe_cases(), orders,
                        readable=lambda run, spec: is_result(run, len(spec["nodes"])), order_failed=order_failed,
                        same=lambda a, b: close(float(a), float(b), rtol))
