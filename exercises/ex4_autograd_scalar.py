"""Exercise 4: A scalar autograd engine.

The code of `ex4_autograd_scalar.ipynb` as a plain module: a submission may hold either file.
Replace each `raise NotImplementedError()` with your code.
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
    # YOUR CODE HERE
    raise NotImplementedError()


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
        # YOUR CODE HERE
        raise NotImplementedError()

    def __mul__(self, other) -> "Value":
        """self * other;  d/d self = other,  d/d other = self."""
        other = _as_value(other)
        # YOUR CODE HERE
        raise NotImplementedError()

    def __pow__(self, exponent) -> "Value":
        """self ** p for a Python number p;  d/d self = p self^(p-1)."""
        if not isinstance(exponent, numbers.Real) or isinstance(exponent, bool):
            raise TypeError(f"Value ** p needs a Python number p, not {type(exponent).__name__}")
        # YOUR CODE HERE
        raise NotImplementedError()

    def exp(self) -> "Value":
        """e^self;  d/d self = e^self, the output itself."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def log(self) -> "Value":
        """Natural log of self (self > 0);  d/d self = 1 / self."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def sigmoid(self) -> "Value":
        """sigma(self) = 1 / (1 + e^-self), finite for any self;  d/d self = sigma (1 - sigma)."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def tanh(self) -> "Value":
        """tanh(self);  d/d self = 1 - tanh^2."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def relu(self) -> "Value":
        """max(0, self);  d/d self = 1 where self > 0, else 0."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def backward(self) -> None:
        """Set self.grad = 1 and run every node's _backward in reverse topological order."""
        # YOUR CODE HERE
        raise NotImplementedError()

    # Built from the primitives above: no gradient code of their own.
    def __neg__(self) -> "Value":
        # YOUR CODE HERE
        raise NotImplementedError()

    def __sub__(self, other) -> "Value":
        # YOUR CODE HERE
        raise NotImplementedError()

    def __truediv__(self, other) -> "Value":
        # YOUR CODE HERE
        raise NotImplementedError()

    def __radd__(self, other) -> "Value":  # other + self
        # YOUR CODE HERE
        raise NotImplementedError()

    def __rmul__(self, other) -> "Value":  # other * self
        # YOUR CODE HERE
        raise NotImplementedError()

    def __rsub__(self, other) -> "Value":  # other - self
        # YOUR CODE HERE
        raise NotImplementedError()

    def __rtruediv__(self, other) -> "Value":  # other / self
        # YOUR CODE HERE
        raise NotImplementedError()


def sigmoid_trace(w: float, x: float, b: float) -> dict:
    """The lecture's five-step trace of L = sigma(w x + b), forward values and gradients.

    z1 = w x,  z2 = z1 + b,  z3 = -z2,  z4 = exp(z3),  L = 1 / (1 + z4);
    dL/dz4 = -L^2,  dL/dz3 = -L^2 z4,  dL/dz2 = dL/db = L^2 z4,  dL/dw = L^2 z4 x.
    Returns floats under z1, z2, z3, z4, L, dL_dz4, dL_dz3, dL_dz2, dL_db, dL_dw.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
