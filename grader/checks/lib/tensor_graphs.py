"""Exercise 5's `Tensor` graphs: running them on the student's engine and judging the answers.

Every check runs a graph through the worker's program (`ctx.program("tensor_graph", spec)`,
see grader/worker/inside/programs.py), which builds it with the student's `Tensor`, calls
backward (with an upstream gradient for non-scalar outputs) and returns each node's data, grad,
requires_grad, is_leaf and grad_fn name. Only leaves that require grad are compared for
gradients: which interior tensors keep a `.grad` is the engine's choice.

Diagnoses (`grader.diagnosis`): a leaf gradient with the shape of a broadcast result
(broadcast_grad_not_reduced), a shared leaf or a second backward that keeps only one
contribution (gradient_overwritten), leaf grads equal to those of the graph with some uses of
an interior node cut off (wrong_topological_order), a gradient that is minus or the transpose
of the right one (sign_flipped, transposed), a slip in one operation's local derivative, nan or
inf from large logits (softmax_unstable), a loss B times too large (batch_sum_not_mean) or
normalised over the wrong axis (softmax_wrong_axis), a leaf's data changed (mutates_input).
The graph mistakes are named only when the engine probes agree (`grader.checks.lib.engine_probes`).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from grader.checks import graph_specs
from grader.checks.base import CheckContext, Outcome, Verdict, fail, ok
from grader.checks.compare import describe, relative_error
from grader.checks.lib.answers import AnswerError, with_mistake
from grader.checks.lib.engine_probes import Confirm, probe_engine
from grader.checks.lib.graph_cases import GraphCase, Result, Spec
from grader.diagnosis.engine_probes import (
    broadcast_evidence, consumer_edges, local_derivative_mistake, partial_path_mistake, sign_mistake, split_edge,
)
from grader.diagnosis.layout import transposed_code
from grader.diagnosis.variants import cross_entropy_variants, matching_variant

STEM = "ex5_autograd_tensor"
RESULT_KEYS = ("data", "grad", "requires_grad", "is_leaf", "grad_fn")


# Building cases.

def leaf(value: Any, requires_grad: bool = True) -> list:
    """A leaf node of a tensor spec holding `value` as float64."""
    return ["leaf", np.array(value, dtype=np.float64), requires_grad]


def single_op_case(label: str, leaves: list[tuple[str, np.ndarray]], op: list, upstream: Optional[np.ndarray],
                   names: Optional[tuple[str, ...]] = None) -> GraphCase:
    """Leaves (all requiring grad), one op on them, backward with `upstream` (None: a scalar output)."""
    nodes = [leaf(value) for _, value in leaves] + [op]
    spec = {"nodes": nodes, "backward": [[len(nodes) - 1, upstream]]}
    return GraphCase(label, spec, names or (*[name for name, _ in leaves], label))


def fixed_rng(name: str) -> np.random.Generator:
    """A generator fixed per case family, so public specs are the same in every run."""
    return np.random.default_rng(sum(name.encode()) * 7919)


# Reading and comparing answers.

def is_result(value: Any, size: int) -> bool:
    """True when the graph program's answer holds one entry per node under every key."""
    return isinstance(value, dict) and all(isinstance(value.get(k), list) and len(value[k]) == size
                                           for k in RESULT_KEYS)


def read_result(value: Any, size: int) -> Result:
    """The graph program's answer; raises AnswerError when it is not one entry per node."""
    if not is_result(value, size):
        raise AnswerError(fail(f"The graph program returned {describe(value)} instead of one entry per node."))
    return value


def requiring_leaves(spec: Spec) -> list[int]:
    """The leaves that require grad: the only nodes whose grads are compared."""
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


