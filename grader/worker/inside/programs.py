"""Graph programs: build an autograd graph from a spec with a given engine, return plain data.

The same interpreter runs the student's engine inside the sandbox and the reference engine in
the grader's process, so the two answers can be compared number for number. It imports nothing
from the grader or the reference (it is copied into the sandbox); the student's objects never
leave it: every answer is a Python float, bool, str, None or a fresh float64 ndarray.

Value graphs (exercise 4), `run_value_graph(Value or namespace, spec)`:

    {"nodes": [node, ...], "backward": [i, ...], "zero_grad_between": false, "report": [i, ...]}
    node    = ["leaf", number] | ["op", name, a] | ["op", name, a, b] | chain
    operand = index of an earlier node | {"const": number}
    chain   = ["chain", templates, pick, const]: len(pick) nodes in a row, step k applying
              templates[pick[k]] ([name, "x"], [name, "x", "c"] or [name, "c", "x"]) to the node
              before it, c = const[k]; pick and const are arrays, so a chain of thousands of
              operations travels as two buffers
    names   = add sub mul truediv pow (b a const) | neg exp log sigmoid tanh relu (one operand)

Tensor graphs (exercise 5), `run_tensor_graph(namespace, spec)`:

    {"nodes": [node, ...], "backward": [[i, grad or None], ...], "report": [i, ...]}
    node    = ["leaf", array, requires_grad] | ["op", name, a, b?, {kwargs}?] | chain (as above)
    operand = index of an earlier node | {"const": number or array}
    names   = add sub mul truediv pow matmul mse_loss cross_entropy (two operands)
              | neg exp log sigmoid tanh relu sum mean (one; sum/mean take axis, keepdims)

A binary operator with a constant on the left runs as the reflected Python expression
(`2 * v`, `1 - v`, `arr @ t`); an ndarray on the left reaches the student's reflected method
only if their class sets `__array_ufunc__ = None`. Constants given to `mse_loss` and
`cross_entropy` are wrapped as `Tensor(const)`, as PyTorch's functions take tensors. A gradient
given to `backward` is passed as a float64 ndarray.

The optional "report" lists the nodes whose answers come back, in that order (default: every
node); a chain of thousands of operations only needs its two ends read.

Nodes are built in order, then `.backward()` runs on each listed node in order; with
"zero_grad_between" every Value's grad is reset to 0 before each call. Without it, interior
grads carry over between calls as in micrograd. Which Tensor nodes keep a `.grad` is the
engine's choice: only leaves with requires_grad are comparable across engines.
"""
from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any, Callable, NamedTuple, Optional, Union

import numpy as np

PROGRAM_KINDS: tuple[str, ...] = ("value_graph", "tensor_graph")

VALUE_UNARY = frozenset({"neg", "exp", "log", "sigmoid", "tanh", "relu"})
VALUE_BINARY = frozenset({"add", "sub", "mul", "truediv", "pow"})
TENSOR_FUNCTIONS = frozenset({"mse_loss", "cross_entropy"})  # module functions, not methods
TENSOR_UNARY = VALUE_UNARY | {"sum", "mean"}
TENSOR_BINARY = VALUE_BINARY | {"matmul"} | TENSOR_FUNCTIONS
REDUCTION_KWARGS = frozenset({"axis", "keepdims"})

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "truediv": operator.truediv, "pow": operator.pow, "matmul": operator.matmul,
}


class SpecError(ValueError):
    """The spec itself is malformed: a mistake in the grader's spec, not in the student's code."""


class Operand(NamedTuple):
    """An earlier node (`index`) or a constant (`const`); exactly one is used."""

    index: Optional[int] = None
    const: Any = None

    @property
    def is_node(self) -> bool:
        return self.index is not None


# Named tuples rather than dataclasses: a deep chain builds thousands of them per program.
class OpNode(NamedTuple):
    name: str
    operands: tuple[Operand, ...]
    kwargs: dict[str, Any]


