"""Public checks for exercise 4: the scalar autograd engine `Value` and `sigmoid_trace`.

`Value` is exercised through the worker's graph program (`ctx.program("value_graph", spec)`,
see grader/worker/inside/programs.py): a spec lists leaves and operations, the worker builds
them with the student's `Value`, calls backward, and returns every node's data and grad. The
expected answers are the same program run on the reference engine, built into fixtures.

Graph mistakes are diagnosed from the answers alone. The contribution of one use of a node
(one edge of the graph) is the gradient of a fresh leaf put in that use's place; so
- a shared node whose grad equals one edge's contribution lost the other paths:
  gradient_overwritten (`=` instead of `+=`);
- a shared node whose grad is right while its inputs got a fraction of it (some edges'
  share) propagated before all its consumers were done: wrong_topological_order.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

from grader.checks import graph_specs
from grader.checks.base import CheckContext, Verdict, check, fail, ok
from grader.checks.compare import describe, to_scalar
from grader.checks.fixtures import fixture_builder
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

MISTAKE_TEXT = {
    "gradient_overwritten": "A node used by several operations must sum their gradients: "
                            "write `self.grad += ...` in every backward closure, never `=`.",
    "wrong_topological_order": "A node's backward ran before all of its consumers had added their "
                               "gradients: build a topological order first, then visit it in reverse.",
    "recursion_limit": "The graph walk is recursive and hits Python's recursion limit on a chain of "
                       "thousands of operations: build the topological order with an explicit stack.",
    "sign_flipped": "The gradients have the opposite sign.",
    "hardcoded_answer": "The answer does not change with the input: compute it from w, x and b.",
}


def with_mistake(feedback: str, code: Optional[str]) -> Verdict:
    return fail(f"{feedback} {MISTAKE_TEXT[code]}" if code else feedback, code)


def close(a: float, b: float, rtol: float) -> bool:
    return math.isfinite(a) and abs(a - b) <= 1e-12 + rtol * abs(b)


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
    """s = w x feeds L by a short path and a long one (tanh, * 3, exp); the sum's operands are
    swapped when `mirrored`, so a walk that follows consumers in either order meets s early once."""
    short, long_ = (2, 5) if not mirrored else (5, 2)
    return GraphCase(
        f"L = {'s + exp(3 tanh s)' if mirrored else 'exp(3 tanh s) + s'} with s = w x",
        {"nodes": [["leaf", -0.8], ["leaf", 1.5], ["op", "mul", 0, 1], ["op", "tanh", 2],
                   ["op", "mul", 3, const(3.0)], ["op", "exp", 4], ["op", "add", long_, short]],
         "backward": [6]},
        ("w", "x", "s", "tanh s", "3 tanh s", "exp(3 tanh s)", "L"))


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


def chain_case(depth: int) -> GraphCase:
    spec = graph_specs.chain_spec(depth)
    return GraphCase(f"a chain of {depth:,} operations", spec, ("x",) + tuple(f"node {i}" for i in range(1, depth + 1)))


# Edges: the evidence behind the graph diagnoses.

def operand_indices(node: list) -> list[int]:
    """The node operands of an op node (constants and keyword dicts left out)."""
    return [o for o in node[2:] if isinstance(o, int) and not isinstance(o, bool)]


def consumer_edges(spec: Spec) -> dict[int, list[tuple[int, int]]]:
    """node -> [(consumer, operand slot)], one entry per use of the node."""
    edges: dict[int, list[tuple[int, int]]] = {}
    for consumer, node in enumerate(spec["nodes"]):
        if node[0] == "op":
            for slot, operand in enumerate(node[2:]):
                if isinstance(operand, int) and not isinstance(operand, bool):
                    edges.setdefault(operand, []).append((consumer, slot))
    return edges


def split_edge(spec: Spec, consumer: int, slot: int, leaf: list) -> Spec:
    """The spec with one use of an operand replaced by `leaf` (a new node 0; the others shift by 1).

    With the leaf holding the operand's value nothing else changes, so the leaf's gradient is
    exactly that use's contribution dL/d(consumer) * d(consumer)/d(operand).
    """
    nodes = [leaf]
    for index, node in enumerate(spec["nodes"]):
        if node[0] != "op":
            nodes.append(list(node))
            continue
        operands = [(0 if (index, slot_) == (consumer, slot) else o + 1)
                    if isinstance(o, int) and not isinstance(o, bool) else o
                    for slot_, o in enumerate(node[2:])]
        nodes.append(["op", node[1], *operands])
    backward = [b + 1 if isinstance(b, int) else [b[0] + 1, *b[1:]] for b in spec["backward"]]
    return {**spec, "nodes": nodes, "backward": backward}


def edge_contributions(spec: Spec, data: list, run: Callable[[Spec], Result],
                       leaf: Callable[[Any], list] = lambda value: ["leaf", value]) -> dict[str, list]:
    """For each node used more than once: the gradient each use contributes (reference engine)."""
    return {str(node): [run(split_edge(spec, consumer, slot, leaf(data[node])))["grad"][0]
                        for consumer, slot in uses]
            for node, uses in consumer_edges(spec).items() if len(uses) > 1}


def partial_sums(values: list[float]) -> list[float]:
    """Sums of every non-empty proper subset: what a node holds before all its consumers are done."""
    return [sum(c) for k in range(1, len(values)) for c in itertools.combinations(values, k)]


def graph_mistake(got: list[float], expected: list[float], edges: dict[str, list], spec: Spec,
                  rtol: float) -> Optional[str]:
    """gradient_overwritten or wrong_topological_order when a shared node shows their signature."""
    uses = consumer_edges(spec)
    for key, contributions in edges.items():
        node = int(key)
        want = expected[node]
        if not close(got[node], want, rtol):
            if any(close(got[node], c, rtol) and not close(c, want, rtol) for c in contributions):
                return "gradient_overwritten"
            continue
        # The shared node is right: did its inputs get only part of it?
        fractions = [p / want for p in partial_sums(contributions) if want != 0.0]
        parents = set(operand_indices(spec["nodes"][node])) if spec["nodes"][node][0] == "op" else set()
        for parent in parents:
            only_here = all(consumer == node for consumer, _ in uses.get(parent, []))
            if only_here and expected[parent] != 0.0 and not close(got[parent], expected[parent], rtol):
                ratio = got[parent] / expected[parent]
                if any(close(ratio, f, rtol) for f in fractions):
                    return "wrong_topological_order"
    return None


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
                reveal: bool = True) -> Verdict:
    """Run `case` on the student's engine and compare every node's data and grad with `expected`."""
    rtol = ctx.settings.get("rtol", 1e-9)
    got, problem = read_result(ctx.program("value_graph", case.spec), len(case.spec["nodes"]))
    if problem is not None:
        return problem
    bad_data, bad_grad = wrong_nodes(got, expected, rtol)
    if bad_data:
        i = bad_data[0]
        shown = f": it is {got['data'][i]!r}, the right value is {expected['data'][i]!r}" if reveal else ""
        return fail(f"{case.label}: the forward value of {case.names[i]} is wrong{shown}.")
    if not bad_grad:
        return ok()
    code = graph_mistake(got["grad"], expected["grad"], edges, case.spec, rtol)
    i = bad_grad[0]
    shown = f": it is {got['grad'][i]!r}, the right value is {expected['grad'][i]!r}" if reveal else ""
    others = f" ({len(bad_grad) - 1} other node(s) too)" if len(bad_grad) > 1 else ""
    return with_mistake(f"{case.label}: after backward, the grad of {case.names[i]} is wrong{shown}{others}.", code)


def judge_cases(ctx: CheckContext, fixture: str, cases: list[GraphCase]) -> Verdict:
    answers = ctx.fixture(fixture)
    for case in cases:
        answer = answers[case.label]
        verdict = judge_graph(ctx, case, answer, answer.get("edges", {}))
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


def recursion_failure(error: StudentCodeError) -> bool:
    """True when the student's code failed with Python's recursion limit."""
    text = f"{error.message}\n{error.traceback}"
    return error.status == "error" and ("RecursionError" in text or "maximum recursion depth" in text)


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
    return read_result(value, len(case.spec["nodes"]))


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
        return fail(f"{case.label}: the grad of the first node is {got['grad'][0]!r}; "
                    f"it should be {expected['grad_first']!r}.")
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


def chain_rule_violation(t: dict[str, float], w: float, x: float, b: float, rtol: float) -> Optional[str]:
    """The first of the lecture's five steps, forward then backward, that the returned numbers break."""
    steps: list[tuple[str, Callable[[], float]]] = [
        ("z1", lambda: w * x), ("z2", lambda: t["z1"] + b), ("z3", lambda: -t["z2"]),
        ("z4", lambda: math.exp(t["z3"])), ("L", lambda: 1.0 / (1.0 + t["z4"])),
        ("dL_dz4", lambda: -t["L"] ** 2), ("dL_dz3", lambda: t["dL_dz4"] * t["z4"]),
        ("dL_dz2", lambda: -t["dL_dz3"]), ("dL_db", lambda: t["dL_dz2"]), ("dL_dw", lambda: t["dL_dz2"] * x)]
    for key, step in steps:
        try:
            value = step()
        except (OverflowError, ZeroDivisionError):  # whatever numbers the student returned
            return key
        if not close(t[key], value, rtol):
            return key
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
        broken = chain_rule_violation(got, w, x, b, rtol)
        if broken is not None:
            hardcoded = all(close(got[k], lecture[k], rtol) for k in TRACE_KEYS)
            return with_mistake(f"sigmoid_trace({w:.4g}, {x:.4g}, {b:.4g}): {broken} = {got[broken]!r} does not "
                                f"follow from the values before it by {TRACE_FORMULAS[broken]}.",
                                "hardcoded_answer" if hardcoded else None)
    return ok()
