"""Hidden checks for exercise 4 (instructor only): random graphs against the reference engine.

The reference `Value` runs through the same graph interpreter in this process, so both answers
are built the same way. Random graphs reuse nodes, so paths merge; their inputs keep every
operation inside its domain (log of a positive number, no division by a small one, ReLU away
from its kink). Feedback names the node and the operation, never a value.
"""
from __future__ import annotations

import numpy as np

from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.batch_cache import batch_memo, reference_memo
from grader.checks.graph_specs import chain_entry, report_ends
from grader.checks.lib.answers import register, with_mistake
from grader.checks.lib.graph_cases import GraphCase, Result, Spec, const
from grader.checks.lib.scalar_graphs import STEM, engine_mistake, judge_graph, run_deep_chain
from grader.checks.lib.sigmoid_trace import LECTURE_TRACE_INPUT, judge_trace, read_trace
from grader.diagnosis.engine_probes import close, edge_contributions
from grader.worker.inside.programs import run_value_graph
from reference import scalar_engine

UNARY = ("neg", "exp", "log", "sigmoid", "tanh", "relu")
BINARY = ("add", "sub", "mul", "truediv")
EXPONENTS = (2, 3, -1, 0.5, 1.5)


@reference_memo  # every student of a batch meets the same graphs
def run_reference(spec: Spec) -> Result:
    return run_value_graph(scalar_engine.Value, spec)


def random_spec(rng: np.random.Generator, leaves: int, operations: int) -> Spec:
    """Leaves in [-2, 2], then random operations on earlier nodes (reused often), then a sum of the last three."""
    nodes: list[list] = [["leaf", round(float(rng.uniform(-2.0, 2.0)), 6)] for _ in range(leaves)]
    for _ in range(operations):
        a, b = (int(i) for i in rng.integers(0, len(nodes), size=2))
        kind = rng.random()
        if kind < 0.35:
            nodes.append(["op", str(rng.choice(UNARY)), a])
        elif kind < 0.5:
            nodes.append(["op", "pow", a, const(EXPONENTS[int(rng.integers(len(EXPONENTS)))])])
        elif kind < 0.7:
            number = const(round(float(rng.uniform(0.5, 2.0)) * float(rng.choice([-1.0, 1.0])), 3))
            operands = [a, number] if rng.random() < 0.5 else [number, a]  # reflected forms too
            nodes.append(["op", str(rng.choice(BINARY)), *operands])
        else:
            nodes.append(["op", str(rng.choice(BINARY)), a, b])
    last = len(nodes) - 1
    nodes += [["op", "add", last, last - 1], ["op", "add", last + 1, last - 2]]
    return {"nodes": nodes, "backward": [len(nodes) - 1]}


def well_conditioned(spec: Spec, result: Result) -> bool:
    """Every operation inside its domain and away from singular points; values and grads moderate."""
    data = result["data"]
    if not all(abs(v) < 1e3 for v in data) or not all(abs(g) < 1e5 for g in result["grad"]):
        return False
    for node in spec["nodes"]:
        if node[0] != "op":
            continue
        name, operands = node[1], node[2:]
        values = [data[o] if isinstance(o, int) else o["const"] for o in operands]
        if name == "log" and values[0] < 0.1:
            return False
        if name == "relu" and abs(values[0]) < 1e-3:
            return False
        if name == "exp" and values[0] > 5.0:
            return False
        if name == "truediv" and abs(values[1]) < 0.2:
            return False
        if name == "pow" and (abs(values[0]) < 0.2 or (values[0] < 0 and values[1] not in (2, 3, -1))):
            return False
    return True


def random_case(rng: np.random.Generator, leaves: int = 3, operations: int = 14) -> tuple[GraphCase, Result]:
    """A well-conditioned random graph and the reference's answer for it."""
    while True:
        spec = random_spec(rng, leaves, operations)
        try:
            result = run_reference(spec)
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
        if well_conditioned(spec, result):
            names = tuple(f"node {i} (leaf)" if n[0] == "leaf" else f"node {i} ({n[1]})"
                          for i, n in enumerate(spec["nodes"]))
            return GraphCase(f"In a random graph of {operations + 2} operations", spec, names), result


@register(STEM, "Value.random_graphs", needs=("Value",),
          hint="Every node sums the gradients of all its uses, and runs its backward after all its consumers.")
def value_random_graphs(ctx: CheckContext) -> Verdict:
    count = int(ctx.settings.get("random_graphs", 8))

    def draw() -> list:
        rng = ctx.rng
        return [(case, expected, edge_contributions(case.spec, expected["data"], run_reference))
                for case, expected in (random_case(rng) for _ in range(count))]

    drawn = batch_memo((STEM, ctx.test_name, ctx.seed, count), draw)
    answers = ctx.program_all("value_graph", [case.spec for case, _, _ in drawn])
    for (case, expected, edges), answer in zip(drawn, answers):
        verdict = judge_graph(ctx, case, expected, edges, confirm=engine_mistake, reveal=False, answer=answer)
        if not verdict.passed:
            return verdict
    return ok()


