"""Hidden checks for exercise 5 (instructor only): random tensor graphs against the reference.

The reference `Tensor` runs through the same graph interpreter in this process. Shapes are
non-square (B != C, both >= 2), upstream gradients are random, values stay inside each
operation's domain and away from ReLU's kink. Feedback names the operation and the tensor,
never a value.
"""
from __future__ import annotations

from itertools import product

import numpy as np

from grader.checks.base import CheckContext, Verdict, ok
from grader.checks.batch_cache import batch_memo, reference_memo
from grader.checks.lib.answers import register, with_mistake
from grader.checks.lib.graph_cases import GraphCase, Result, Spec, const
from grader.checks.lib.tensor_graphs import (
    STEM, changed_leaf, engine_mistake, judge_tensor_graph, loss_verdict, shared_leaf_contributions, single_op_case,
)
from grader.worker.inside.programs import run_tensor_graph
from reference import tensor_engine

UNARY = ("neg", "exp", "log", "sigmoid", "tanh", "relu")
BINARY = ("add", "sub", "mul", "truediv")
SYMBOL = {"add": "+", "sub": "-", "mul": "*", "truediv": "/"}


@reference_memo  # every student of a batch meets the same graphs
def run_reference(spec: Spec) -> Result:
    return run_tensor_graph(tensor_engine, spec)


def batch_and_classes(rng: np.random.Generator) -> tuple[int, int]:
    batch, classes = (int(v) for v in rng.choice(np.arange(2, 8), size=2, replace=False))
    return batch, classes


