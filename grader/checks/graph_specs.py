"""Graphs the autograd checks run, as specs for `grader.worker.inside.programs`.

Each builder is a pure function returning a spec; the check runs it on the student's engine
(in the sandbox) and on the reference engine, and compares the plain answers. Each graph is
chosen so that one known mistake changes the answer:

- a variable feeding two consumers (`diamond_spec`, `reused_variable_spec`, `shared_node_spec`):
  gradient_overwritten, `=` instead of `+=` keeps only one path;
- a node reached by paths of different lengths (`shared_node_spec`, `micrograd_example_spec`):
  wrong_topological_order, a node's backward running before all its consumers are done;
- thousands of operations in a row (`chain_spec`, `tensor_chain_spec`): recursion_limit;
- stretched operands (`tensor_broadcast_spec`): broadcast_grad_not_reduced.
"""
from __future__ import annotations

from typing import Any

import numpy as np

Spec = dict[str, Any]


def _const(value: Any) -> dict[str, Any]:
    return {"const": value}


def _check_depth(depth: int) -> None:
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth is the number of operations, a positive int; got {depth!r}")


def node_count(spec: Spec) -> int:
    """How many nodes the spec builds: a "chain" entry stands for len(pick) of them."""
    return sum(len(node[2]) if node[0] == "chain" else 1 for node in spec["nodes"])


def report_ends(spec: Spec) -> Spec:
    """The spec, answering for its first and last nodes only: a deep chain's check reads the last
    value and the first grad, and the answers for thousands of nodes in between cost more to
    send than to compute."""
    return {**spec, "report": [0, node_count(spec) - 1]}


def chain_entry(templates: list[list[str]], pick: Any, const: Any) -> list:
    """A "chain" node entry: step k applies templates[pick[k]] to the node before it, c = const[k]
    (see grader/worker/inside/programs.py). Two arrays instead of thousands of small lists."""
    return ["chain", templates, np.asarray(pick, dtype=np.int64), np.asarray(const, dtype=np.float64)]


def _alternating_chain(depth: int) -> list:
    """`depth` ops after the node before: + 0.5, then * -1, and again. Values cycle with period 4,
    so they stay bounded at any depth, and d(last)/d(first) is +-1 exactly."""
    pick = np.arange(depth) % 2
    return chain_entry([["add", "x", "c"], ["mul", "x", "c"]], pick, np.where(pick == 0, 0.5, -1.0))


# Value graphs (exercise 4)

def chain_spec(depth: int = 5_000) -> Spec:
    """x = 0.25, then `depth` operations in a row; backward from the last.

    The contract asks for 5,000 operations; a recursive graph walk fails at about 1,000.
    """
    _check_depth(depth)
    return {"nodes": [["leaf", 0.25], _alternating_chain(depth)], "backward": [depth]}


def diamond_spec() -> Spec:
    """x -> tanh(x) and exp(x) -> their product: dL/dx = (1 - tanh^2 x) e^x + tanh(x) e^x."""
    return {"nodes": [["leaf", 0.5],
                      ["op", "tanh", 0],
                      ["op", "exp", 0],
                      ["op", "mul", 1, 2]],
            "backward": [3]}


def reused_variable_spec() -> Spec:
    """x = 3 used twice in each op: L = x*x + (x+x), so dL/dx = 2x + 2 = 8."""
    return {"nodes": [["leaf", 3.0],
                      ["op", "mul", 0, 0],
                      ["op", "add", 0, 0],
                      ["op", "add", 1, 2]],
            "backward": [3]}


def shared_node_spec() -> Spec:
    """s = w x feeds L twice: directly, and through tanh, * 3, exp (L = exp(3 tanh s) + s).

    The direct path is the short one, so a walk that visits s when the first consumer is done
    (breadth-first, say) runs s's backward before the long path has arrived.
    """
    return {"nodes": [["leaf", -0.8],                    # 0 w
                      ["leaf", 1.5],                     # 1 x
                      ["op", "mul", 0, 1],               # 2 s = w x
                      ["op", "tanh", 2],                 # 3
                      ["op", "mul", 3, _const(3.0)],     # 4
                      ["op", "exp", 4],                  # 5
                      ["op", "add", 5, 2]],              # 6 L
            "backward": [6]}


