"""Public checks for exercise 4: the scalar autograd engine `Value` and `sigmoid_trace`.

`Value` is exercised through the worker's graph program (`ctx.program("value_graph", spec)`):
the expected answers are the same program run on the reference engine, built into fixtures.
Running and judging graphs, and the engine probes that confirm a graph mistake, are
`grader.checks.lib.scalar_graphs`; reading and judging `sigmoid_trace` is
`grader.checks.lib.sigmoid_trace`. Both serve the hidden checks too.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable, Optional

from grader.checks import graph_specs
from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.fixtures import fixture_builder
from grader.checks.lib.answers import register, with_mistake
from grader.checks.lib.graph_cases import GraphCase, Result, Spec, const
from grader.checks.lib.scalar_graphs import (
    STEM, engine_mistake, judge_graph, probe_cases, run_deep_chain, topological_probe_case,
)
from grader.checks.lib.sigmoid_trace import LECTURE_TRACE_INPUT, TRACE_FORMULAS, TRACE_KEYS, judge_trace, read_trace
from grader.diagnosis.engine_probes import close, edge_contributions

CHAIN_DEPTH = 5_000  # the contract's deep graph; a recursive walk fails near 1,000


# Graphs the checks run.

def binary_case(label: str, name: str, left: Any, right: Any, x: float = 1.7, y: float = -0.6) -> GraphCase:
    """`label` built from leaves x (node 0) and y (node 1); an operand is 0, 1 or const(number)."""
    return GraphCase(label, {"nodes": [["leaf", x], ["leaf", y], ["op", name, left, right]], "backward": [2]},
                     ("x", "y", label))


def operator_cases() -> list[GraphCase]:
    return [
        binary_case("x + y", "add", 0, 1), binary_case("x - y", "sub", 0, 1), binary_case("x * y", "mul", 0, 1),
        binary_case("x / y", "truediv", 0, 1), binary_case("x + 2", "add", 0, const(2)),
        binary_case("x - 1.5", "sub", 0, const(1.5)), binary_case("x * 3", "mul", 0, const(3)),
        binary_case("x / 4", "truediv", 0, const(4.0)), binary_case("x ** 2", "pow", 0, const(2)),
        binary_case("x ** 3", "pow", 0, const(3)), binary_case("x ** -1", "pow", 0, const(-1)),
        binary_case("x ** 0.5", "pow", 0, const(0.5)), binary_case("x * x", "mul", 0, 0),
        GraphCase("-x", {"nodes": [["leaf", 1.7], ["op", "neg", 0]], "backward": [1]}, ("x", "-x")),
    ]


def reflected_cases() -> list[GraphCase]:
    return [binary_case("2 + x", "add", const(2), 0), binary_case("1 - x", "sub", const(1), 0),
            binary_case("3 * x", "mul", const(3), 0), binary_case("2 / x", "truediv", const(2.0), 0),
            binary_case("0.5 - x * y", "sub", const(0.5), 0)]


def function_cases() -> list[GraphCase]:
    cases = []
    for name, x in (("exp", 0.7), ("exp", -1.2), ("log", 2.5), ("log", 0.3), ("sigmoid", -1.3),
                    ("sigmoid", 0.8), ("tanh", 0.4), ("tanh", -2.1), ("relu", 1.2), ("relu", -0.7)):
        label = f"Value({x}).{name}()"
        cases.append(GraphCase(label, {"nodes": [["leaf", x], ["op", name, 0]], "backward": [1]}, ("x", label)))
    return cases


def shared_cases() -> list[GraphCase]:
    return [GraphCase("L = tanh(x) * exp(x)", graph_specs.diamond_spec(), ("x", "tanh x", "exp x", "L")),
            GraphCase("L = x * x + (x + x)", graph_specs.reused_variable_spec(), ("x", "x * x", "x + x", "L")),
            GraphCase("L = exp(3 tanh(w x)) + w x", graph_specs.shared_node_spec(),
                      ("w", "x", "s = w x", "tanh s", "3 tanh s", "exp(3 tanh s)", "L"))]


def micrograd_case() -> GraphCase:
    spec = graph_specs.micrograd_example_spec()
    names = ["a", "b"] + [f"node {i}" for i in range(2, len(spec["nodes"]))]
    names[-1] = "g"
    return GraphCase("micrograd's README expression", spec, tuple(names))


@functools.lru_cache(maxsize=4)  # the same 5,000 nodes for every student; nothing changes a spec
def chain_case(depth: int) -> GraphCase:
    spec = graph_specs.report_ends(graph_specs.chain_spec(depth))
    return GraphCase(f"a chain of {depth:,} operations", spec, ("x", f"node {depth}"))


def judge_cases(ctx: CheckContext, fixture: str, cases: list[GraphCase]) -> Verdict:
    expected = ctx.fixture(fixture)
    for case, answer in zip(cases, ctx.program_all("value_graph", [case.spec for case in cases])):
        verdict = judge_graph(ctx, case, expected[case.label], expected[case.label].get("edges", {}),
                              confirm=engine_mistake, answer=answer)
        if not verdict.passed:
            return verdict
    return ok()


def reference_answers(cases: list[GraphCase], with_edges: bool = False) -> dict:
    """The reference engine's answers (and edge contributions), built lazily for fixtures."""
    from grader.worker.inside.programs import run_value_graph
    from reference.scalar_engine import Value

    def run(spec: Spec) -> Result:
        return run_value_graph(Value, spec)

    answers = {}
    for case in cases:
        result = run(case.spec)
        if with_edges:
            result["edges"] = edge_contributions(case.spec, result["data"], run)
        answers[case.label] = result
    return answers


