"""Public checks for exercise 5: the numpy-backed autograd `Tensor`, `mse_loss`, `cross_entropy`.

How a graph runs on the student's engine, what is compared and which mistakes are named is
`grader.checks.lib.tensor_graphs`; the expected answers are the reference engine run through
the same program, built into fixtures. A RecursionError on a deep chain is recursion_limit.
"""
from __future__ import annotations

import functools
from typing import Callable, Optional

import numpy as np

from grader.checks import graph_specs
from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.fixtures import fixture_builder
from grader.checks.lib.answers import register, with_mistake
from grader.checks.lib.graph_cases import GraphCase, Result, Spec, const
from grader.checks.lib.tensor_graphs import (
    STEM, engine_mistake, fixed_rng, judge_tensor_graph, leaf, loss_verdict, probe_cases, read_result, same_values,
    shared_cases, shared_leaf_contributions, single_op_case,
)
from grader.checks.lib.tensor_graphs import changed_leaf  # noqa: F401 - read here by its tests
from grader.diagnosis.engine_probes import consumer_edges, partial_path_variants, recursion_failure
from grader.errors import StudentCodeError

# Words a grad_fn name may use for each operation ("MulBackward", "Mul", "*", ...); an operation
# built from others (a - b = a + (-b)) may carry the name of the last one.
OPERATION_WORDS = {
    "add": ("add", "+", "plus"), "sub": ("sub", "-", "minus", "add"), "mul": ("mul", "*", "times", "prod"),
    "truediv": ("div", "/", "mul", "pow"), "pow": ("pow", "**"), "neg": ("neg", "-", "mul"),
    "matmul": ("matmul", "mm", "@", "dot", "matrix"), "exp": ("exp",), "log": ("log",),
    "sigmoid": ("sigm",), "tanh": ("tanh",), "relu": ("relu",), "sum": ("sum",),
    "mean": ("mean", "avg", "average"),
}


def elementwise_cases() -> list[GraphCase]:
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


def broadcast_cases() -> list[GraphCase]:
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
        GraphCase("sum(tanh((2 + (M + row)) * k + col * row - v))", graph_specs.tensor_broadcast_spec(seed=3),
                  ("M", "row", "k", "col", "v", "M + row", "2 + .", ". * k", "col * row", ". + .", ". - v",
                   "tanh", "sum")),
    ]


def matmul_cases() -> list[GraphCase]:
    rng = fixed_rng("matmul")
    A, W = rng.normal(size=(5, 3)), rng.normal(size=(3, 2))
    return [single_op_case("A (5, 3) @ W (3, 2)", [("A", A), ("W", W)], ["op", "matmul", 0, 1], rng.normal(size=(5, 2))),
            single_op_case("A (5, 3) @ constant (3, 2)", [("A", A)], ["op", "matmul", 0, const(W)],
                           rng.normal(size=(5, 2)))]


def reduction_cases() -> list[GraphCase]:
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


def attribute_case() -> GraphCase:
    """Leaves with and without requires_grad, results of each kind, a scalar at the end."""
    rng = fixed_rng("attributes")
    nodes = [leaf(rng.normal(size=(2, 3)), True), leaf(rng.normal(size=(2, 3)), False),
             ["op", "mul", 0, 1],                   # 2 requires grad (one input does)
             ["op", "add", 1, 1],                   # 3 requires none
             ["op", "tanh", 2], ["op", "add", 4, 3], ["op", "sum", 5]]
    return GraphCase("a (requires_grad) and b (not)", {"nodes": nodes, "backward": [[6, None]]},
                     ("a", "b", "a * b", "b + b", "tanh(a * b)", "tanh(a * b) + (b + b)", "sum(.)"))