def micrograd_example_spec() -> Spec:
    """The expression in micrograd's README; there g = 24.7041, dg/da = 138.8338, dg/db = 645.5773.

        a = -4; b = 2; c = a + b; d = a * b + b**3
        c += c + 1; c += 1 + c + (-a); d += d * 2 + (b + a).relu(); d += 3 * d + (b - a).relu()
        e = c - d; f = e**2; g = f / 2.0; g += 10.0 / f
    """
    return {"nodes": [["leaf", -4.0],                    # 0 a
                      ["leaf", 2.0],                     # 1 b
                      ["op", "add", 0, 1],               # 2 c = a + b
                      ["op", "mul", 0, 1],               # 3
                      ["op", "pow", 1, _const(3)],       # 4
                      ["op", "add", 3, 4],               # 5 d = a * b + b**3
                      ["op", "add", 2, _const(1)],       # 6
                      ["op", "add", 2, 6],               # 7 c += c + 1
                      ["op", "add", _const(1), 7],       # 8 1 + c (reflected)
                      ["op", "neg", 0],                  # 9
                      ["op", "add", 8, 9],               # 10
                      ["op", "add", 7, 10],              # 11 c += 1 + c + (-a)
                      ["op", "mul", 5, _const(2)],       # 12
                      ["op", "add", 1, 0],               # 13
                      ["op", "relu", 13],                # 14
                      ["op", "add", 12, 14],             # 15
                      ["op", "add", 5, 15],              # 16 d += d * 2 + (b + a).relu()
                      ["op", "mul", _const(3), 16],      # 17 3 * d (reflected)
                      ["op", "sub", 1, 0],               # 18
                      ["op", "relu", 18],                # 19
                      ["op", "add", 17, 19],             # 20
                      ["op", "add", 16, 20],             # 21 d += 3 * d + (b - a).relu()
                      ["op", "sub", 11, 21],             # 22 e = c - d
                      ["op", "pow", 22, _const(2)],      # 23 f = e**2
                      ["op", "truediv", 23, _const(2.0)],  # 24 g = f / 2.0
                      ["op", "truediv", _const(10.0), 23],  # 25 10.0 / f (reflected)
                      ["op", "add", 24, 25]],            # 26 g += 10.0 / f
            "backward": [26]}


# Tensor graphs (exercise 5)

def tensor_chain_spec(depth: int = 5_000) -> Spec:
    """A (2, 2) leaf, then `depth` elementwise operations in a row, then sum; backward from it."""
    _check_depth(depth)
    start = np.array([[0.25, -0.5], [1.0, 2.0]])
    return {"nodes": [["leaf", start, True], _alternating_chain(depth), ["op", "sum", depth]],
            "backward": [[depth + 1, None]]}


def tensor_broadcast_spec(seed: int = 0, batch: int = 3, classes: int = 4) -> Spec:
    """Every broadcast the contract names, each operand a leaf that requires grad.

    M (B, C) + row (1, C), then 2.0 + that (a number), times k (a 0-d tensor), plus
    col (B, 1) * row (1, C), minus v (C,); L = sum(tanh(.)). Right gradients have the
    operands' shapes: (B, C), (1, C), (), (B, 1), (C,).
    """
    rng = np.random.default_rng(seed)
    return {"nodes": [["leaf", rng.normal(size=(batch, classes)), True],   # 0 M
                      ["leaf", rng.normal(size=(1, classes)), True],       # 1 row
                      ["leaf", np.array(rng.normal()), True],              # 2 k, 0-d
                      ["leaf", rng.normal(size=(batch, 1)), True],         # 3 col
                      ["leaf", rng.normal(size=(classes,)), True],         # 4 v
                      ["op", "add", 0, 1],                                 # 5 M + row
                      ["op", "add", _const(2.0), 5],                       # 6 2.0 + .
                      ["op", "mul", 6, 2],                                 # 7 . * k
                      ["op", "mul", 3, 1],                                 # 8 col * row
                      ["op", "add", 7, 8],                                 # 9
                      ["op", "sub", 9, 4],                                 # 10 . - v
                      ["op", "tanh", 10],                                  # 11
                      ["op", "sum", 11]],                                  # 12 L
            "backward": [[12, None]]}


