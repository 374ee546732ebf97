"""A scalar reverse-mode autograd engine, micrograd-compatible (exercise 4).

Each operation builds its output `Value` and, right beside it, a `_backward` closure that adds
the local gradient times the output's gradient into each input with `+=` (the lecture's rule:
gradient at node = incoming gradient x local derivative; a node on several paths sums them).
Subtraction and division are built from add, multiply and power, so only the primitives need
a gradient. `backward()` walks the graph in reverse topological order found with an explicit
stack, so graphs far deeper than Python's recursion limit work.
"""
from __future__ import annotations

import math
from numbers import Real
from typing import Union

Number = Union[int, float]


def _is_number(x: object) -> bool:
    # bool is an int subclass; True + v is almost always a slip, so it is not a number here.
    # The plain (int, float) test first: the abstract Real check is ten times slower.
    if isinstance(x, bool):
        return False
    return isinstance(x, (int, float)) or isinstance(x, Real)


class Value:
    """One scalar node of the graph: `.data` (float) and `.grad` = dL/d(this), 0.0 until backward."""

    # Makes numpy scalars on the left (np.float64(2) * v) defer to our reflected methods.
    __array_ufunc__ = None

    def __init__(self, data: Number, _children: tuple["Value", ...] = (), _op: str = ""):
        if not _is_number(data):
            raise TypeError(f"Value holds one real number, got {type(data).__name__}: {data!r}")
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)  # a tuple, not micrograd's set: the walk order is reproducible
        self._op = _op

    def __add__(self, other: Union["Value", Number]) -> "Value":
        other = _lift(other)
        if other is None:
            return NotImplemented
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other: Union["Value", Number]) -> "Value":
        other = _lift(other)
        if other is None:
            return NotImplemented
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, exponent: Number) -> "Value":
        """d(x**p)/dx = p * x**(p - 1); the exponent is a constant Python number."""
        if not _is_number(exponent):
            raise TypeError(f"Value ** p needs a Python number p, got {type(exponent).__name__}")
        result = self.data ** exponent
        if isinstance(result, complex):
            raise ValueError(f"{self.data} ** {exponent} is not a real number")
        out = Value(result, (self,), f"**{exponent}")

        def _backward() -> None:
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
        out._backward = _backward
        return out

    def exp(self) -> "Value":
        """d(e^x)/dx = e^x, the output itself."""
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward() -> None:
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self) -> "Value":
        """Natural log; d(ln x)/dx = 1/x."""
        if self.data <= 0:
            raise ValueError(f"log needs a positive number, got {self.data}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward() -> None:
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def sigmoid(self) -> "Value":
        """sigma(x) = 1 / (1 + e^-x); sigma'(x) = sigma(x) (1 - sigma(x))."""
        out = Value(_stable_sigmoid(self.data), (self,), "sigmoid")

        def _backward() -> None:
            self.grad += out.data * (1.0 - out.data) * out.grad
        out._backward = _backward
        return out

    def tanh(self) -> "Value":
        """tanh'(x) = 1 - tanh(x)^2."""
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward() -> None:
            self.grad += (1.0 - out.data ** 2) * out.grad
        out._backward = _backward
        return out

    def relu(self) -> "Value":
        """max(0, x); the derivative is taken as 0 at x = 0."""
        out = Value(max(0.0, self.data), (self,), "ReLU")

        def _backward() -> None:
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad
        out._backward = _backward
        return out

    def backward(self) -> None:
        """Seed dL/dL = 1, then apply each node's chain rule after all of its consumers."""
        self.grad = 1.0
        for node in reversed(_topological_order(self)):
            node._backward()

    # Everything below is built from the primitives above.
    def __neg__(self) -> "Value":
        return self * -1

    def __radd__(self, other: Number) -> "Value":
        return self + other

    def __sub__(self, other: Union["Value", Number]) -> "Value":
        other = _lift(other)
        if other is None:
            return NotImplemented
        return self + (-other)

    def __rsub__(self, other: Number) -> "Value":
        return other + (-self)

    def __rmul__(self, other: Number) -> "Value":
        return self * other

    def __truediv__(self, other: Union["Value", Number]) -> "Value":
        other = _lift(other)
        if other is None:
            return NotImplemented
        return self * other ** -1

    def __rtruediv__(self, other: Number) -> "Value":
        return other * self ** -1

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"


def _lift(x: object) -> Union[Value, None]:
    """A Value for a Value or a Python number; None tells the operator to return NotImplemented."""
    if isinstance(x, Value):
        return x
    return Value(x) if _is_number(x) else None


def _stable_sigmoid(x: float) -> float:
    # Only ever exponentiate a non-positive number, so |x| up to 1000 cannot overflow.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _topological_order(root: Value) -> list[Value]:
    """Every node reachable from `root`, each after all of its inputs (depth-first post-order).

    An explicit stack replaces micrograd's recursion: a `(node, True)` entry is popped only after
    everything pushed above it, i.e. all of the node's inputs, has been placed in the order.
    """
    order: list[Value] = []
    visited: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in node._prev if id(child) not in visited)
    return order


def sigmoid_trace(w: float, x: float, b: float) -> dict[str, float]:
    """The lecture's five-step trace of L = sigma(w x + b), computed by the engine.

    Forward: z1 = w x, z2 = z1 + b, z3 = -z2, z4 = exp(z3), L = 1 / (1 + z4).
    Backward (read off the nodes): dL/dz4 = -L^2, dL/dz3 = -L^2 z4, dL/dz2 = L^2 z4,
    dL/db = L^2 z4, dL/dw = L^2 z4 x. Returns those ten numbers as Python floats.
    """
    w_node, x_node, b_node = Value(w), Value(x), Value(b)
    z1 = w_node * x_node
    z2 = z1 + b_node
    z3 = -z2
    z4 = z3.exp()
    L = 1 / (1 + z4)
    L.backward()
    return {
        "z1": z1.data, "z2": z2.data, "z3": z3.data, "z4": z4.data, "L": L.data,
        "dL_dz4": z4.grad, "dL_dz3": z3.grad, "dL_dz2": z2.grad,
        "dL_db": b_node.grad, "dL_dw": w_node.grad,
    }