def judge_tensor_graph(ctx: CheckContext, case: GraphCase, expected: Result, edges: Optional[dict] = None, *,
                       confirm: Confirm, reveal: bool = True, got: Optional[Result] = None,
                       answer: Optional[Outcome] = None) -> Verdict:
    """Data of every node, then the grad of every leaf that requires grad, against `expected`.

    `edges` (leaf -> contribution of each use, for leaves used more than once) lets a shared
    leaf that kept only one contribution be named gradient_overwritten, once `confirm` (the
    exercise's `engine_mistake`) agrees. The student's answer is `got`, or read from `answer`
    (an outcome of `ctx.program_all`), or asked for here.
    """
    rtol = ctx.settings.get("rtol", 1e-8)
    if got is None:
        value = ctx.program("tensor_graph", case.spec) if answer is None else answer.get()
        got = read_result(value, len(case.spec["nodes"]))
    changed = changed_leaf(case.spec, got)
    if changed is not None:
        return with_mistake(f"{case.label}: the data of {case.names[changed]} changed during the computation.",
                            "mutates_input", STEM)
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
                                f"{'not finite' if unstable else 'wrong'}{shown}.", code, STEM)
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
                                f"{case.names[i]}'s shape {np.shape(e)}.", code, STEM)
        shown = f" (norm-relative error {relative_error(g, e):.2e})" if reveal else ""
        return with_mistake(f"{case.label}: {case.names[i]}.grad is wrong{shown}.",
                            gradient_mistake(ctx, case.spec, got, expected, edges or {}, rtol, confirm), STEM)
    return ok()


def gradient_mistake(ctx: CheckContext, spec: Spec, got: Result, expected: Result, edges: dict,
                     rtol: float, confirm: Confirm) -> Optional[str]:
    """The mistake the leaves' wrong grads show, judged over the whole graph.

    A shared leaf holding one use's contribution lost the others, by `=` for `+=` or by running
    before all its consumers were done; leaf grads equal to those of the graph with some uses of
    an interior node cut off (`expected["partial"]`) show a node run too early, or a gradient
    overwritten inside. The engine probes tell which (`confirm`).
    """
    def same(a: Any, b: Any) -> bool:
        return same_values(a, b, rtol)

    leaves = requiring_leaves(spec)
    wrong = [i for i in leaves if not same(got["grad"][i], expected["grad"][i])]
    if any(same(got["grad"][i], c) for i in wrong for c in edges.get(str(i), [])) or \
            partial_path_mistake(got["grad"], expected["grad"], expected.get("partial", []), leaves, same):
        return confirm(ctx)  # what this graph suggests, the probes must confirm
    first = wrong[0]
    return (sign_mistake(got["grad"], expected["grad"], leaves, same)
            or transposed_code(got["grad"][first], expected["grad"][first], rtol)
            or local_derivative_mistake(spec, got["grad"][first], expected["grad"][first], same))


def shared_leaf_contributions(spec: Spec, run: Callable[[Spec], Result]) -> dict[str, list]:
    """For each leaf used more than once: the gradient each use contributes (reference engine)."""
    uses = consumer_edges(spec)
    return {str(i): [run(split_edge(spec, c, slot, leaf(spec["nodes"][i][1])))["grad"][0] for c, slot in uses[i]]
            for i in requiring_leaves(spec) if len(uses.get(i, [])) > 1}


# Losses.

def cross_entropy_mistake(spec: Spec, node: int, got: Any, expected: Result, rtol: float) -> Optional[str]:
    """softmax_wrong_axis when a cross_entropy node's value equals one with softmax's axis slipped."""
    value = np.asarray(got, dtype=np.float64) if got is not None else None
    if value is None or value.size != 1:
        return None
    logits, target = (expected["data"][o] if isinstance(o, int) else o["const"] for o in spec["nodes"][node][2:4])
    return matching_variant(value.reshape(()), cross_entropy_variants(logits, target), max(rtol, 1e-6),
                            right=expected["data"][node])


def loss_batch(case: GraphCase, expected: Result) -> int:
    """B, the number of rows of the prediction the final loss node takes."""
    prediction = case.spec["nodes"][-1][2]
    return int(np.shape(expected["data"][prediction])[0])