def away_from_zero(rng: np.random.Generator, shape: tuple, low: float = 0.3, high: float = 2.0) -> np.ndarray:
    """Values with |v| in [low, high] and random signs: safe for division and ReLU's kink."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def operation_case(rng: np.random.Generator, name: str) -> GraphCase:
    """One operation on random (B, C) operands in its domain, with a random upstream gradient."""
    shape = batch_and_classes(rng)
    a = away_from_zero(rng, shape)
    upstream = rng.normal(size=shape)
    if name == "log":
        return single_op_case("log", [("x", np.abs(a))], ["op", "log", 0], upstream)
    if name == "pow":
        exponent = [2, 3, -1, 0.5, 1.5][int(rng.integers(5))]
        return single_op_case("x ** p", [("x", np.abs(a))], ["op", "pow", 0, const(exponent)], upstream)
    if name in UNARY:
        return single_op_case(name, [("x", a)], ["op", name, 0], upstream)
    if name == "matmul":
        n, k, m = (int(v) for v in rng.choice(np.arange(2, 9), size=3, replace=False))
        return single_op_case("A (n, k) @ B (k, m)", [("A", rng.normal(size=(n, k))), ("B", rng.normal(size=(k, m)))],
                              ["op", "matmul", 0, 1], rng.normal(size=(n, m)))
    name, form = name.split(":")
    number = const(float(away_from_zero(rng, ())))
    if form == "left":  # the reflected form: number op x
        return single_op_case(f"number {SYMBOL[name]} x", [("x", a)], ["op", name, number, 0], upstream)
    if form == "right":
        return single_op_case(f"x {SYMBOL[name]} number", [("x", a)], ["op", name, 0, number], upstream)
    b = away_from_zero(rng, shape, 0.5)
    return single_op_case(f"x {SYMBOL[name]} y", [("x", a), ("y", b)], ["op", name, 0, 1], upstream)


OPERATIONS = (*UNARY, "pow", "matmul", *(f"{n}:{form}" for n, form in product(BINARY, ("both", "left", "right"))))


def judge_random(ctx: CheckContext, cases: list[GraphCase]) -> Verdict:
    for case, answer in zip(cases, ctx.program_all("tensor_graph", [case.spec for case in cases])):
        expected = run_reference(case.spec)
        edges = shared_leaf_contributions(case.spec, run_reference)
        verdict = judge_tensor_graph(ctx, case, expected, edges, confirm=engine_mistake, reveal=False, answer=answer)
        if not verdict.passed:
            return verdict
    return ok()


@register(STEM, "Tensor.random_ops", needs=("Tensor",),
          hint="Check each operation's local derivative and the reflected forms (2 + t, 1 - t, 3 * t, 2 / t).")
def tensor_random_ops(ctx: CheckContext) -> Verdict:
    rng = ctx.rng
    return judge_random(ctx, [operation_case(rng, name) for name in OPERATIONS])


# Broadcast patterns: the two operands' shapes for a (B, C) result.
PATTERNS = (("(B, C)", "(1, C)"), ("(B, C)", "(C,)"), ("(B, C)", "(B, 1)"), ("(B, 1)", "(1, C)"),
            ("(B, C)", "()"), ("(C,)", "(B, 1)"))


def pattern_shape(pattern: str, batch: int, classes: int) -> tuple[int, ...]:
    return {"(B, C)": (batch, classes), "(1, C)": (1, classes), "(C,)": (classes,), "(B, 1)": (batch, 1),
            "()": ()}[pattern]


def broadcast_case(rng: np.random.Generator, name: str, pattern: tuple[str, str]) -> GraphCase:
    batch, classes = batch_and_classes(rng)
    left, right = pattern if rng.random() < 0.5 else pattern[::-1]
    a = away_from_zero(rng, pattern_shape(left, batch, classes))
    b = away_from_zero(rng, pattern_shape(right, batch, classes), 0.5)
    label = f"x {left} {SYMBOL[name]} y {right}"
    return single_op_case(label, [("x", a), ("y", b)], ["op", name, 0, 1], rng.normal(size=(batch, classes)))


@register(STEM, "Tensor.random_broadcasting", needs=("Tensor",),
          hint="After a broadcast, sum each operand's gradient over the axes it was stretched along.")
def tensor_random_broadcasting(ctx: CheckContext) -> Verdict:
    rng = ctx.rng
    return judge_random(ctx, [broadcast_case(rng, name, pattern) for name in BINARY for pattern in PATTERNS])


def reduction_case(rng: np.random.Generator, name: str) -> GraphCase:
    shape = tuple(int(v) for v in rng.choice(np.arange(2, 7), size=3, replace=False))
    axis = [None, 0, 1, 2, -1, -2, (0, 2), (1, 2)][int(rng.integers(8))]
    keepdims = bool(rng.random() < 0.5)
    x = rng.normal(size=shape)
    out_shape = np.sum(x, axis=axis, keepdims=keepdims).shape
    upstream = None if out_shape == () else rng.normal(size=out_shape)
    kwargs = {"axis": list(axis) if isinstance(axis, tuple) else axis, "keepdims": keepdims}
    return single_op_case(f"x.{name}(axis={axis}, keepdims={keepdims}) on a 3-d x", [("x", x)],
                          ["op", name, 0, kwargs], upstream)


@register(STEM, "Tensor.random_reductions", needs=("Tensor",),
          hint="sum/mean over an axis (int, negative, or a tuple), with and without keepdims.")
def tensor_random_reductions(ctx: CheckContext) -> Verdict:
    rng = ctx.rng
    return judge_random(ctx, [reduction_case(rng, name) for name in ("sum", "mean") for _ in range(4)])


def random_graph(rng: np.random.Generator, operations: int = 10) -> tuple[GraphCase, Result]:
    """Leaves (B, C), (C,), (B, 1), (); random elementwise operations reusing nodes; a scalar at the end."""
    while True:
        batch, classes = batch_and_classes(rng)
        shapes = [(batch, classes), (classes,), (batch, 1), ()]
        nodes: list[list] = [["leaf", away_from_zero(rng, s), True] for s in shapes]
        sizes = list(shapes)
        for _ in range(operations):
            a, b = (int(i) for i in rng.integers(0, len(nodes), size=2))
            if rng.random() < 0.4:
                nodes.append(["op", str(rng.choice(("tanh", "sigmoid", "neg", "relu"))), a])
                sizes.append(sizes[a])
            else:
                nodes.append(["op", str(rng.choice(("add", "sub", "mul"))), a, b])
                sizes.append(np.broadcast_shapes(sizes[a], sizes[b]))
        last = len(nodes) - 1
        nodes += [["op", "mul", last, 0], ["op", "sum", last + 1]]
        spec = {"nodes": nodes, "backward": [[len(nodes) - 1, None]]}
        result = run_reference(spec)
        relu_inputs = [result["data"][n[2]] for n in nodes if n[0] == "op" and n[1] == "relu"]
        if all(np.all(np.abs(v) > 1e-3) for v in relu_inputs) and all(np.all(np.abs(d) < 1e3) for d in result["data"]):
            names = ("a (B, C)", "r (C,)", "c (B, 1)", "k ()") + tuple(
                f"node {i} ({n[1]})" for i, n in enumerate(nodes) if i >= 4)
            return GraphCase(f"In a random graph of {operations + 2} operations", spec, names), result


@register(STEM, "Tensor.random_graphs", needs=("Tensor",),
          hint="A tensor used several times sums its gradients; each node runs after all its consumers.")
def tensor_random_graphs(ctx: CheckContext) -> Verdict:
    count = int(ctx.settings.get("random_graphs", 6))

    def draw() -> list:
        rng = ctx.rng
        return [(case, expected, shared_leaf_contributions(case.spec, run_reference))
                for case, expected in (random_graph(rng) for _ in range(count))]

    drawn = batch_memo((STEM, ctx.test_name, ctx.seed, count), draw)
    answers = ctx.program_all("tensor_graph", [case.spec for case, _, _ in drawn])
    for (case, expected, edges), answer in zip(drawn, answers):
        verdict = judge_tensor_graph(ctx, case, expected, edges, confirm=engine_mistake, reveal=False, answer=answer)
        if not verdict.passed:
            return verdict
    return ok()


@register(STEM, "Tensor.no_mutation", needs=("Tensor",),
          hint="No operation may change its inputs' .data in place (e.g. x.data[x.data < 0] = 0 in relu).")
def tensor_no_mutation(ctx: CheckContext) -> Verdict:
    rng = ctx.rng
    for name in OPERATIONS:
        case = operation_case(rng, name)
        got = ctx.program("tensor_graph", case.spec)
        changed = changed_leaf(case.spec, got) if isinstance(got, dict) and "data" in got else None
        if changed is not None:
            return with_mistake(f"{case.label}: the data of {case.names[changed]} changed during the "
                                "forward or backward pass.", "mutates_input", STEM)
    return ok()


# mse_loss and cross_entropy

def loss_case(rng: np.random.Generator, loss: str, scale: float = 1.0, target_grad: bool = False) -> GraphCase:
    batch, classes = batch_and_classes(rng)
    pred = rng.normal(size=(batch, classes)) * scale
    if loss == "cross_entropy":
        target = np.eye(classes)[rng.integers(0, classes, size=batch)]
    else:
        target = rng.normal(size=(batch, classes))
    if target_grad:
        spec = {"nodes": [["leaf", pred, True], ["leaf", target, True], ["op", loss, 0, 1]], "backward": [[2, None]]}
        return GraphCase(f"{loss}(pred, target), both requiring grad", spec, ("pred", "target", loss))
    label = f"{loss}(pred, target)" + (f" with logits up to about {scale:g}" if scale > 10 else "")
    return single_op_case(label, [("pred", pred)], ["op", loss, 0, const(target)], None)


def judge_losses(ctx: CheckContext, cases: list[GraphCase]) -> Verdict:
    for case in cases:
        verdict = loss_verdict(ctx, case, run_reference(case.spec), reveal=False, confirm=engine_mistake)
        if not verdict.passed:
            return verdict
    return ok()


@register(STEM, "mse_loss.reference", needs=("Tensor", "mse_loss"),
          hint="mse_loss averages (pred - target)^2 over every element; both arguments may require grad.")
def mse_loss_reference(ctx: CheckContext) -> Verdict:
    rng = ctx.rng
    return judge_losses(ctx, [loss_case(rng, "mse_loss") for _ in range(3)]
                        + [loss_case(rng, "mse_loss", target_grad=True)])


@register(STEM, "cross_entropy.reference", needs=("Tensor", "cross_entropy"),
          hint="Mean over the batch of -sum_c y_c log softmax(z)_c, with the row maximum subtracted first.")
def cross_entropy_reference(ctx: CheckContext) -> Verdict:
    rng = ctx.rng
    large = ctx.settings.get("large_logit", 1000.0)
    return judge_losses(ctx, [loss_case(rng, "cross_entropy", scale=3.0) for _ in range(3)]
                        + [loss_case(rng, "cross_entropy", scale=large)])