def operator_case(rng: np.random.Generator, name: str, reflected: bool) -> GraphCase:
    """One operation on random operands in its domain: x (node 0) op y (node 1), or const op x."""
    x = float(rng.uniform(0.3, 2.0)) * float(rng.choice([-1.0, 1.0]))
    y = float(rng.uniform(0.3, 2.0)) * float(rng.choice([-1.0, 1.0]))
    if name in ("log", "pow"):
        x = abs(x)
    if name in UNARY:
        return GraphCase(f"Value.{name}", {"nodes": [["leaf", x], ["op", name, 0]], "backward": [1]}, ("x", name))
    if name == "pow":
        exponent = EXPONENTS[int(rng.integers(len(EXPONENTS)))]
        return GraphCase("x ** p", {"nodes": [["leaf", x], ["op", "pow", 0, const(exponent)]], "backward": [1]},
                         ("x", "x ** p"))
    symbol = {"add": "+", "sub": "-", "mul": "*", "truediv": "/"}[name]
    if reflected:
        return GraphCase(f"number {symbol} x (reflected)",
                         {"nodes": [["leaf", x], ["op", name, const(round(y, 4)), 0]], "backward": [1]},
                         ("x", f"number {symbol} x"))
    return GraphCase(f"x {symbol} y", {"nodes": [["leaf", x], ["leaf", y], ["op", name, 0, 1]], "backward": [2]},
                     ("x", "y", f"x {symbol} y"))


@register(STEM, "Value.random_operators", needs=("Value",),
          hint="Check each operator's local derivative, and the reflected forms 2 + v, 1 - v, 3 * v, 2 / v.")
def value_random_operators(ctx: CheckContext) -> Verdict:
    rng = ctx.rng
    cases = [operator_case(rng, name, reflected) for _ in range(2) for name in (*BINARY, "pow", *UNARY)
             for reflected in ((False, True) if name in BINARY else (False,))]
    for case, answer in zip(cases, ctx.program_all("value_graph", [case.spec for case in cases])):
        verdict = judge_graph(ctx, case, run_reference(case.spec), {}, confirm=engine_mistake, reveal=False,
                              answer=answer)
        if not verdict.passed:
            return verdict
    return ok()


def random_chain_spec(rng: np.random.Generator, depth: int) -> Spec:
    """x, then `depth` operations whose local derivatives are +-1 (x + c, c - x, -x, x - c), so the
    values stay moderate and d(last)/d(x) = +-1; reflected forms included. Answers for the two ends."""
    start = float(rng.uniform(-1.0, 1.0))
    numbers = np.round(rng.uniform(-1.0, 1.0, size=depth), 3)
    chain = chain_entry([["add", "x", "c"], ["sub", "c", "x"], ["neg", "x"], ["sub", "x", "c"]],
                        rng.integers(4, size=depth), numbers)
    return report_ends({"nodes": [["leaf", start], chain], "backward": [depth]})


@register(STEM, "Value.deep_random_chain", needs=("Value",), timeout=30.0,
          hint="Graphs deeper than the recursion limit must work: walk them with an explicit stack.")
def value_deep_random_chain(ctx: CheckContext) -> Verdict:
    rng = ctx.rng
    depth = int(ctx.settings.get("deep_random_chain", 3_000))
    spec = random_chain_spec(rng, depth)
    case = GraphCase(f"a chain of {depth:,} operations", spec, ("x", f"node {depth}"))
    got = run_deep_chain(ctx, case)
    expected = run_reference(spec)
    rtol = ctx.settings.get("rtol", 1e-9)
    if not close(got["data"][-1], expected["data"][-1], rtol):
        return fail(f"{case.label}: the final value is wrong.")
    if not close(got["grad"][0], expected["grad"][0], rtol):
        flipped = close(-got["grad"][0], expected["grad"][0], rtol)
        return with_mistake(f"{case.label}: the grad of the first node is wrong (each step's local derivative "
                            "is +1 or -1).", "sign_flipped" if flipped else None, STEM)
    return ok()


def trace_inputs(rng: np.random.Generator) -> list[tuple[float, float, float]]:
    """Small and moderately large pre-activations w x + b (up to about 30 in size)."""
    small = [tuple(float(v) for v in rng.uniform(-2.0, 2.0, size=3)) for _ in range(4)]
    large = [tuple(float(v) for v in rng.uniform(-6.0, 6.0, size=3)) for _ in range(3)]
    return small + large


@register(STEM, "sigmoid_trace.reference", needs=("sigmoid_trace",),
          hint="Compute each of the ten numbers from w, x and b by the lecture's five steps.")
def sigmoid_trace_reference(ctx: CheckContext) -> Verdict:
    rng = ctx.rng
    rtol = ctx.settings.get("rtol", 1e-9)
    lecture = scalar_engine.sigmoid_trace(*LECTURE_TRACE_INPUT)
    for w, x, b in trace_inputs(rng):
        got = read_trace(ctx.call("sigmoid_trace", w, x, b))
        verdict = judge_trace(got, scalar_engine.sigmoid_trace(w, x, b), lecture, rtol, "", reveal=False)
        if not verdict.passed:
            return verdict
    return ok()
