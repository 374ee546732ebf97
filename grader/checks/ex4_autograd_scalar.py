"""Public checks for exercise 4: the scalar autograd engine `Value` and `sigmoid_trace`.

`Value` is exercised through the worker's graph program (`ctx.program("value_graph", spec)`,
see grader/worker/inside/programs.py): a spec lists leaves and operations, the worker builds
them with the student's `Value`, calls backward, and returns every node's data and grad. The
expected answers are the same program run on the reference engine, built into fixtures.

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
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

from grader.checks import graph_specs
from grader.checks.base import CheckContext, Outcome, Verdict, check, fail, ok
from grader.checks.compare import describe, to_scalar
from grader.checks.fixtures import fixture_builder
from grader.diagnosis.engine_probes import (
    close, edge_contributions, graph_mistake, local_derivative_mistake, recursion_failure, shared_use_mistake,
    sign_mistake,
)
from grader.diagnosis.text import mistake_text
from grader.errors import StudentCodeError

STEM = "ex4_autograd_scalar"
Spec = dict[str, Any]
Result = dict[str, list]

TRACE_KEYS: tuple[str, ...] = ("z1", "z2", "z3", "z4", "L", "dL_dz4", "dL_dz3", "dL_dz2", "dL_db", "dL_dw")
TRACE_FORMULAS = {
    "z1": "z1 = w x", "z2": "z2 = z1 + b", "z3": "z3 = -z2", "z4": "z4 = exp(z3)", "L": "L = 1 / (1 + z4)",
    "dL_dz4": "dL/dz4 = -L^2", "dL_dz3": "dL/dz3 = dL/dz4 * z4", "dL_dz2": "dL/dz2 = dL/dz3 * (-1)",
    "dL_db": "dL/db = dL/dz2 * 1", "dL_dw": "dL/dw = dL/dz2 * x",
}
CHAIN_DEPTH = 5_000  # the contract's deep graph; a recursive walk fails near 1,000
# The lecture's PyTorch snippet uses w = 2, x = 1, b = 0.5; the trace is checked there first.
LECTURE_TRACE_INPUT = (2.0, 1.0, 0.5)

def with_mistake(feedback: str, code: Optional[str]) -> Verdict:
    return fail(f"{feedback} {mistake_text(code, STEM)}" if code else feedback, code)


# Graphs the checks run.

@dataclass(frozen=True)
class GraphCase:
    """A spec and the names of its nodes, for feedback ('x', 'y', 'x / y', ...)."""

    label: str
    spec: Spec
    names: tuple[str, ...]


def const(value: float) -> dict:
    return {"const": value}


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


# Comparing answers.

def read_result(value: Any, size: int) -> tuple[Optional[Result], Optional[Verdict]]:
    if not isinstance(value, dict) or not all(isinstance(value.get(k), list) and len(value[k]) == size
                                              for k in ("data", "grad")):
        return None, fail(f"The graph program returned {describe(value)} instead of data and grads for "
                          f"{size} nodes: is Value's .data a number?")
    return value, None


def wrong_nodes(got: Result, expected: Result, rtol: float) -> tuple[list[int], list[int]]:
    """Nodes whose data, and nodes whose grad, differ from the expected answer."""
    bad_data = [i for i, (g, e) in enumerate(zip(got["data"], expected["data"])) if not close(g, e, rtol)]
    bad_grad = [i for i, (g, e) in enumerate(zip(got["grad"], expected["grad"])) if not close(g, e, rtol)]
    return bad_data, bad_grad


def judge_graph(ctx: CheckContext, case: GraphCase, expected: Result, edges: dict[str, list],
                reveal: bool = True, answer: Optional[Outcome] = None) -> Verdict:
    """Run `case` on the student's engine (or take its `answer` from `ctx.program_all`) and
    compare every node's data and grad with `expected`."""
    rtol = ctx.settings.get("rtol", 1e-9)
    value = ctx.program("value_graph", case.spec) if answer is None else answer.get()
    got, problem = read_result(value, len(case.spec["nodes"]))
    if problem is not None:
        return problem
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
        code = engine_mistake(ctx)  # what this graph suggests, the probes must confirm
    code = code or sign_mistake(got["grad"], expected["grad"], range(len(case.spec["nodes"])), same) \
        or local_derivative_mistake(case.spec, got["grad"][0], expected["grad"][0], same)
    i = bad_grad[0]
    shown = f": it is {got['grad'][i]!r}, the right value is {expected['grad'][i]!r}" if reveal else ""
    others = f" ({len(bad_grad) - 1} other node(s) too)" if len(bad_grad) > 1 else ""
    return with_mistake(f"{case.label}: after backward, the grad of {case.names[i]} is wrong{shown}{others}.", code)


def probe_cases() -> list[GraphCase]:
    """A leaf x used twice where the order of the walk cannot matter: x op x, op(x) + x."""
    return [GraphCase(label, spec, ("x",) + tuple(f"node {i}" for i in range(1, len(spec["nodes"]))))
            for label, spec in graph_specs.shared_use_probe_specs().items()]