@fixture_builder(STEM, "operators")
def build_operators() -> dict:
    return reference_answers(operator_cases() + reflected_cases(), with_edges=True)


@fixture_builder(STEM, "probes")
def build_probes() -> dict:
    return reference_answers(probe_cases(), with_edges=True)


@fixture_builder(STEM, "functions")
def build_functions() -> dict:
    return reference_answers(function_cases())


@fixture_builder(STEM, "graphs")
def build_graphs() -> dict:
    cases = [micrograd_case(), *shared_cases(), topological_probe_case(False), topological_probe_case(True)]
    return reference_answers(cases, with_edges=True)


# Value

@register(STEM, "Value.operators", needs=("Value",),
          hint="Each operator returns a new Value whose backward adds the local derivative times out.grad.")
def value_operators(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "operators", operator_cases())


@register(STEM, "Value.reflected", needs=("Value",),
          hint="2 * v, 1 - v, 2 / v need __rmul__, __rsub__, __rtruediv__ (and __radd__ for 2 + v).")
def value_reflected(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "operators", reflected_cases())


@register(STEM, "Value.functions", needs=("Value",),
          hint="exp' = exp, log' = 1/x, sigmoid' = s (1 - s), tanh' = 1 - t^2, relu' = 1 where x > 0 else 0.")
def value_functions(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "functions", function_cases())


@register(STEM, "Value.micrograd", needs=("Value",),
          hint="micrograd's README example: your g, a.grad and b.grad should match the values its README prints.")
def value_micrograd(ctx: CheckContext) -> Verdict:
    case = micrograd_case()
    answer = ctx.fixture("graphs")[case.label]
    return judge_graph(ctx, case, answer, answer["edges"], confirm=engine_mistake)


@register(STEM, "Value.shared_nodes", needs=("Value",),
          hint="A node used on several paths sums the gradients from each (+=).")
def value_shared_nodes(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "graphs", shared_cases())


@register(STEM, "Value.topological_order", needs=("Value",),
          hint="Visit nodes in reverse topological order, so each node runs its backward after all its consumers.")
def value_topological_order(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "graphs", [topological_probe_case(False), topological_probe_case(True)])


@register(STEM, "Value.deep_chain", needs=("Value",), timeout=30.0,
          hint="Build the topological order with a loop and an explicit stack, not recursion.")
def value_deep_chain(ctx: CheckContext) -> Verdict:
    case = chain_case(CHAIN_DEPTH)
    got = run_deep_chain(ctx, case)
    expected = ctx.fixture("chain")
    rtol = ctx.settings.get("rtol", 1e-9)
    if not close(got["data"][-1], expected["data_last"], rtol):
        return fail(f"{case.label}: the last value is {got['data'][-1]!r}, it should be {expected['data_last']!r}.")
    if not close(got["grad"][0], expected["grad_first"], rtol):
        return with_mistake(f"{case.label}: the grad of the first node is {got['grad'][0]!r}; "
                            f"it should be {expected['grad_first']!r}.",
                            "sign_flipped" if close(-got["grad"][0], expected["grad_first"], rtol) else None, STEM)
    return ok()