class LeafNode(NamedTuple):
    data: Any  # a float for Value graphs, a float64 ndarray for Tensor graphs
    requires_grad: bool = False


def run_program(kind: str, namespace: Any, spec: Any) -> dict[str, list]:
    """Run the program `kind` ("value_graph" or "tensor_graph") on the engine in `namespace`.

    `namespace` is the submission module (or its dict): value graphs use its `Value`, tensor
    graphs its `Tensor`, `mse_loss` and `cross_entropy`.
    """
    if kind == "value_graph":
        return run_value_graph(namespace, spec)
    if kind == "tensor_graph":
        return run_tensor_graph(namespace, spec)
    raise SpecError(f"unknown program kind {kind!r}; expected one of {PROGRAM_KINDS}")


def run_value_graph(engine: Any, spec: Any) -> dict[str, list[float]]:
    """Build the spec's graph of Value nodes, call backward, return data and grads.

    `engine` is the Value class itself, or a namespace (module or dict) that defines `Value`.
    Returns {"data": [float per node], "grad": [float per node]}, read after every backward call
    (per reported node, when the spec has "report").
    """
    value_class = engine if isinstance(engine, type) else _lookup(engine, "Value")
    nodes_spec = _parse_nodes(spec, allowed={"nodes", "backward", "zero_grad_between", "report"},
                              parse_leaf=_parse_value_leaf, unary=VALUE_UNARY, binary=VALUE_BINARY,
                              parse_const=_parse_number_const)
    order = [_parse_index(i, len(nodes_spec), "backward")
             for i in _sequence(spec["backward"], "backward")]
    report = _parse_report(spec, len(nodes_spec))
    zero_between = spec.get("zero_grad_between", False)
    if not isinstance(zero_between, bool):
        raise SpecError(f"zero_grad_between must be true or false, got {zero_between!r}")

    nodes: list[Any] = []
    for i, node in enumerate(nodes_spec):
        if isinstance(node, LeafNode):
            built = value_class(node.data)
        else:
            built = _apply(node, nodes)
        _expect_instance(built, value_class, i, node)
        nodes.append(built)

    for i in order:
        if zero_between:
            for n in nodes:
                n.grad = 0.0
        nodes[i].backward()
    return {"data": [_plain_float(nodes[i].data, f"node {i} .data") for i in report],
            "grad": [_plain_float(nodes[i].grad, f"node {i} .grad") for i in report]}


def run_tensor_graph(namespace: Any, spec: Any) -> dict[str, list]:
    """Build the spec's graph with the namespace's `Tensor` (and loss functions), call backward.

    Returns {"data": [array], "grad": [array or None], "requires_grad": [bool or None],
    "is_leaf": [bool or None], "grad_fn": [str or None]}, one entry per node; None for an
    attribute the student's tensor lacks (`grad_fn` None also for leaves). The grad_fn name is
    its `.name` (called if it is a method, as in PyTorch), else its class name. With "report" in
    the spec, one entry per reported node.
    """
    nodes_spec = _parse_nodes(spec, allowed={"nodes", "backward", "report"}, parse_leaf=_parse_tensor_leaf,
                              unary=TENSOR_UNARY, binary=TENSOR_BINARY, parse_const=_parse_array_const)
    calls = [_parse_backward_call(call, len(nodes_spec))
             for call in _sequence(spec["backward"], "backward")]
    report = _parse_report(spec, len(nodes_spec))
    tensor_class = _lookup(namespace, "Tensor")
    functions = {name: _lookup(namespace, name) for name in TENSOR_FUNCTIONS
                 if any(isinstance(n, OpNode) and n.name == name for n in nodes_spec)}

    nodes: list[Any] = []
    for i, node in enumerate(nodes_spec):
        if isinstance(node, LeafNode):
            built = tensor_class(node.data, requires_grad=node.requires_grad)
        elif node.name in functions:
            a, b = (nodes[o.index] if o.is_node else tensor_class(o.const) for o in node.operands)
            built = functions[node.name](a, b)
        else:
            built = _apply(node, nodes)
        _expect_instance(built, tensor_class, i, node)
        nodes.append(built)

    for i, grad in calls:
        if grad is None:
            nodes[i].backward()
        else:
            nodes[i].backward(grad)
    reported = [(i, nodes[i]) for i in report]
    return {
        "data": [_plain_array(t.data, tensor_class, f"node {i} .data") for i, t in reported],
        "grad": [_plain_array(t.grad, tensor_class, f"node {i} .grad", optional=True) for i, t in reported],
        "requires_grad": [_optional_bool(t, "requires_grad") for _, t in reported],
        "is_leaf": [_optional_bool(t, "is_leaf") for _, t in reported],
        "grad_fn": [_grad_fn_name(getattr(t, "grad_fn", None)) for _, t in reported],
    }