def engine_mistake(ctx: CheckContext) -> Optional[str]:
    """Run the engine probes on the student's Value: which of the two graph mistakes it makes.

    In an arbitrary graph the two can look alike (a node run too early may send nothing on one
    path, as if its grad had been overwritten), so a graph's own evidence is only believed when
    the probes agree (`engine_probes.shared_use_mistake`): x op x and op(x) + x for
    gradient_overwritten, the topological probes (a node reached by a short and a long path)
    for wrong_topological_order.
    """
    rtol = ctx.settings.get("rtol", 1e-9)
    probes, orders = probe_cases(), [topological_probe_case(False), topological_probe_case(True)]
    try:
        runs = [read_result(answer.get(), len(c.spec["nodes"]))[0]
                for c, answer in zip(probes + orders, ctx.program_all("value_graph", [c.spec for c in probes + orders]))]
    except StudentCodeError:
        return None
    if any(run is None for run in runs):
        return None
    answers, graphs = ctx.fixture("probes"), ctx.fixture("graphs")
    overwrite = [(run["grad"][0], answers[c.label]["grad"][0], answers[c.label]["edges"]["0"])
                 for c, run in zip(probes, runs)]
    order_failed = any(graph_mistake(run["grad"], graphs[c.label]["grad"], graphs[c.label]["edges"], c.spec, rtol)
                       == "wrong_topological_order" for c, run in zip(orders, runs[len(probes):]))
    return shared_use_mistake(overwrite, order_failed, lambda a, b: close(float(a), float(b), rtol))


def judge_cases(ctx: CheckContext, fixture: str, cases: list[GraphCase]) -> Verdict:
    expected = ctx.fixture(fixture)
    for case, answer in zip(cases, ctx.program_all("value_graph", [case.spec for case in cases])):
        verdict = judge_graph(ctx, case, expected[case.label], expected[case.label].get("edges", {}), answer=answer)
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

@check(STEM, "Value.operators", needs=("Value",),
       hint="Each operator returns a new Value whose backward adds the local derivative times out.grad.")
def value_operators(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "operators", operator_cases())


@check(STEM, "Value.reflected", needs=("Value",),
       hint="2 * v, 1 - v, 2 / v need __rmul__, __rsub__, __rtruediv__ (and __radd__ for 2 + v).")
def value_reflected(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "operators", reflected_cases())


@check(STEM, "Value.functions", needs=("Value",),
       hint="exp' = exp, log' = 1/x, sigmoid' = s (1 - s), tanh' = 1 - t^2, relu' = 1 where x > 0 else 0.")
def value_functions(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "functions", function_cases())


@check(STEM, "Value.micrograd", needs=("Value",),
       hint="micrograd's README example: your g, a.grad and b.grad should match the values its README prints.")
def value_micrograd(ctx: CheckContext) -> Verdict:
    case = micrograd_case()
    answer = ctx.fixture("graphs")[case.label]
    return judge_graph(ctx, case, answer, answer["edges"])


@check(STEM, "Value.shared_nodes", needs=("Value",),
       hint="A node used on several paths sums the gradients from each (+=).")
def value_shared_nodes(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "graphs", shared_cases())


@check(STEM, "Value.topological_order", needs=("Value",),
       hint="Visit nodes in reverse topological order, so each node runs its backward after all its consumers.")
def value_topological_order(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "graphs", [topological_probe_case(False), topological_probe_case(True)])


def run_deep_chain(ctx: CheckContext, case: GraphCase) -> tuple[Optional[Result], Optional[Verdict]]:
    """The program's answer for a deep chain, or a verdict naming recursion_limit.

    Only a RecursionError is caught here: any other failure goes on to the runner, which records
    it with its own status (error, timeout, ...).
    """
    try:
        value = ctx.program("value_graph", case.spec, timeout=ctx.settings.get("deep_timeout", 20.0))
    except StudentCodeError as error:
        if recursion_failure(error):
            return None, with_mistake(f"backward on {case.label} failed with RecursionError.", "recursion_limit")
        raise
    return read_result(value, len(case.spec.get("report", case.spec["nodes"])))


@check(STEM, "Value.deep_chain", needs=("Value",), timeout=30.0,
       hint="Build the topological order with a loop and an explicit stack, not recursion.")
def value_deep_chain(ctx: CheckContext) -> Verdict:
    case = chain_case(CHAIN_DEPTH)
    got, problem = run_deep_chain(ctx, case)
    if problem is not None:
        return problem
    expected = ctx.fixture("chain")
    rtol = ctx.settings.get("rtol", 1e-9)
    if not close(got["data"][-1], expected["data_last"], rtol):
        return fail(f"{case.label}: the last value is {got['data'][-1]!r}, it should be {expected['data_last']!r}.")
    if not close(got["grad"][0], expected["grad_first"], rtol):
        return with_mistake(f"{case.label}: the grad of the first node is {got['grad'][0]!r}; "
                            f"it should be {expected['grad_first']!r}.",
                            "sign_flipped" if close(-got["grad"][0], expected["grad_first"], rtol) else None)
    return ok()