def loss_verdict(ctx: CheckContext, case: GraphCase, expected: Result, reveal: bool, *, confirm: Confirm) -> Verdict:
    """The graph's verdict, naming a loss exactly B times the right one (batch_sum_not_mean), or a
    cross-entropy normalised over the batch axis or the whole array (softmax_wrong_axis)."""
    batch = loss_batch(case, expected)
    got = read_result(ctx.program("tensor_graph", case.spec), len(case.spec["nodes"]))
    verdict = judge_tensor_graph(ctx, case, expected, confirm=confirm, reveal=reveal, got=got)
    if verdict.passed or verdict.diagnosis:
        return verdict
    value, right = np.asarray(got["data"][-1], dtype=np.float64), np.asarray(expected["data"][-1])
    if value.size == 1 and batch > 1 and np.isclose(float(value.ravel()[0]), batch * float(right), rtol=1e-6):
        return with_mistake(f"{case.label}: the loss is {batch} times too large, the batch size.",
                            "batch_sum_not_mean", STEM)
    return verdict


# The engine probes for Tensor.

def probe_cases() -> list[GraphCase]:
    """A leaf x used twice where the order of the walk cannot matter: x op x, op(x) + x, summed."""
    return [GraphCase(label, spec, ("x",) + tuple(f"node {i}" for i in range(1, len(spec["nodes"]))))
            for label, spec in graph_specs.shared_use_probe_specs(tensor=True).items()]


def shared_cases() -> list[GraphCase]:
    """x * x; a leaf used by two operations; the topological probes (an interior node with two consumers)."""
    rng = fixed_rng("shared")
    x = rng.uniform(0.3, 1.5, (2, 3))
    return [single_op_case("x * x", [("x", x)], ["op", "mul", 0, 0], rng.normal(size=(2, 3))),
            GraphCase("sum(tanh(x) * exp(x))", {"nodes": [leaf(x), ["op", "tanh", 0], ["op", "exp", 0],
                                                          ["op", "mul", 1, 2], ["op", "sum", 3]],
                                                "backward": [[4, None]]},
                      ("x", "tanh x", "exp x", "tanh x * exp x", "sum")),
            *[topological_probe_case(mirrored) for mirrored in (False, True)]]


def topological_probe_case(mirrored: bool) -> GraphCase:
    """Three diamonds exp(3 tanh s_k) + s_k with s_k = w_k * x_k, and a * a, summed (see graph_specs)."""
    spec = graph_specs.tensor_topological_probe_spec(seed=4, mirrored=mirrored)
    names: list[str] = []
    for k in range(1, 4):
        names += [f"w{k}", f"x{k}", f"s{k} = w{k} * x{k}", f"tanh s{k}", f"3 tanh s{k}", f"exp(3 tanh s{k})",
                  f"exp(3 tanh s{k}) + s{k}"]
    names += ["a", "a * a"] + [f"partial sum {k}" for k in range(1, 4)] + ["sum"]
    return GraphCase(f"sum of three diamonds exp(3 tanh s) + s with s = w * x, and a * a"
                     f"{', mirrored' if mirrored else ''}", spec, tuple(names))


def engine_mistake(ctx: CheckContext) -> Optional[str]:
    """Run the engine probes on the student's Tensor: which of the two graph mistakes it makes.

    A leaf that kept one use's gradient may have been overwritten or passed on too early; the
    probes tell (`engine_probes.shared_use_mistake`): x op x and op(x) + x for
    gradient_overwritten, the topological probes of `shared_cases` (an interior node with a short
    and a long path to the output) for wrong_topological_order. Their right answers are the
    "probes" and "shared" fixtures.
    """
    rtol = ctx.settings.get("rtol", 1e-8)
    orders = [case for case in shared_cases() if ctx.fixture("shared")[case.label]["partial"]]

    def same(a: Any, b: Any) -> bool:
        return same_values(a, b, rtol)

    def order_failed(case: GraphCase, run: Result) -> bool:
        right = ctx.fixture("shared")[case.label]
        return bool(partial_path_mistake(run["grad"], right["grad"], right["partial"], requiring_leaves(case.spec),
                                         same))

    return probe_engine(ctx, "tensor_graph", probe_cases(), orders,
                        readable=lambda run, spec: isinstance(run, dict) and isinstance(run.get("grad"), list),
                        order_failed=order_failed, same=same)