def loss_cases(loss: str) -> list[GraphCase]:
    rng = fixed_rng(loss)
    B, C = 4, 3
    pred = rng.normal(size=(B, C))
    target = np.eye(C)[rng.integers(0, C, size=B)] if loss == "cross_entropy" else rng.normal(size=(B, C))
    direct = single_op_case(f"{loss}(pred (4, 3), target)", [("pred", pred)], ["op", loss, 0, const(target)], None)
    mlp = graph_specs.tensor_mlp_spec(seed=1, loss=loss if loss == "cross_entropy" else "mse")
    names = ("X", "W1", "b1", "W2", "b2", "X @ W1", "Z1", "A1", "A1 @ W2", "Z2", loss)
    return [direct, GraphCase(f"{loss} of a two-layer tanh network", mlp, names)]


@functools.lru_cache(maxsize=1)  # the same 5,000 nodes for every student; nothing changes a spec
def chain_case() -> GraphCase:
    spec = graph_specs.report_ends(graph_specs.tensor_chain_spec(5_000))
    names = ("x", "sum")
    return GraphCase("a chain of 5,000 operations", spec, names)


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


def reference_answers(cases: list[GraphCase]) -> dict:
    """The reference's answer to each case, with its shared leaves' edge contributions and partial paths."""
    run = reference_runner()
    answers = {}
    for case in cases:
        result = run(case.spec)
        result["edges"] = shared_leaf_contributions(case.spec, run)
        result["partial"] = interior_partials(case.spec, result, run)
        answers[case.label] = result
    return answers


def judge_cases(ctx: CheckContext, fixture: str, cases: list[GraphCase]) -> Verdict:
    expected = ctx.fixture(fixture)
    for case, answer in zip(cases, ctx.program_all("tensor_graph", [case.spec for case in cases])):
        verdict = judge_tensor_graph(ctx, case, expected[case.label], expected[case.label].get("edges"),
                                     confirm=engine_mistake, answer=answer)
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
    large = GraphCase("cross_entropy of logits near +-1000", graph_specs.tensor_large_logits_spec(),
                      ("logits", "cross_entropy"))
    return reference_answers(cases + [large])


# Tensor

def attribute_problem(case: GraphCase, got: Result) -> Optional[str]:
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


@register(STEM, "Tensor.attributes", needs=("Tensor",),
          hint="Leaves: grad_fn None, is_leaf True; results of tensors that require grad: requires_grad True, "
               "a grad_fn with a name.")
def tensor_attributes(ctx: CheckContext) -> Verdict:
    case = attribute_case()
    got = read_result(ctx.program("tensor_graph", case.spec), len(case.spec["nodes"]))
    wrong = attribute_problem(case, got)
    if wrong is not None:
        return fail(f"{case.label}: {wrong}")
    return judge_tensor_graph(ctx, case, ctx.fixture("operations")[case.label], confirm=engine_mistake, got=got)


@register(STEM, "Tensor.elementwise", needs=("Tensor",),
          hint="Each operation's backward multiplies the upstream gradient by its local derivative, elementwise.")
def tensor_elementwise(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "operations", elementwise_cases())


@register(STEM, "Tensor.broadcasting", needs=("Tensor",),
          hint="Sum a broadcast operand's gradient over the stretched axes, back to the operand's shape.")
def tensor_broadcasting(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "operations", broadcast_cases())


@register(STEM, "Tensor.matmul", needs=("Tensor",), hint="For C = A @ B: dA = dC @ B.T, dB = A.T @ dC.")
def tensor_matmul(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "operations", matmul_cases())


@register(STEM, "Tensor.reductions", needs=("Tensor",),
          hint="sum/mean(axis, keepdims): each input element gets the gradient of the sum it went into (/ count).")
def tensor_reductions(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "operations", reduction_cases())


@register(STEM, "Tensor.accumulation", needs=("Tensor",),
          hint="A second backward adds to .grad, as in PyTorch: leaf.grad = g the first time, leaf.grad += g after.")