@fixture_builder(STEM, "chain")
def build_chain() -> dict:
    from grader.worker.inside.programs import run_value_graph
    from reference.scalar_engine import Value

    result = run_value_graph(Value, chain_case(CHAIN_DEPTH).spec)
    return {"data_last": result["data"][-1], "grad_first": result["grad"][0]}


# sigmoid_trace

def read_trace(value: Any) -> tuple[Optional[dict[str, float]], Optional[Verdict]]:
    if not isinstance(value, dict):
        return None, fail(f"sigmoid_trace should return a dict with keys {', '.join(TRACE_KEYS)}, "
                          f"but it returned {describe(value)}.")
    missing = [k for k in TRACE_KEYS if k not in value]
    if missing:
        return None, fail(f"sigmoid_trace's dict lacks the key(s) {', '.join(missing)}.")
    trace = {}
    for key in TRACE_KEYS:
        number = to_scalar(value[key])
        if number is None:
            return None, fail(f"sigmoid_trace's {key!r} should be a number, but it is {describe(value[key])}.")
        trace[key] = number
    return trace, None


def trace_mistake(got: dict[str, float], expected: dict[str, float], wrong: list[str],
                  lecture: Optional[dict[str, float]], rtol: float) -> Optional[str]:
    """hardcoded_answer when the answer is the lecture input's; sign_flipped when every wrong
    gradient is the negative of the right one and every forward value is right."""
    if lecture is not None and all(close(got[k], lecture[k], rtol) for k in TRACE_KEYS):
        return "hardcoded_answer"
    if wrong and all(k.startswith("dL_") and close(-got[k], expected[k], rtol) for k in wrong):
        return "sign_flipped"
    return None


def judge_trace(got: dict[str, float], expected: dict[str, float], lecture: Optional[dict[str, float]],
                rtol: float, where: str, reveal: bool) -> Verdict:
    wrong = [k for k in TRACE_KEYS if not close(got[k], expected[k], rtol)]
    if not wrong:
        return ok()
    code = trace_mistake(got, expected, wrong, lecture, rtol)
    first = wrong[0]
    shown = f" (it is {got[first]!r}, the right value is {expected[first]!r})" if reveal else ""
    return with_mistake(f"sigmoid_trace{where}: {', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong"
                        f"{shown}. Compare {first} with {TRACE_FORMULAS[first]}.", code)


@fixture_builder(STEM, "traces")
def build_traces() -> dict:
    from reference.scalar_engine import sigmoid_trace

    inputs = [LECTURE_TRACE_INPUT, (0.5, -1.5, 0.25), (-1.2, 0.7, -0.3), (3.0, 2.0, -4.0)]
    return {"cases": [{"input": list(args), "answer": sigmoid_trace(*args)} for args in inputs]}


@check(STEM, "sigmoid_trace.values", needs=("sigmoid_trace",),
       hint="Forward z1 = w x, z2 = z1 + b, z3 = -z2, z4 = exp(z3), L = 1/(1 + z4); then back from dL/dL = 1.")
def sigmoid_trace_values(ctx: CheckContext) -> Verdict:
    rtol = ctx.settings.get("rtol", 1e-9)
    cases = ctx.fixture("traces")["cases"]
    for case in cases:
        w, x, b = case["input"]
        got, problem = read_trace(ctx.call("sigmoid_trace", w, x, b))
        if problem is not None:
            return problem
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


@check(STEM, "sigmoid_trace.chain_rule", needs=("sigmoid_trace",),
       hint="Each returned number must follow from the ones before it by the lecture's five steps.")
def sigmoid_trace_chain_rule(ctx: CheckContext) -> Verdict:
    """Random inputs; each value is checked against its step applied to the student's own previous values."""
    rng = ctx.rng
    rtol = ctx.settings.get("rtol", 1e-9)
    lecture = ctx.fixture("traces")["cases"][0]["answer"]
    for _ in range(5):
        w, x, b = (float(v) for v in rng.uniform(-2.0, 2.0, size=3))
        got, problem = read_trace(ctx.call("sigmoid_trace", w, x, b))
        if problem is not None:
            return problem
        violation = chain_rule_violation(got, w, x, b, rtol)
        if violation is not None:
            broken, value = violation
            code = "hardcoded_answer" if all(close(got[k], lecture[k], rtol) for k in TRACE_KEYS) else None
            if code is None and broken.startswith("dL_") and value is not None and close(-got[broken], value, rtol):
                code = "sign_flipped"  # this step's local derivative has the wrong sign
            return with_mistake(f"sigmoid_trace({w:.4g}, {x:.4g}, {b:.4g}): {broken} = {got[broken]!r} does not "
                                f"follow from the values before it by {TRACE_FORMULAS[broken]}.", code)
    return ok()