# Building: one node from already-built ones.

def _apply(node: OpNode, built: list[Any]) -> Any:
    """Run an operator or method node; constants are passed as they are, so `2 * v` is `__rmul__`."""
    values = [o.const if o.index is None else built[o.index] for o in node.operands]
    if len(values) == 2:
        return _OPERATORS[node.name](values[0], values[1])
    if node.name == "neg":
        return -values[0]
    return getattr(values[0], node.name)(**node.kwargs)


def _expect_instance(built: Any, cls: type, i: int, node: Union[LeafNode, OpNode]) -> None:
    if not isinstance(built, cls):
        what = "the constructor" if isinstance(node, LeafNode) else f"op {node.name!r}"
        raise TypeError(f"node {i}: {what} returned {type(built).__name__}, expected a {cls.__name__}")


# Reading answers back as plain data.

def _lookup(namespace: Any, name: str) -> Any:
    found = namespace.get(name) if isinstance(namespace, Mapping) else getattr(namespace, name, None)
    if found is None:
        raise NameError(f"name {name!r} is not defined in the submission")
    return found


def _plain_float(x: Any, where: str) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        raise TypeError(f"{where} is a {type(x).__name__}, expected a number") from None


def _plain_array(x: Any, tensor_class: type, where: str, optional: bool = False) -> Optional[np.ndarray]:
    if x is None and optional:
        return None
    if isinstance(x, tensor_class):  # a PyTorch habit: .grad held as a Tensor
        x = x.data
    try:
        return np.array(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{where} is a {type(x).__name__}, expected an array of numbers") from None


def _optional_bool(t: Any, name: str) -> Optional[bool]:
    try:
        return bool(getattr(t, name))
    except AttributeError:
        return None


def _grad_fn_name(fn: Any) -> Optional[str]:
    if fn is None:
        return None
    name = getattr(fn, "name", None)
    if callable(name):
        name = name()
    return type(fn).__name__ if name is None else str(name)


# Parsing: every check happens before any engine code runs.

def _parse_nodes(spec: Any, *, allowed: set[str], parse_leaf: Callable[[Sequence, int], LeafNode],
                 unary: frozenset, binary: frozenset, parse_const: Callable[[Any, str], Any]) -> list:
    if not isinstance(spec, Mapping):
        raise SpecError(f"a spec is a dict with keys {sorted(allowed)}, got {type(spec).__name__}")
    unknown = set(spec) - allowed
    missing = {"nodes", "backward"} - set(spec)
    if unknown or missing:
        raise SpecError(f"spec keys: unknown {sorted(unknown)}, missing {sorted(missing)}")
    nodes: list = []
    for entry in _sequence(spec["nodes"], "nodes"):
        i = len(nodes)  # the node's index: a chain entry stands for many nodes
        node = _sequence(entry, f"node {i}")
        if node and node[0] == "leaf":
            nodes.append(parse_leaf(node, i))
        elif node and node[0] == "op":
            nodes.append(_parse_op(node, i, unary, binary, parse_const))
        elif node and node[0] == "chain" and nodes:
            nodes.extend(_parse_chain(node, i, unary, binary))
        else:
            raise SpecError(f"node {i} must start with 'leaf', 'op' or (after a node) 'chain', got {node!r:.200}")
    if not nodes:
        raise SpecError("a spec needs at least one node")
    return nodes


def _parse_op(node: Sequence, i: int, unary: frozenset, binary: frozenset,
              parse_const: Callable[[Any, str], Any]) -> OpNode:
    name, rest = (node[1] if len(node) > 1 else None), list(node[2:])
    kwargs: dict[str, Any] = {}
    if rest and _is_mapping(rest[-1]) and "const" not in rest[-1]:
        kwargs = _parse_kwargs(rest.pop(), name, i)
    if name in unary:
        arity = 1
    elif name in binary:
        arity = 2
    else:
        raise SpecError(f"node {i}: unknown op {name!r}; known: {sorted(unary | binary)}")
    if len(rest) != arity:
        raise SpecError(f"node {i}: op {name!r} takes {arity} operand(s), got {len(rest)}")
    operands = tuple([Operand(o) if type(o) is int and 0 <= o < i else _parse_operand(o, i, parse_const)
                      for o in rest])
    if operands[0].index is None and operands[-1].index is None:
        raise SpecError(f"node {i}: op {name!r} needs at least one node operand")
    if name == "pow" and (not operands[0].is_node or not _is_number(operands[1].const)):
        raise SpecError(f"node {i}: pow is node ** number")
    return OpNode(name, operands, kwargs)


def _parse_operand(operand: Any, i: int, parse_const: Callable[[Any, str], Any]) -> Operand:
    if type(operand) is int and 0 <= operand < i:  # the common case, kept cheap for deep chains
        return Operand(index=operand)
    if _is_mapping(operand):
        if set(operand) != {"const"}:
            raise SpecError(f"node {i}: a constant operand is {{'const': value}}, got {operand!r}")
        return Operand(const=parse_const(operand["const"], f"node {i}"))
    return Operand(index=_parse_index(operand, i, f"node {i}"))


def _parse_chain(node: Sequence, i: int, unary: frozenset, binary: frozenset) -> list[OpNode]:
    """["chain", templates, pick, const]: step k applies templates[pick[k]] to the node before it,
    with the number const[k] as c. A template is [name, "x"], [name, "x", "c"] or [name, "c", "x"]."""
    if len(node) != 4:
        raise SpecError(f"node {i}: a chain is ['chain', templates, pick, const], got {len(node)} items")
    templates = []
    for template in _sequence(node[1], f"node {i}: chain templates"):
        template = tuple(_sequence(template, f"node {i}: a chain template"))
        name, order = (template[0], template[1:]) if template else (None, ())
        if not ((name in unary and order == ("x",)) or (name in binary and order in (("x", "c"), ("c", "x")))) \
                or (name == "pow" and order != ("x", "c")):
            raise SpecError(f"node {i}: chain template {list(template)!r} is not [unary op, 'x'] or "
                            "[binary op, 'x', 'c'] / [binary op, 'c', 'x'] (pow: 'x', 'c')")
        templates.append((name, order))
    pick, const = np.asarray(node[2]), np.asarray(node[3])
    if pick.ndim != 1 or const.shape != pick.shape or pick.dtype.kind not in "iu" or const.dtype.kind not in "iuf":
        raise SpecError(f"node {i}: a chain's pick (ints) and const (numbers) are 1-D arrays of one length")
    if pick.size and (pick.min() < 0 or pick.max() >= len(templates)) or not np.all(np.isfinite(const)):
        raise SpecError(f"node {i}: chain picks must index its {len(templates)} templates, its constants be finite")
    steps = []
    for k, (chosen, number) in enumerate(zip(pick.tolist(), const.astype(np.float64).tolist())):
        name, order = templates[chosen]
        x = Operand(i + k - 1)
        operands = (x,) if len(order) == 1 else (x, Operand(const=number)) if order[0] == "x" \
            else (Operand(const=number), x)
        steps.append(OpNode(name, operands, {}))
    return steps


def _parse_kwargs(kwargs: Mapping, name: Any, i: int) -> dict[str, Any]:
    if name not in ("sum", "mean") or not set(kwargs) <= REDUCTION_KWARGS:
        raise SpecError(f"node {i}: only sum and mean take keyword arguments (axis, keepdims), "
                        f"got {dict(kwargs)!r} for {name!r}")
    parsed = dict(kwargs)
    axis = parsed.get("axis")
    if isinstance(axis, Sequence) and not isinstance(axis, str):
        parsed["axis"] = tuple(_parse_axis(a, i) for a in axis)
    elif axis is not None:
        parsed["axis"] = _parse_axis(axis, i)
    if not isinstance(parsed.get("keepdims", False), bool):
        raise SpecError(f"node {i}: keepdims must be true or false")
    return parsed


def _parse_axis(axis: Any, i: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise SpecError(f"node {i}: an axis is an int, got {axis!r}")
    return axis


def _parse_index(index: Any, limit: int, where: str) -> int:
    """A node index in 0 .. limit-1 (for an op: an earlier node)."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < limit:
        raise SpecError(f"{where}: {index!r} is not the index of an earlier node (0 .. {limit - 1})")
    return int(index)


def _parse_value_leaf(node: Sequence, i: int) -> LeafNode:
    if len(node) != 2 or not _is_number(node[1]):
        raise SpecError(f"node {i}: a Value leaf is ['leaf', number], got {node!r}")
    return LeafNode(float(node[1]))


def _parse_tensor_leaf(node: Sequence, i: int) -> LeafNode:
    if len(node) != 3 or not isinstance(node[2], bool):
        raise SpecError(f"node {i}: a Tensor leaf is ['leaf', array, requires_grad], got {node!r}")
    return LeafNode(_float_array(node[1], f"node {i}"), node[2])


def _parse_number_const(value: Any, where: str) -> Union[int, float]:
    if not _is_number(value):
        raise SpecError(f"{where}: a Value constant is a number, got {value!r}")
    return value


def _parse_array_const(value: Any, where: str) -> Union[int, float, np.ndarray]:
    return value if _is_number(value) else _float_array(value, where)


def _parse_report(spec: Mapping, size: int) -> Sequence[int]:
    if "report" not in spec:
        return range(size)
    return [_parse_index(i, size, "report") for i in _sequence(spec["report"], "report")]


def _parse_backward_call(call: Any, limit: int) -> tuple[int, Optional[np.ndarray]]:
    call = _sequence(call, "backward entry")
    if len(call) != 2:
        raise SpecError(f"a tensor backward entry is [index, grad or None], got {call!r}")
    index = _parse_index(call[0], limit, "backward")
    return index, None if call[1] is None else _float_array(call[1], "backward grad")


def _float_array(value: Any, where: str) -> np.ndarray:
    """A float64 copy: each array is used once, so an engine that writes into its inputs changes
    neither the spec (which the grader may run again on the reference) nor another node."""
    if isinstance(value, (str, bytes)) or _is_mapping(value):
        raise SpecError(f"{where}: expected numbers, got {type(value).__name__}")
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{where}: expected an array of numbers ({exc})") from None


# The plain-type tests come first: abstract-class checks are ten times slower, and a deep
# chain has a hundred thousand nodes to check.

def _sequence(value: Any, where: str) -> Sequence:
    if isinstance(value, (list, tuple)):
        return value
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise SpecError(f"{where} must be a list, got {type(value).__name__}")
    return value


def _is_mapping(x: Any) -> bool:
    return isinstance(x, dict) or isinstance(x, Mapping)


def _is_number(x: Any) -> bool:
    if isinstance(x, bool):
        return False
    return isinstance(x, (int, float)) or isinstance(x, Real)
