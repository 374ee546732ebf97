"""Evidence for autograd engines: what a graph's answers say about the engine that ran it.

Graphs are the specs of `grader.worker.inside.programs` (leaves and operations on earlier
nodes). The contribution of one use of a node (one edge of the graph) is the gradient of a
fresh leaf put in that use's place, so the right answers of a few rewired graphs tell:

- gradient_overwritten: a node used several times whose grad equals one use's contribution
  (`=` where `+=` belongs);
- wrong_topological_order: a node whose grad is right while what it passed on was only part
  of it (it ran before all its consumers had added theirs). Where only leaves are visible (the
  tensor engine), the same shows as leaf grads equal to those of the graph with some uses of an
  interior node detached;
- recursion_limit: a RecursionError on a deep chain (a recursive walk);
- broadcast_grad_not_reduced: a leaf grad with the shape of the broadcast result it fed;
- sign_flipped: every wrong grad minus the right one;
- a slip in one operation's local derivative (see `variants.local_derivative_variants`).

In an arbitrary graph the first two can look alike (a node run too early may pass nothing on
along one path, as if its grad had been overwritten). The checks believe either only when the
engine probes agree (`shared_use_mistake`): a leaf used twice where the walk's order cannot
matter (x op x, op(x) + x) for gradient_overwritten, and graphs built to show the order (an
interior node reached by a short and a long path) for wrong_topological_order.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Callable, Optional, Sequence

import numpy as np

from grader.diagnosis.variants import local_derivative_variants
from grader.errors import StudentCodeError

Spec = dict[str, Any]
Result = dict[str, list]
Same = Callable[[Any, Any], bool]


def close(a: float, b: float, rtol: float) -> bool:
    """Scalars equal within `rtol` (and 1e-12 absolute); a non-finite `a` is never close."""
    return math.isfinite(a) and abs(a - b) <= 1e-12 + rtol * abs(b)


def is_index(operand: Any) -> bool:
    return isinstance(operand, int) and not isinstance(operand, bool)


def operand_indices(node: list) -> list[int]:
    """The node operands of an op node (constants and keyword dicts left out)."""
    return [o for o in node[2:] if is_index(o)]


def consumer_edges(spec: Spec) -> dict[int, list[tuple[int, int]]]:
    """node -> [(consumer, operand slot)], one entry per use of the node."""
    edges: dict[int, list[tuple[int, int]]] = {}
    for consumer, node in enumerate(spec["nodes"]):
        if node[0] == "op":
            for slot, operand in enumerate(node[2:]):
                if is_index(operand):
                    edges.setdefault(operand, []).append((consumer, slot))
    return edges


def detach_uses(spec: Spec, uses: Sequence[tuple[int, int]], leaves: Sequence[list]) -> Spec:
    """The spec with each use (consumer, slot) replaced by the matching new leaf.

    The new leaves come first (nodes 0 .. k-1); every original node moves up by k. Holding the
    operand's value, a leaf changes no value: only where gradients flow.
    """
    shift = len(leaves)
    replaced = {use: k for k, use in enumerate(uses)}
    nodes: list[list] = [list(leaf) for leaf in leaves]
    for index, node in enumerate(spec["nodes"]):
        if node[0] != "op":
            nodes.append(list(node))
            continue
        operands = [(replaced[(index, slot)] if (index, slot) in replaced else o + shift) if is_index(o) else o
                    for slot, o in enumerate(node[2:])]
        nodes.append(["op", node[1], *operands])
    backward = [b + shift if is_index(b) else [b[0] + shift, *b[1:]] for b in spec["backward"]]
    return {**spec, "nodes": nodes, "backward": backward}


def split_edge(spec: Spec, consumer: int, slot: int, leaf: list) -> Spec:
    """The spec with one use of an operand replaced by `leaf` (a new node 0; the others shift by 1).

    With the leaf holding the operand's value nothing else changes, so the leaf's gradient is
    exactly that use's contribution dL/d(consumer) * d(consumer)/d(operand).
    """
    return detach_uses(spec, [(consumer, slot)], [leaf])


def edge_contributions(spec: Spec, data: list, run: Callable[[Spec], Result],
                       leaf: Callable[[Any], list] = lambda value: ["leaf", value],
                       nodes: Optional[Sequence[int]] = None) -> dict[str, list]:
    """For each node used more than once (of `nodes`, default all): the gradient each use contributes."""
    uses = consumer_edges(spec)
    chosen = uses if nodes is None else {n: uses.get(n, []) for n in nodes}
    return {str(node): [run(split_edge(spec, consumer, slot, leaf(data[node])))["grad"][0]
                        for consumer, slot in node_uses]
            for node, node_uses in chosen.items() if len(node_uses) > 1}


def partial_sums(values: list[float]) -> list[float]:
    """Sums of every non-empty proper subset: what a node holds before all its consumers are done."""
    return [sum(c) for k in range(1, len(values)) for c in itertools.combinations(values, k)]


def graph_mistake(got: list[float], expected: list[float], edges: dict[str, list], spec: Spec,
                  rtol: float) -> Optional[str]:
    """gradient_overwritten or wrong_topological_order when a shared node shows their signature.

    For engines whose every node's grad is visible (the scalar Value). A shared node counts as
    evidence only when all its consumers' grads are right, so that the contributions of its uses
    (computed on the right graph) are what the engine really sent it. Then: holding one use's
    contribution, it lost the others; right itself while an input used by it alone got a partial
    sum's share, it ran before all its consumers were done.
    """
    uses = consumer_edges(spec)
    for key, contributions in edges.items():
        node = int(key)
        if not all(close(got[consumer], expected[consumer], rtol) for consumer, _ in uses.get(node, [])):
            continue
        want = expected[node]
        if not close(got[node], want, rtol):
            if any(close(got[node], c, rtol) and not close(c, want, rtol) for c in contributions):
                return "gradient_overwritten"
            continue
        fractions = [p / want for p in partial_sums(contributions) if want != 0.0]
        parents = set(operand_indices(spec["nodes"][node])) if spec["nodes"][node][0] == "op" else set()
        for parent in parents:
            only_here = all(consumer == node for consumer, _ in uses.get(parent, []))
            if only_here and expected[parent] != 0.0 and not close(got[parent], expected[parent], rtol):
                ratio = got[parent] / expected[parent]
                if any(close(ratio, f, rtol) for f in fractions):
                    return "wrong_topological_order"
    return None


def partial_path_variants(spec: Spec, node: int, data: Any, run: Callable[[Spec], Result],
                          detached: Callable[[Any], list]) -> list[list]:
    """Leaf grads when only some uses of interior `node` send it their gradient.

    For every non-empty proper subset of the node's uses, the other uses are detached (replaced
    by a leaf holding the node's value that needs no grad). An engine that runs the node's
    backward before all its consumers are done passes on such a partial gradient. Each answer
    is the list of grads of the original nodes.
    """
    uses = consumer_edges(spec).get(node, [])
    answers = []
    for k in range(1, len(uses)):
        for kept in itertools.combinations(uses, k):
            cut = [use for use in uses if use not in kept]
            answer = run(detach_uses(spec, cut, [detached(data) for _ in cut]))
            answers.append(answer["grad"][len(cut):])
    return answers


def partial_path_mistake(got: Sequence[Any], expected: Sequence[Any], variants: Sequence[Sequence[Any]],
                         leaves: Sequence[int], same: Same) -> Optional[str]:
    """wrong_topological_order when every wrong leaf grad equals that leaf's grad in a partial-path variant.

    Each leaf is matched on its own: in a probe of independent diamonds, each diamond's interior
    node may have run early or not, and a leaf sees only its own diamond.
    """
    wrong = [i for i in leaves if not same(got[i], expected[i])]
    if not wrong:
        return None
    for i in wrong:
        if not any(same(got[i], variant[i]) and not same(variant[i], expected[i]) for variant in variants):
            return None
    return "wrong_topological_order"


def one_use_kept(got: Any, expected: Any, contributions: Sequence[Any], same: Same) -> bool:
    """True when a wrong grad equals exactly one use's contribution (and that one is not the total)."""
    return got is not None and not same(got, expected) and any(
        same(got, c) and not same(c, expected) for c in contributions)


