"""Exercise 4: A scalar autograd engine (solution).

Generated from `ex4_autograd_scalar.ipynb`: edit the notebook, then run
`python -m grader.authoring.generate`. A copy that drifts from the notebook fails the tests.
"""
import math
import numbers


def _as_value(x) -> "Value":
    """x itself if it is a Value, else a new leaf holding the Python number x (given)."""
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return Value(x)
    raise TypeError(f"a Value combines with Values and Python numbers, not {type(x).__name__}")


def _topological_order(root: "Value") -> list["Value"]:
    """Every node that root was computed from (and root), each after all of its inputs.

    Iterative depth-first search with an explicit stack, so deep graphs need no recursion.
    """
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)  # all of node's inputs were emitted before this
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev if child not in seen)
    return order


class Value:
    """A scalar node of a computation graph, compatible with micrograd's Value.

    data: the number; grad: dL/d(this node), 0.0 until backward(); _prev: the input nodes;
    _op: the operation's label; _backward: adds out.grad times the local derivative into the
    grads of _prev.
    """

    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other) -> "Value":
        """self + other;  d/d self = d/d other = 1."""
        other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other) -> "Value":
        """self * other;  d/d self = other,  d/d other = self."""
        other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, exponent) -> "Value":
        """self ** p for a Python number p;  d/d self = p self^(p-1)."""
        if not isinstance(exponent, numbers.Real) or isinstance(exponent, bool):
            raise TypeError(f"Value ** p needs a Python number p, not {type(exponent).__name__}")
        out = Value(self.data ** exponent, (self,), f"**{exponent}")

        def _backward():
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
        out._backward = _backward
        return out

    def exp(self) -> "Value":
        """e^self;  d/d self = e^self, the output itself."""
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self) -> "Value":
        """Natural log of self (self > 0);  d/d self = 1 / self."""
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def sigmoid(self) -> "Value":
        """sigma(self) = 1 / (1 + e^-self), finite for any self;  d/d self = sigma (1 - sigma)."""
        e = math.exp(-abs(self.data))  # the exponent is <= 0, so it cannot overflow
        s = 1.0 / (1.0 + e) if self.data >= 0 else e / (1.0 + e)
        out = Value(s, (self,), "sigmoid")

        def _backward():
            self.grad += out.data * (1.0 - out.data) * out.grad
        out._backward = _backward
        return out

    def tanh(self) -> "Value":
        """tanh(self);  d/d self = 1 - tanh^2."""
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1.0 - out.data ** 2) * out.grad
        out._backward = _backward
        return out

    def relu(self) -> "Value":
        """max(0, self);  d/d self = 1 where self > 0, else 0."""
        out = Value(max(0.0, self.data), (self,), "relu")

        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def backward(self) -> None:
        """Set self.grad = 1 and run every node's _backward in reverse topological order."""
        order = _topological_order(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    # Built from the primitives above: no gradient code of their own.
    def __neg__(self) -> "Value":
        return self * -1

    def __sub__(self, other) -> "Value":
        return self + (-_as_value(other))

    def __truediv__(self, other) -> "Value":
        return self * _as_value(other) ** -1

    def __radd__(self, other) -> "Value":  # other + self
        return self + other

    def __rmul__(self, other) -> "Value":  # other * self
        return self * other

    def __rsub__(self, other) -> "Value":  # other - self
        return _as_value(other) + (-self)

    def __rtruediv__(self, other) -> "Value":  # other / self
        return _as_value(other) * self ** -1


def sigmoid_trace(w: float, x: float, b: float) -> dict:
    """The lecture's five-step trace of L = sigma(w x + b), forward values and gradients.

    z1 = w x,  z2 = z1 + b,  z3 = -z2,  z4 = exp(z3),  L = 1 / (1 + z4);
    dL/dz4 = -L^2,  dL/dz3 = -L^2 z4,  dL/dz2 = dL/db = L^2 z4,  dL/dw = L^2 z4 x.
    Returns floats under z1, z2, z3, z4, L, dL_dz4, dL_dz3, dL_dz2, dL_db, dL_dw.
    """
    w, x, b = Value(w), Value(x), Value(b)
    z1 = w * x
    z2 = z1 + b
    z3 = -z2
    z4 = z3.exp()
    L = 1 / (1 + z4)
    L.backward()
    return {"z1": z1.data, "z2": z2.data, "z3": z3.data, "z4": z4.data, "L": L.data,
            "dL_dz4": z4.grad, "dL_dz3": z3.grad, "dL_dz2": z2.grad,
            "dL_db": b.grad, "dL_dw": w.grad}
