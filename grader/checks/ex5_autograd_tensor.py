"""Public checks for exercise 5: the numpy-backed autograd `Tensor`, `mse_loss`, `cross_entropy`.

Every check runs a graph through the worker's program (`ctx.program("tensor_graph", spec)`,
see grader/worker/inside/programs.py), which builds it with the student's `Tensor`, calls
backward (with an upstream gradient for non-scalar outputs) and returns each node's data, grad,
requires_grad, is_leaf and grad_fn name. The expected answers are the reference engine run
through the same program, built into fixtures. Only leaves that require grad are compared for
gradients: which interior tensors keep a `.grad` is the engine's choice.

Diagnoses (`grader.diagnosis`): a leaf gradient with the shape of a broadcast result
(broadcast_grad_not_reduced), a shared leaf or a second backward that keeps only one
contribution (gradient_overwritten), leaf grads equal to those of the graph with some uses of
an interior node cut off (wrong_topological_order), a gradient that is minus or the transpose
of the right one (sign_flipped, transposed), a slip in one operation's local derivative, nan or
inf from large logits (softmax_unstable), a loss B times too large (batch_sum_not_mean) or
normalised over the wrong axis (softmax_wrong_axis), a RecursionError on a deep chain
(recursion_limit), a leaf's data changed (mutates_input).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from grader.checks import graph_specs
from grader.checks.base import CheckContext, Outcome, Verdict, check, fail, ok
from grader.checks.compare import describe, relative_error
from grader.checks.fixtures import fixture_builder
from grader.diagnosis.engine_probes import (
    broadcast_evidence, consumer_edges, local_derivative_mistake, partial_path_mistake, partial_path_variants,
    recursion_failure, shared_use_mistake, sign_mistake, split_edge,
)
from grader.diagnosis.layout import transposed_code
from grader.diagnosis.text import mistake_text
from grader.diagnosis.variants import cross_entropy_variants, matching_variant
from grader.errors import StudentCodeError

STEM = "ex5_autograd_tensor"
Spec = dict[str, Any]
Result = dict[str, list]
RESULT_KEYS = ("data", "grad", "requires_grad", "is_leaf", "grad_fn")

# Words a grad_fn name may use for each operation ("MulBackward", "Mul", "*", ...); an operation
# built from others (a - b = a + (-b)) may carry the name of the last one.
OPERATION_WORDS = {
    "add": ("add", "+", "plus"), "sub": ("sub", "-", "minus", "add"), "mul": ("mul", "*", "times", "prod"),
    "truediv": ("div", "/", "mul", "pow"), "pow": ("pow", "**"), "neg": ("neg", "-", "mul"),
    "matmul": ("matmul", "mm", "@", "dot", "matrix"), "exp": ("exp",), "log": ("log",),
    "sigmoid": ("sigm",), "tanh": ("tanh",), "relu": ("relu",), "sum": ("sum",),
    "mean": ("mean", "avg", "average"),
}
def with_mistake(feedback: str, code: Optional[str]) -> Verdict:
    return fail(f"{feedback} {mistake_text(code, STEM)}" if code else feedback, code)


@dataclass(frozen=True)
class TensorCase:
    """A spec and the names of its nodes ('a', 'b', 'a + b', ...), for feedback."""

    label: str
    spec: Spec
    names: tuple[str, ...]


def const(value: Any) -> dict:
    return {"const": value}


def leaf(value: Any, requires_grad: bool = True) -> list:
    return ["leaf", np.array(value, dtype=np.float64), requires_grad]


def single_op_case(label: str, leaves: list[tuple[str, np.ndarray]], op: list, upstream: Optional[np.ndarray],
                   names: Optional[tuple[str, ...]] = None) -> TensorCase:
    """Leaves (all requiring grad), one op on them, backward with `upstream` (None: a scalar output)."""
    nodes = [leaf(value) for _, value in leaves] + [op]
    spec = {"nodes": nodes, "backward": [[len(nodes) - 1, upstream]]}
    return TensorCase(label, spec, names or (*[name for name, _ in leaves], label))


def fixed_rng(name: str) -> np.random.Generator:
    """A generator fixed per case family, so public specs are the same in every run."""
    return np.random.default_rng(sum(name.encode()) * 7919)


def elementwise_cases() -> list[TensorCase]:
    rng = fixed_rng("elementwise")
    shape = (3, 4)
    a = rng.uniform(0.3, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    b = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    positive = rng.uniform(0.3, 2.0, shape)
    cases = []
    for label, name, right in (("a + b", "add", 1), ("a - b", "sub", 1), ("a * b", "mul", 1),
                               ("a / b", "truediv", 1)):
        cases.append(single_op_case(label, [("a", a), ("b", b)], ["op", name, 0, right], rng.normal(size=shape)))
    for label, op in (("a + 2", ["op", "add", 0, const(2.0)]), ("2 + a", ["op", "add", const(2.0), 0]),
                      ("1 - a", ["op", "sub", const(1.0), 0]), ("3 * a", ["op", "mul", const(3.0), 0]),
                      ("2 / a", ["op", "truediv", const(2.0), 0]), ("a / 4", ["op", "truediv", 0, const(4.0)]),
                      ("-a", ["op", "neg", 0]), ("a ** 2", ["op", "pow", 0, const(2)]),
                      ("a ** 3", ["op", "pow", 0, const(3)]), ("a ** -1", ["op", "pow", 0, const(-1)]),
                      ("a.exp()", ["op", "exp", 0]), ("a.sigmoid()", ["op", "sigmoid", 0]),
                      ("a.tanh()", ["op", "tanh", 0]), ("a.relu()", ["op", "relu", 0]),
                      ("a * a", ["op", "mul", 0, 0])):
        cases.append(single_op_case(label, [("a", a)], op, rng.normal(size=shape)))
    for label, op in (("p ** 0.5", ["op", "pow", 0, const(0.5)]), ("p.log()", ["op", "log", 0])):
        cases.append(single_op_case(label, [("p", positive)], op, rng.normal(size=shape)))
    return cases


def broadcast_cases() -> list[TensorCase]:
    rng = fixed_rng("broadcast")
    B, C = 3, 4
    M = rng.normal(size=(B, C))
    row, col, vec = rng.normal(size=(1, C)), rng.uniform(0.5, 2.0, (B, 1)), rng.normal(size=(C,))
    k = np.array(rng.normal())
    G = rng.normal(size=(B, C))
    return [
        single_op_case("M + row (1, C)", [("M", M), ("row", row)], ["op", "add", 0, 1], G),
        single_op_case("col (B, 1) * row (1, C)", [("col", col), ("row", row)], ["op", "mul", 0, 1], G),
        single_op_case("M - v (C,)", [("M", M), ("v", vec)], ["op", "sub", 0, 1], G),
        single_op_case("v (C,) - M", [("v", vec), ("M", M)], ["op", "sub", 0, 1], G),
        single_op_case("M / col (B, 1)", [("M", M), ("col", col)], ["op", "truediv", 0, 1], G),
        single_op_case("k (0-d) * M", [("k", k), ("M", M)], ["op", "mul", 0, 1], G),
        single_op_case("2.0 + M", [("M", M)], ["op", "add", const(2.0), 0], G),
        TensorCase("sum(tanh((2 + (M + row)) * k + col * row - v))", graph_specs.tensor_broadcast_spec(seed=3),
                   ("M", "row", "k", "col", "v", "M + row", "2 + .", ". * k", "col * row", ". + .", ". - v",
                    "tanh", "sum")),
    ]


def matmul_cases() -> list[TensorCase]:
    rng = fixed_rng("matmul")
    A, W = rng.normal(size=(5, 3)), rng.normal(size=(3, 2))
    return [single_op_case("A (5, 3) @ W (3, 2)", [("A", A), ("W", W)], ["op", "matmul", 0, 1], rng.normal(size=(5, 2))),
            single_op_case("A (5, 3) @ constant (3, 2)", [("A", A)], ["op", "matmul", 0, const(W)],
                           rng.normal(size=(5, 2)))]


def reduction_cases() -> list[TensorCase]:
    rng = fixed_rng("reductions")
    x2, x3 = rng.normal(size=(3, 4)), rng.normal(size=(2, 3, 4))
    cases = []
    for name in ("sum", "mean"):
        for x, axis, keepdims in ((x2, None, False), (x2, 0, False), (x2, 1, True), (x2, -1, False),
                                  (x3, 1, False), (x3, (0, 2), True), (x3, None, True)):
            out_shape = np.sum(x, axis=axis, keepdims=keepdims).shape
            upstream = None if out_shape == () else rng.normal(size=out_shape)
            label = f"x{list(x.shape)}.{name}(axis={axis}, keepdims={keepdims})"
            kwargs = {"axis": list(axis) if isinstance(axis, tuple) else axis, "keepdims": keepdims}
            cases.append(single_op_case(label, [("x", x)], ["op", name, 0, kwargs], upstream))
    return cases


def attribute_case() -> TensorCase:
    """Leaves with and without requires_grad, results of each kind, a scalar at the end."""
    rng = fixed_rng("attributes")
    nodes = [leaf(rng.normal(size=(2, 3)), True), leaf(rng.normal(size=(2, 3)), False),
             ["op", "mul", 0, 1],                   # 2 requires grad (one input does)
             ["op", "add", 1, 1],                   # 3 requires none
             ["op", "tanh", 2], ["op", "add", 4, 3], ["op", "sum", 5]]
    return TensorCase("a (requires_grad) and b (not)", {"nodes": nodes, "backward": [[6, None]]},
                      ("a", "b", "a * b", "b + b", "tanh(a * b)", "tanh(a * b) + (b + b)", "sum(.)"))


def loss_cases(loss: str) -> list[TensorCase]:
    rng = fixed_rng(loss)
    B, C = 4, 3
    pred = rng.normal(size=(B, C))
    target = np.eye(C)[rng.integers(0, C, size=B)] if loss == "cross_entropy" else rng.normal(size=(B, C))
    direct = single_op_case(f"{loss}(pred (4, 3), target)", [("pred", pred)], ["op", loss, 0, const(target)], None)
    mlp = graph_specs.tensor_mlp_spec(seed=1, loss=loss if loss == "cross_entropy" else "mse")
    names = ("X", "W1", "b1", "W2", "b2", "X @ W1", "Z1", "A1", "A1 @ W2", "Z2", loss)
    return [direct, TensorCase(f"{loss} of a two-layer tanh network", mlp, names)]


@functools.lru_cache(maxsize=1)  # the same 5,000 nodes for every student; nothing changes a spec
def chain_case() -> TensorCase:
    spec = graph_specs.report_ends(graph_specs.tensor_chain_spec(5_000))
    names = ("x", "sum")
    return TensorCase("a chain of 5,000 operations", spec, names)


# Reading and comparing answers.

def read_result(value: Any, size: int) -> tuple[Optional[Result], Optional[Verdict]]:
    if not isinstance(value, dict) or not all(isinstance(value.get(k), list) and len(value[k]) == size
                                              for k in RESULT_KEYS):
        return None, fail(f"The graph program returned {describe(value)} instead of one entry per node.")
    return value, None


def requiring_leaves(spec: Spec) -> list[int]:
    return [i for i, node in enumerate(spec["nodes"]) if node[0] == "leaf" and node[2]]


def same_values(got: Any, expected: Any, rtol: float) -> bool:
    """Equal shapes (or both a single element) and norm-relative error within `rtol`."""
    if got is None or expected is None:
        return got is None and expected is None
    g, e = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if g.shape != e.shape:
        if g.size != 1 or e.size != 1:
            return False
        g, e = g.reshape(()), e.reshape(())
    return bool(np.all(np.isfinite(g)) and relative_error(g, e) <= rtol)


def changed_leaf(spec: Spec, got: Result) -> Optional[int]:
    """The first leaf whose data after the program differs from what was sent."""
    for i, node in enumerate(spec["nodes"]):
        if node[0] != "leaf" or got["data"][i] is None:
            continue
        after, sent = np.asarray(got["data"][i], dtype=np.float64), np.asarray(node[1], dtype=np.float64)
        if after.size == sent.size and not np.array_equal(after.ravel(), sent.ravel()):
            return i
    return None


def judge_tensor_graph(ctx: CheckContext, case: TensorCase, expected: Result,
                       edges: Optional[dict] = None, reveal: bool = True,
                       got: Optional[Result] = None, answer: Optional[Outcome] = None) -> Verdict:
    """Data of every node, then the grad of every leaf that requires grad, against `expected`.

    `edges` (leaf -> contribution of each use, for leaves used more than once) lets a shared
    leaf that kept only one contribution be named gradient_overwritten. The student's answer is
    `got`, or read from `answer` (an outcome of `ctx.program_all`), or asked for here.
    """
    rtol = ctx.settings.get("rtol", 1e-8)
    if got is None:
        value = ctx.program("tensor_graph", case.spec) if answer is None else answer.get()
        got, problem = read_result(value, len(case.spec["nodes"]))
        if problem is not None:
            return problem
    changed = changed_leaf(case.spec, got)
    if changed is not None:
        return with_mistake(f"{case.label}: the data of {case.names[changed]} changed during the computation.",
                            "mutates_input")
    for i, (g, e) in enumerate(zip(got["data"], expected["data"])):
        if not same_values(g, e, rtol):
            unstable = g is not None and not np.all(np.isfinite(g)) and np.all(np.isfinite(e))
            shown = f" (shape {np.shape(g)}; expected shape {np.shape(e)})" if np.shape(g) != np.shape(e) else ""
            code = None
            if case.spec["nodes"][i][1] == "cross_entropy":
                # An axis slip can give inf or nan too: the variant explains it first.
                code = cross_entropy_mistake(case.spec, i, g, expected, rtol) or \
                    ("softmax_unstable" if unstable else None)
            return with_mistake(f"{case.label}: the value of {case.names[i]} is "
                                f"{'not finite' if unstable else 'wrong'}{shown}.", code)
    for i in requiring_leaves(case.spec):
        g, e = got["grad"][i], expected["grad"][i]
        if same_values(g, e, rtol):
            continue
        if g is None:
            return fail(f"{case.label}: {case.names[i]}.grad is None after backward; it should be an array of "
                        f"shape {np.shape(e)}.")
        g = np.asarray(g)
        if g.shape != np.shape(e):
            code = "broadcast_grad_not_reduced" if broadcast_evidence(
                case.spec, i, g, np.asarray(e), [np.shape(d) for d in expected["data"]]) else \
                transposed_code(g, e, rtol)
            return with_mistake(f"{case.label}: {case.names[i]}.grad has shape {g.shape}; it should have "
                                f"{case.names[i]}'s shape {np.shape(e)}.", code)
        shown = f" (norm-relative error {relative_error(g, e):.2e})" if reveal else ""
        return with_mistake(f"{case.label}: {case.names[i]}.grad is wrong{shown}.",
                            gradient_mistake(ctx, case.spec, got, expected, edges or {}, rtol))
    return ok()


def gradient_mistake(ctx: CheckContext, spec: Spec, got: Result, expected: Result, edges: dict,
                     rtol: float) -> Optional[str]:
    """The mistake the leaves' wrong grads show, judged over the whole graph.

    A shared leaf holding one use's contribution lost the others, by `=` for `+=` or by running
    before all its consumers were done; leaf grads equal to those of the graph with some uses of
    an interior node cut off (`expected["partial"]`) show a node run too early, or a gradient
    overwritten inside. The engine probes tell which (`engine_mistake`).
    """
    def same(a: Any, b: Any) -> bool:
        return same_values(a, b, rtol)

    leaves = requiring_leaves(spec)
    wrong = [i for i in leaves if not same(got["grad"][i], expected["grad"][i])]
    if any(same(got["grad"][i], c) for i in wrong for c in edges.get(str(i), [])) or \
            partial_path_mistake(got["grad"], expected["grad"], expected.get("partial", []), leaves, same):
        return engine_mistake(ctx)  # what this graph suggests, the probes must confirm
    first = wrong[0]
    return (sign_mistake(got["grad"], expected["grad"], leaves, same)
            or transposed_code(got["grad"][first], expected["grad"][first], rtol)
            or local_derivative_mistake(spec, got["grad"][first], expected["grad"][first], same))


def probe_cases() -> list[TensorCase]:
    """A leaf x used twice where the order of the walk cannot matter: x op x, op(x) + x, summed."""
    return [TensorCase(label, spec, ("x",) + tuple(f"node {i}" for i in range(1, len(spec["nodes"]))))
            for label, spec in graph_specs.shared_use_probe_specs(tensor=True).items()]


def engine_mistake(ctx: CheckContext) -> Optional[str]:
    """Run the engine probes on the student's Tensor: which of the two graph mistakes it makes.

    A leaf that kept one use's gradient may have been overwritten or passed on too early; the
    probes tell (`engine_probes.shared_use_mistake`): x op x and op(x) + x for
    gradient_overwritten, the topological probes of `shared_cases` (an interior node with a short
    and a long path to the output) for wrong_topological_order.
    """
    rtol = ctx.settings.get("rtol", 1e-8)
    probes = probe_cases()
    orders = [case for case in shared_cases() if ctx.fixture("shared")[case.label]["partial"]]
    try:
        runs = [answer.get() for answer in ctx.program_all("tensor_graph", [case.spec for case in probes + orders])]
    except StudentCodeError:
        return None
    if not all(isinstance(run, dict) and isinstance(run.get("grad"), list) for run in runs):
        return None
    answers, shared = ctx.fixture("probes"), ctx.fixture("shared")

    def same(a: Any, b: Any) -> bool:
        return same_values(a, b, rtol)

    overwrite = [(run["grad"][0], answers[c.label]["grad"][0], answers[c.label]["edges"]["0"])
                 for c, run in zip(probes, runs)]
    order_failed = any(partial_path_mistake(run["grad"], shared[c.label]["grad"], shared[c.label]["partial"],
                                            requiring_leaves(c.spec), same)
                       for c, run in zip(orders, runs[len(probes):]))
    return shared_use_mistake(overwrite, order_failed, same)


def shared_leaf_contributions(spec: Spec, run: Callable[[Spec], Result]) -> dict[str, list]:
    """For each leaf used more than once: the gradient each use contributes (reference engine)."""
    uses = consumer_edges(spec)
    return {str(i): [run(split_edge(spec, c, slot, leaf(spec["nodes"][i][1])))["grad"][0] for c, slot in uses[i]]
            for i in requiring_leaves(spec) if len(uses.get(i, [])) > 1}


def reference_runner() -> Callable[[Spec], Result]:
    from grader.worker.inside.programs import run_tensor_graph
    from reference import tensor_engine

    return lambda spec: run_tensor_graph(tensor_engine, spec)


def interior_partials(spec: Spec, result: Result, run: Callable[[Spec], Result]) -> list[list]:
    """Leaf grads of the graph with some uses of a shared interior node cut off, for every such node."""
    uses = consumer_edges(spec)
    return [variant for node, node_uses in sorted(uses.items())
            if spec["nodes"][node][0] == "op" and len(node_uses) > 1
            for variant in partial_path_variants(spec, node, result["data"][node], run,
                                                 lambda value: leaf(value, requires_grad=False))]


def reference_answers(cases: list[TensorCase]) -> dict:
    """The reference's answer to each case, with its shared leaves' edge contributions and partial paths."""
    run = reference_runner()
    answers = {}
    for case in cases:
        result = run(case.spec)
        result["edges"] = shared_leaf_contributions(case.spec, run)
        result["partial"] = interior_partials(case.spec, result, run)
        answers[case.label] = result
    return answers


def judge_cases(ctx: CheckContext, fixture: str, cases: list[TensorCase]) -> Verdict:
    expected = ctx.fixture(fixture)
    for case, answer in zip(cases, ctx.program_all("tensor_graph", [case.spec for case in cases])):
        verdict = judge_tensor_graph(ctx, case, expected[case.label], expected[case.label].get("edges"),
                                     answer=answer)
        if not verdict.passed:
            return verdict
    return ok()


@fixture_builder(STEM, "operations")
def build_operations() -> dict:
    return reference_answers(elementwise_cases() + broadcast_cases() + matmul_cases() + reduction_cases()
                             + [attribute_case()])


@fixture_builder(STEM, "losses")
def build_losses() -> dict:
    cases = loss_cases("mse_loss") + loss_cases("cross_entropy")
    large = TensorCase("cross_entropy of logits near +-1000", graph_specs.tensor_large_logits_spec(),
                       ("logits", "cross_entropy"))
    return reference_answers(cases + [large])


# Tensor

def attribute_problem(case: TensorCase, got: Result) -> Optional[str]:
    """requires_grad, is_leaf and grad_fn of every node, and no grad on a leaf that needs none."""
    requires = []
    for i, node in enumerate(case.spec["nodes"]):
        name = case.names[i]
        if node[0] == "leaf":
            requires.append(node[2])
            if got["requires_grad"][i] is not node[2]:
                return f"{name}.requires_grad should be {node[2]}, the value given to Tensor(...)."
            if got["is_leaf"][i] is not True:
                return f"{name} was made by Tensor(...), so {name}.is_leaf should be True."
            if got["grad_fn"][i] is not None:
                return f"{name} was made by Tensor(...), so {name}.grad_fn should be None."
            if not node[2] and got["grad"][i] is not None:
                return f"{name} has requires_grad=False, so {name}.grad should stay None after backward."
            continue
        needed = any(requires[o] for o in node[2:] if isinstance(o, int))
        requires.append(needed)
        if got["requires_grad"][i] is not needed:
            return (f"{name}.requires_grad should be {needed}: a result requires grad when any of its inputs does.")
        if needed:
            fn = got["grad_fn"][i]
            if got["is_leaf"][i] is not False:
                return f"{name} was made by an operation on a tensor that requires grad, so {name}.is_leaf is False."
            if not fn or not any(word in str(fn).lower() for word in OPERATION_WORDS[node[1]]):
                return (f"{name}.grad_fn should be an object whose name says the operation ({node[1]}); "
                        f"its name is {fn!r}.")
    return None


@check(STEM, "Tensor.attributes", needs=("Tensor",),
       hint="Leaves: grad_fn None, is_leaf True; results of tensors that require grad: requires_grad True, "
            "a grad_fn with a name.")
def tensor_attributes(ctx: CheckContext) -> Verdict:
    case = attribute_case()
    got, problem = read_result(ctx.program("tensor_graph", case.spec), len(case.spec["nodes"]))
    if problem is not None:
        return problem
    wrong = attribute_problem(case, got)
    if wrong is not None:
        return fail(f"{case.label}: {wrong}")
    return judge_tensor_graph(ctx, case, ctx.fixture("operations")[case.label], got=got)


@check(STEM, "Tensor.elementwise", needs=("Tensor",),
       hint="Each operation's backward multiplies the upstream gradient by its local derivative, elementwise.")
def tensor_elementwise(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "operations", elementwise_cases())


@check(STEM, "Tensor.broadcasting", needs=("Tensor",),
       hint="Sum a broadcast operand's gradient over the stretched axes, back to the operand's shape.")
def tensor_broadcasting(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "operations", broadcast_cases())


@check(STEM, "Tensor.matmul", needs=("Tensor",), hint="For C = A @ B: dA = dC @ B.T, dB = A.T @ dC.")
def tensor_matmul(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "operations", matmul_cases())


@check(STEM, "Tensor.reductions", needs=("Tensor",),
       hint="sum/mean(axis, keepdims): each input element gets the gradient of the sum it went into (/ count).")
def tensor_reductions(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "operations", reduction_cases())


@check(STEM, "Tensor.accumulation", needs=("Tensor",),
       hint="A second backward adds to .grad, as in PyTorch: leaf.grad = g the first time, leaf.grad += g after.")
def tensor_accumulation(ctx: CheckContext) -> Verdict:
    spec = graph_specs.tensor_accumulation_spec()
    case = TensorCase("L = sum(W * W), backward twice", spec, ("W", "W * W", "L"))
    got, problem = read_result(ctx.program("tensor_graph", spec), len(spec["nodes"]))
    if problem is not None:
        return problem
    expected = ctx.fixture("accumulation")
    verdict = judge_tensor_graph(ctx, case, expected["twice"], got=got)
    if verdict.passed or verdict.diagnosis:
        return verdict
    rtol = ctx.settings.get("rtol", 1e-8)
    # One call's gradient, or one use's within one call: something was assigned, not added.
    if any(same_values(got["grad"][0], partial, rtol) for partial in [expected["once"]["grad"][0], *expected["uses"]]):
        return with_mistake(f"{case.label}: W.grad holds only part of the two calls' gradients.",
                            "gradient_overwritten")
    return verdict


@fixture_builder(STEM, "accumulation")
def build_accumulation() -> dict:
    run = reference_runner()
    spec = graph_specs.tensor_accumulation_spec()
    once = {**spec, "backward": spec["backward"][:1]}
    return {"twice": run(spec), "once": run(once), "uses": shared_leaf_contributions(once, run)["0"]}


@check(STEM, "Tensor.backward_needs_grad", needs=("Tensor",),
       hint="backward() without a gradient works only for a single-element tensor; otherwise raise an error.")
def tensor_backward_needs_grad(ctx: CheckContext) -> Verdict:
    """backward(G) and backward() on a single element work; backward() on a (2, 3) tensor must raise.

    The raise is the expected behaviour here, so the student's error is caught, and only after
    the same graph has worked with an explicit gradient (so an unrelated failure cannot pass).
    """
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    with_grad = {"nodes": [leaf(x), ["op", "tanh", 0]], "backward": [[1, np.ones_like(x)]]}
    scalar = {"nodes": [leaf(x), ["op", "tanh", 0], ["op", "sum", 1]], "backward": [[2, None]]}
    ctx.program("tensor_graph", with_grad)
    ctx.program("tensor_graph", scalar)
    try:
        ctx.program("tensor_graph", {"nodes": with_grad["nodes"], "backward": [[1, None]]})
    except StudentCodeError as error:
        if error.status == "error":
            return ok()
        raise
    return fail("backward() without a gradient on a tensor of shape (2, 3) should raise an error "
                "(PyTorch: 'grad can be implicitly created only for scalar outputs'); it ran instead.")


@check(STEM, "Tensor.shared", needs=("Tensor",),
       hint="A tensor used several times sums the gradient of each use; each tensor passes its gradient on "
            "only after all its consumers have added theirs.")
def tensor_shared(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "shared", shared_cases())


def shared_cases() -> list[TensorCase]:
    """x * x; a leaf used by two operations; the topological probes (an interior node with two consumers)."""
    rng = fixed_rng("shared")
    x = rng.uniform(0.3, 1.5, (2, 3))
    return [single_op_case("x * x", [("x", x)], ["op", "mul", 0, 0], rng.normal(size=(2, 3))),
            TensorCase("sum(tanh(x) * exp(x))", {"nodes": [leaf(x), ["op", "tanh", 0], ["op", "exp", 0],
                                                           ["op", "mul", 1, 2], ["op", "sum", 3]],
                                                 "backward": [[4, None]]},
                       ("x", "tanh x", "exp x", "tanh x * exp x", "sum")),
            *[topological_probe_case(mirrored) for mirrored in (False, True)]]


def topological_probe_case(mirrored: bool) -> TensorCase:
    """Three diamonds exp(3 tanh s_k) + s_k with s_k = w_k * x_k, and a * a, summed (see graph_specs)."""
    spec = graph_specs.tensor_topological_probe_spec(seed=4, mirrored=mirrored)
    names: list[str] = []
    for k in range(1, 4):
        names += [f"w{k}", f"x{k}", f"s{k} = w{k} * x{k}", f"tanh s{k}", f"3 tanh s{k}", f"exp(3 tanh s{k})",
                  f"exp(3 tanh s{k}) + s{k}"]
    names += ["a", "a * a"] + [f"partial sum {k}" for k in range(1, 4)] + ["sum"]
    return TensorCase(f"sum of three diamonds exp(3 tanh s) + s with s = w * x, and a * a"
                      f"{', mirrored' if mirrored else ''}", spec, tuple(names))


@fixture_builder(STEM, "shared")
def build_shared() -> dict:
    return reference_answers(shared_cases())


@fixture_builder(STEM, "probes")
def build_probes() -> dict:
    return reference_answers(probe_cases())


@check(STEM, "Tensor.deep_chain", needs=("Tensor",), timeout=30.0,
       hint="Build the topological order with a loop and an explicit stack, not recursion.")
def tensor_deep_chain(ctx: CheckContext) -> Verdict:
    case = chain_case()
    try:
        value = ctx.program("tensor_graph", case.spec, timeout=ctx.settings.get("deep_timeout", 20.0))
    except StudentCodeError as error:
        if recursion_failure(error):
            return with_mistake(f"backward on {case.label} failed with RecursionError.", "recursion_limit")
        raise
    got, problem = read_result(value, len(case.spec["report"]))
    if problem is not None:
        return problem
    expected = ctx.fixture("chain")
    rtol = ctx.settings.get("rtol", 1e-8)
    if not same_values(got["data"][-1], expected["data_last"], rtol):
        return fail(f"{case.label}: the final sum is wrong.")
    if not same_values(got["grad"][0], expected["grad_first"], rtol):
        return fail(f"{case.label}: x.grad is wrong (every step's local derivative is +1 or -1).")
    return ok()


@fixture_builder(STEM, "chain")
def build_chain() -> dict:
    result = reference_runner()(chain_case().spec)
    return {"data_last": result["data"][-1], "grad_first": result["grad"][0]}


# mse_loss and cross_entropy

def loss_batch(case: TensorCase, expected: Result) -> int:
    """B, the number of rows of the prediction the final loss node takes."""
    prediction = case.spec["nodes"][-1][2]
    return int(np.shape(expected["data"][prediction])[0])


def loss_verdict(ctx: CheckContext, case: TensorCase, expected: Result, reveal: bool) -> Verdict:
    """The graph's verdict, naming a loss exactly B times the right one (batch_sum_not_mean), or a
    cross-entropy normalised over the batch axis or the whole array (softmax_wrong_axis)."""
    batch = loss_batch(case, expected)
    got, problem = read_result(ctx.program("tensor_graph", case.spec), len(case.spec["nodes"]))
    if problem is not None:
        return problem
    verdict = judge_tensor_graph(ctx, case, expected, reveal=reveal, got=got)
    if verdict.passed or verdict.diagnosis:
        return verdict
    value, right = np.asarray(got["data"][-1], dtype=np.float64), np.asarray(expected["data"][-1])
    if value.size == 1 and batch > 1 and np.isclose(float(value.ravel()[0]), batch * float(right), rtol=1e-6):
        return with_mistake(f"{case.label}: the loss is {batch} times too large, the batch size.",
                            "batch_sum_not_mean")
    return verdict


def cross_entropy_mistake(spec: Spec, node: int, got: Any, expected: Result, rtol: float) -> Optional[str]:
    """softmax_wrong_axis when a cross_entropy node's value equals one with softmax's axis slipped."""
    value = np.asarray(got, dtype=np.float64) if got is not None else None
    if value is None or value.size != 1:
        return None
    logits, target = (expected["data"][o] if isinstance(o, int) else o["const"] for o in spec["nodes"][node][2:4])
    return matching_variant(value.reshape(()), cross_entropy_variants(logits, target), max(rtol, 1e-6),
                            right=expected["data"][node])


@check(STEM, "mse_loss.values", needs=("Tensor", "mse_loss"),
       hint="mse_loss(pred, target) = mean((pred - target) ** 2) over every element, built from Tensor operations.")
def mse_loss_values(ctx: CheckContext) -> Verdict:
    answers = ctx.fixture("losses")
    for case in loss_cases("mse_loss"):
        verdict = loss_verdict(ctx, case, answers[case.label], reveal=True)
        if not verdict.passed:
            return verdict
    return ok()


@check(STEM, "cross_entropy.values", needs=("Tensor", "cross_entropy"),
       hint="cross_entropy = -(1/B) sum_b sum_c y_bc log softmax(z_b)_c, from Tensor operations.")
def cross_entropy_values(ctx: CheckContext) -> Verdict:
    answers = ctx.fixture("losses")
    for case in loss_cases("cross_entropy"):
        verdict = loss_verdict(ctx, case, answers[case.label], reveal=True)
        if not verdict.passed:
            return verdict
    return ok()


@check(STEM, "cross_entropy.large_logits", needs=("Tensor", "cross_entropy"),
       hint="log softmax(z) = (z - m) - log sum exp(z - m) with m the row maximum: finite for logits of 1000.")
def cross_entropy_large_logits(ctx: CheckContext) -> Verdict:
    case = TensorCase("cross_entropy of logits near +-1000", graph_specs.tensor_large_logits_spec(),
                      ("logits", "cross_entropy"))
    return judge_tensor_graph(ctx, case, ctx.fixture("losses")[case.label])