def tensor_mlp_spec(seed: int = 0, loss: str = "cross_entropy", batch: int = 5,
                    sizes: tuple[int, int, int] = (3, 4, 3)) -> Spec:
    """A two-layer MLP, tanh hidden, and a loss: Z1 = X W1 + b1, A1 = tanh Z1, Z2 = A1 W2 + b2.

    loss "cross_entropy" uses one-hot targets, "mse" real ones; X needs no gradient, the
    weights and biases do (W1 is node 1, b1 node 2, W2 node 3, b2 node 4).
    """
    if loss not in ("cross_entropy", "mse"):
        raise ValueError(f"loss is 'cross_entropy' or 'mse', got {loss!r}")
    d_in, hidden, out = sizes
    rng = np.random.default_rng(seed)
    if loss == "cross_entropy":
        target = np.eye(out)[rng.integers(0, out, size=batch)]
    else:
        target = rng.normal(size=(batch, out))
    return {"nodes": [["leaf", rng.normal(size=(batch, d_in)), False],       # 0 X
                      ["leaf", rng.normal(size=(d_in, hidden)) / np.sqrt(d_in), True],  # 1 W1
                      ["leaf", rng.normal(size=(hidden,)) * 0.1, True],     # 2 b1
                      ["leaf", rng.normal(size=(hidden, out)) / np.sqrt(hidden), True],  # 3 W2
                      ["leaf", rng.normal(size=(out,)) * 0.1, True],        # 4 b2
                      ["op", "matmul", 0, 1],                               # 5
                      ["op", "add", 5, 2],                                  # 6 Z1
                      ["op", "tanh", 6],                                    # 7 A1
                      ["op", "matmul", 7, 3],                               # 8
                      ["op", "add", 8, 4],                                  # 9 Z2
                      ["op", "cross_entropy" if loss == "cross_entropy" else "mse_loss",
                       9, _const(target)]],                                 # 10 loss
            "backward": [[10, None]]}


def tensor_large_logits_spec() -> Spec:
    """cross_entropy of logits near +-1000: finite only with the max subtracted (softmax_unstable)."""
    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 999.0, 1000.0]])
    target = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    return {"nodes": [["leaf", logits, True], ["op", "cross_entropy", 0, _const(target)]],
            "backward": [[1, None]]}


def tensor_accumulation_spec() -> Spec:
    """L = sum(W * W), backward twice: W.grad accumulates to 2 * 2W = 4W, as in PyTorch."""
    weights = np.array([[1.0, -2.0], [0.5, 3.0]])
    return {"nodes": [["leaf", weights, True], ["op", "mul", 0, 0], ["op", "sum", 1]],
            "backward": [[2, None], [2, None]]}


def tensor_explicit_grad_spec(seed: int = 0, shape: tuple[int, int] = (3, 2)) -> Spec:
    """A non-scalar output y = 2 sigmoid(x), backward with a given gradient G: x.grad = G * 2 s (1 - s)."""
    rng = np.random.default_rng(seed)
    return {"nodes": [["leaf", rng.normal(size=shape), True],
                      ["op", "sigmoid", 0],
                      ["op", "mul", 1, _const(2.0)]],
            "backward": [[2, rng.normal(size=shape)]]}