@fixture_builder(STEM, "chain")
def build_chain() -> dict:
    from grader.worker.inside.programs import run_value_graph
    from reference.scalar_engine import Value

    result = run_value_graph(Value, chain_case(CHAIN_DEPTH).spec)
    return {"data_last": result["data"][-1], "grad_first": result["grad"][0]}


# sigmoid_trace

@fixture_builder(STEM, "traces")
def build_traces() -> dict:
    from reference.scalar_engine import sigmoid_trace

    inputs = [LECTURE_TRACE_INPUT, (0.5, -1.5, 0.25), (-1.2, 0.7, -0.3), (3.0, 2.0, -4.0)]
    return {"cases": [{"input": list(args), "answer": sigmoid_trace(*args)} for args in inputs]}


@register(STEM, "sigmoid_trace.values", needs=("sigmoid_trace",),
          hint="Forward z1 = w x, z2 = z1 + b, z3 = -z2, z4 = exp(z3), L = 1/(1 + z4); then back from dL/dL = 1.")
def sigmoid_trace_values(ctx: CheckContext) -> Verdict:
    rtol = ctx.settings.get("rtol", 1e-9)
    cases = ctx.fixture("traces")["cases"]
    for case in cases:
        w, x, b = case["input"]
        got = read_trace(ctx.call("sigmoid_trace", w, x, b))
        verdict = judge_trace(got, case["answer"], cases[0]["answer"], rtol, f"({w}, {x}, {b})", reveal=True)
        if not verdict.passed:
            return verdict
    return ok()


def chain_rule_violation(t: dict[str, float], w: float, x: float, b: float,
                         rtol: float) -> Optional[tuple[str, Optional[float]]]:
    """The first of the lecture's five steps, forward then backward, that the returned numbers break,
    and the value that step gives from the numbers before it (None when it cannot be computed)."""
    steps: list[tuple[str, Callable[[], float]]] = [
        ("z1", lambda: w * x), ("z2", lambda: t["z1"] + b), ("z3", lambda: -t["z2"]),
        ("z4", lambda: math.exp(t["z3"])), ("L", lambda: 1.0 / (1.0 + t["z4"])),
        ("dL_dz4", lambda: -t["L"] ** 2), ("dL_dz3", lambda: t["dL_dz4"] * t["z4"]),
        ("dL_dz2", lambda: -t["dL_dz3"]), ("dL_db", lambda: t["dL_dz2"]), ("dL_dw", lambda: t["dL_dz2"] * x)]
    for key, step in steps:
        try:
            value = step()
        except (OverflowError, ZeroDivisionError):  # whatever numbers the student returned
            return key, None
        if not close(t[key], value, rtol):
            return key, value
    return None


@register(STEM, "sigmoid_trace.chain_rule", needs=("sigmoid_trace",),
          hint="Each returned number must follow from the ones before it by the lecture's five steps.")
def sigmoid_trace_chain_rule(ctx: CheckContext) -> Verdict:
    """Random inputs; each value is checked against its step applied to the student's own previous values."""
    rng = ctx.rng
    rtol = ctx.settings.get("rtol", 1e-9)
    lecture = ctx.fixture("traces")["cases"][0]["answer"]
    for _ in range(5):
        w, x, b = (float(v) for v in rng.uniform(-2.0, 2.0, size=3))
        got = read_trace(ctx.call("sigmoid_trace", w, x, b))
        violation = chain_rule_violation(got, w, x, b, rtol)
        if violation is not None:
            broken, value = violation
            code = "hardcoded_answer" if all(close(got[k], lecture[k], rtol) for k in TRACE_KEYS) else None
            if code is None and broken.startswith("dL_") and value is not None and close(-got[broken], value, rtol):
                code = "sign_flipped"  # this step's local derivative has the wrong sign
            return with_mistake(f"sigmoid_trace({w:.4g}, {x:.4g}, {b:.4g}): {broken} = {got[broken]!r} does not "
                                f"follow from the values before it by {TRACE_FORMULAS[broken]}.", code, STEM)
    return ok()