def tensor_accumulation(ctx: CheckContext) -> Verdict:
    spec = graph_specs.tensor_accumulation_spec()
    case = GraphCase("L = sum(W * W), backward twice", spec, ("W", "W * W", "L"))
    got = read_result(ctx.program("tensor_graph", spec), len(spec["nodes"]))
    expected = ctx.fixture("accumulation")
    verdict = judge_tensor_graph(ctx, case, expected["twice"], confirm=engine_mistake, got=got)
    if verdict.passed or verdict.diagnosis:
        return verdict
    rtol = ctx.settings.get("rtol", 1e-8)
    # One call's gradient, or one use's within one call: something was assigned, not added.
    if any(same_values(got["grad"][0], partial, rtol) for partial in [expected["once"]["grad"][0], *expected["uses"]]):
        return with_mistake(f"{case.label}: W.grad holds only part of the two calls' gradients.",
                            "gradient_overwritten", STEM)
    return verdict


@fixture_builder(STEM, "accumulation")
def build_accumulation() -> dict:
    run = reference_runner()
    spec = graph_specs.tensor_accumulation_spec()
    once = {**spec, "backward": spec["backward"][:1]}
    return {"twice": run(spec), "once": run(once), "uses": shared_leaf_contributions(once, run)["0"]}


@register(STEM, "Tensor.backward_needs_grad", needs=("Tensor",),
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


@register(STEM, "Tensor.shared", needs=("Tensor",),
          hint="A tensor used several times sums the gradient of each use; each tensor passes its gradient on "
               "only after all its consumers have added theirs.")
def tensor_shared(ctx: CheckContext) -> Verdict:
    return judge_cases(ctx, "shared", shared_cases())


@fixture_builder(STEM, "shared")
def build_shared() -> dict:
    return reference_answers(shared_cases())


@fixture_builder(STEM, "probes")
def build_probes() -> dict:
    return reference_answers(probe_cases())


@register(STEM, "Tensor.deep_chain", needs=("Tensor",), timeout=30.0,
          hint="Build the topological order with a loop and an explicit stack, not recursion.")
def tensor_deep_chain(ctx: CheckContext) -> Verdict:
    case = chain_case()
    try:
        value = ctx.program("tensor_graph", case.spec, timeout=ctx.settings.get("deep_timeout", 20.0))
    except StudentCodeError as error:
        if recursion_failure(error):
            return with_mistake(f"backward on {case.label} failed with RecursionError.", "recursion_limit", STEM)
        raise
    got = read_result(value, len(case.spec["report"]))
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

@register(STEM, "mse_loss.values", needs=("Tensor", "mse_loss"),
          hint="mse_loss(pred, target) = mean((pred - target) ** 2) over every element, built from Tensor operations.")
def mse_loss_values(ctx: CheckContext) -> Verdict:
    answers = ctx.fixture("losses")
    for case in loss_cases("mse_loss"):
        verdict = loss_verdict(ctx, case, answers[case.label], reveal=True, confirm=engine_mistake)
        if not verdict.passed:
            return verdict
    return ok()


@register(STEM, "cross_entropy.values", needs=("Tensor", "cross_entropy"),
          hint="cross_entropy = -(1/B) sum_b sum_c y_bc log softmax(z_b)_c, from Tensor operations.")
def cross_entropy_values(ctx: CheckContext) -> Verdict:
    answers = ctx.fixture("losses")
    for case in loss_cases("cross_entropy"):
        verdict = loss_verdict(ctx, case, answers[case.label], reveal=True, confirm=engine_mistake)
        if not verdict.passed:
            return verdict
    return ok()


@register(STEM, "cross_entropy.large_logits", needs=("Tensor", "cross_entropy"),
          hint="log softmax(z) = (z - m) - log sum exp(z - m) with m the row maximum: finite for logits of 1000.")
def cross_entropy_large_logits(ctx: CheckContext) -> Verdict:
    case = GraphCase("cross_entropy of logits near +-1000", graph_specs.tensor_large_logits_spec(),
                     ("logits", "cross_entropy"))
    return judge_tensor_graph(ctx, case, ctx.fixture("losses")[case.label], confirm=engine_mistake)