def tensor_topological_probe_spec(seed: int = 0, mirrored: bool = False, shape: tuple[int, int] = (2, 3),
                                  copies: int = 3) -> Spec:
    """`copies` diamonds s_k = w_k * x_k -> exp(3 tanh s_k) + s_k, and a leaf a used twice (a * a), summed.

    Only leaves' grads are visible in a tensor engine: w_k and x_k show what s_k passed on (all
    of its gradient, or a part when s_k ran before both consumers were done), and a shows
    whether a tensor used twice sums its gradients (wrong_topological_order against
    gradient_overwritten). Several diamonds make an order that depends on a set's iteration
    wrong in one of them almost surely; the sums' operands alternate, and swap when `mirrored`.
    Leaves: w_k is node 7k, x_k node 7k + 1; a comes after the diamonds.
    """
    _check_depth(copies)
    rng = np.random.default_rng(seed)
    nodes: list[list] = []
    outputs = []
    for k in range(copies):
        w = len(nodes)
        nodes += [["leaf", rng.uniform(-1.0, 1.0, size=shape), True], ["leaf", rng.uniform(0.5, 1.5, size=shape), True],
                  ["op", "mul", w, w + 1], ["op", "tanh", w + 2], ["op", "mul", w + 3, _const(3.0)],
                  ["op", "exp", w + 4]]
        short, long_ = w + 2, w + 5
        first_long = (k % 2 == 0) != mirrored
        nodes.append(["op", "add", *((long_, short) if first_long else (short, long_))])
        outputs.append(len(nodes) - 1)
    a = len(nodes)
    nodes += [["leaf", rng.uniform(-1.0, 1.0, size=shape), True], ["op", "mul", a, a]]
    total = a + 1
    for out in outputs:
        nodes.append(["op", "add", out, total])
        total = len(nodes) - 1
    nodes.append(["op", "sum", total])
    return {"nodes": nodes, "backward": [[len(nodes) - 1, None]]}


SHARED_USE_BINARY = ("add", "sub", "mul", "truediv")
SHARED_USE_UNARY = ("neg", "exp", "log", "sigmoid", "tanh", "relu")


def shared_use_probe_specs(tensor: bool = False) -> dict[str, Spec]:
    """A leaf x (node 0) used twice: by one operation (x op x), or by an operation and the sum after it.

    x op x sends x both contributions in one backward call, and op(x) + x sends them from the
    sum and from op: in neither can the order of the walk matter, so an engine that gets x.grad
    wrong here, keeping one contribution, assigns where it must add (gradient_overwritten), in
    that operation. x is positive (log) and away from 0 (relu's kink). With `tensor`, x is a
    (2, 3) array that requires grad and a final sum makes the output a single number.
    """
    x: Any = np.array([[0.6, 1.3, 0.9], [1.7, 0.4, 1.1]]) if tensor else 0.8
    leaf = ["leaf", x, True] if tensor else ["leaf", x]
    graphs: dict[str, list[list]] = {}
    for name in SHARED_USE_BINARY:
        graphs[f"x {name} x"] = [leaf, ["op", name, 0, 0]]
    for name in SHARED_USE_UNARY:
        graphs[f"{name}(x) + x"] = [leaf, ["op", name, 0], ["op", "add", 1, 0]]
    graphs["x ** 2 + x"] = [leaf, ["op", "pow", 0, _const(2)], ["op", "add", 1, 0]]
    specs = {}
    for label, nodes in graphs.items():
        if tensor:
            nodes = [*nodes, ["op", "sum", len(nodes) - 1]]
            specs[label] = {"nodes": nodes, "backward": [[len(nodes) - 1, None]]}
        else:
            specs[label] = {"nodes": nodes, "backward": [len(nodes) - 1]}
    return specs


def topological_probe_spec(copies: int = 4, mirrored: bool = False) -> Spec:
    """`copies` independent diamonds, summed: s_k = w_k x_k reaches the output by a short path and a
    long one (tanh, * 3, exp), as in `shared_node_spec`.

    An engine whose walk depends on the order of a set (micrograd's `_prev`) gets each diamond
    right or wrong by chance; with several, one is wrong almost surely. The operands of each
    diamond's sum alternate, starting with the long path, or the short one when `mirrored`.
    """
    _check_depth(copies)
    nodes: list[list] = []
    outputs = []
    for k in range(copies):
        w, x = len(nodes), len(nodes) + 1
        nodes += [["leaf", round(-0.8 + 0.3 * k, 3)], ["leaf", round(1.5 - 0.2 * k, 3)],
                  ["op", "mul", w, x], ["op", "tanh", w + 2], ["op", "mul", w + 3, _const(3.0)], ["op", "exp", w + 4]]
        short, long_ = w + 2, w + 5
        first_long = (k % 2 == 0) != mirrored
        nodes.append(["op", "add", *((long_, short) if first_long else (short, long_))])
        outputs.append(len(nodes) - 1)
    total = outputs[0]
    for out in outputs[1:]:
        nodes.append(["op", "add", total, out])
        total = len(nodes) - 1
    return {"nodes": nodes, "backward": [total]}