def shared_use_mistake(overwrite_probes: Sequence[tuple[Any, Any, Sequence[Any]]], order_probe_failed: bool,
                       same: Same) -> Optional[str]:
    """The graph mistake the engine probes show.

    `overwrite_probes`: (got, right, contributions) of a leaf used twice where the walk's order
    cannot matter (x op x, op(x) + x); one of them keeping a single contribution is
    gradient_overwritten. Otherwise `order_probe_failed` (a probe with an interior node of two
    consumers showed a node run before all of them were done) is wrong_topological_order.
    """
    if any(one_use_kept(got, right, contributions, same) for got, right, contributions in overwrite_probes):
        return "gradient_overwritten"
    return "wrong_topological_order" if order_probe_failed else None


def recursion_failure(error: StudentCodeError) -> bool:
    """True when the student's code failed with Python's recursion limit."""
    text = f"{error.message}\n{error.traceback}"
    return error.status == "error" and ("RecursionError" in text or "maximum recursion depth" in text)


def broadcast_evidence(spec: Spec, node: int, got: np.ndarray, expected: np.ndarray, result_shapes: list) -> bool:
    """True when the leaf's grad has the shape of an op result it was stretched into, and summing it
    back over the stretched axes would give the right total."""
    consumers = {c for c, _ in consumer_edges(spec).get(node, [])}
    stretched = any(tuple(result_shapes[c]) == got.shape for c in consumers)
    return stretched and got.shape != expected.shape and bool(np.isclose(got.sum(), expected.sum(), rtol=1e-6))


def single_unary_op(spec: Spec) -> Optional[tuple[str, int, Any]]:
    """(op, operand, upstream) for a spec that is one unary operation on a leaf, else None.

    upstream is the gradient given to backward (1.0 for a scalar output or a Value graph).
    """
    nodes = spec["nodes"]
    if len(nodes) != 2 or nodes[0][0] != "leaf" or nodes[1][0] != "op" or operand_indices(nodes[1]) != [0]:
        return None
    if len(nodes[1]) != 3:
        return None
    call = spec["backward"][0]
    upstream = call[1] if isinstance(call, (list, tuple)) and call[1] is not None else 1.0
    return nodes[1][1], 0, upstream


def local_derivative_mistake(spec: Spec, got_grad: Any, expected_grad: Any, same: Same) -> Optional[str]:
    """For one unary operation on a leaf: the slip in its local derivative the leaf's grad shows."""
    single = single_unary_op(spec)
    if single is None:
        return None
    op, leaf, upstream = single
    x = spec["nodes"][leaf][1]
    for code, local in local_derivative_variants(op, x):
        variant = np.asarray(upstream, dtype=np.float64) * local
        if same(got_grad, variant) and not same(variant, expected_grad):
            return code
    return None


def sign_mistake(got: Sequence[Any], expected: Sequence[Any], nodes: Sequence[int], same: Same) -> Optional[str]:
    """sign_flipped when some of `nodes` have wrong grads and every wrong one is minus the right one."""
    wrong = [i for i in nodes if not same(got[i], expected[i])]
    if wrong and all(got[i] is not None and same(-np.asarray(got[i], dtype=np.float64), expected[i]) for i in wrong):
        return "sign_flipped"
    return None
