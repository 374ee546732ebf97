"""A numpy-backed reverse-mode autograd engine, PyTorch-like (exercise 5).

A `Tensor` holds a float64 array. An operation on tensors of which at least one has
`requires_grad` returns a tensor whose `grad_fn` remembers the inputs and a `backward` function
mapping the output's gradient to one gradient per input (the lecture's "Function object": it
knows its own local derivative). Operations on tensors that need no gradient build no graph.

Broadcasting: numpy may stretch an operand in the forward pass; the gradient of a stretched
operand is the sum over the stretched axes, so `unbroadcast` sums each gradient back to its
operand's shape.

`backward()` visits the graph in reverse topological order (explicit stack, no recursion) and
accumulates gradients in a dictionary. Only leaves that require grad keep them, in `.grad`,
adding to what is already there, as PyTorch does; interior tensors keep `.grad = None` (PyTorch
keeps them only after `retain_grad()`). The graph itself is kept, so `backward` may be called
again and adds the same gradients once more.
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Real
from typing import Callable, Iterable, Optional, Union

import numpy as np

Operand = Union["Tensor", float, int, np.ndarray]
BackwardFn = Callable[[np.ndarray], tuple[np.ndarray, ...]]


@dataclass(frozen=True)
class GradFn:
    """The node that made a tensor: its name ("MulBackward"), its inputs, and its local backward.

    `backward(grad_out)` returns one gradient per input, each already of that input's shape.
    """

    name: str
    inputs: tuple["Tensor", ...]
    backward: BackwardFn

    def __repr__(self) -> str:
        return f"<{self.name}>"


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` over the axes numpy broadcast, so that it has `shape` again.

    Broadcasting prepends axes and stretches axes of length 1; both are undone by summing:
    (B, C) -> (C,) sums axis 0, (B, C) -> (1, C) sums axis 0 keeping it, (B, C) -> () sums all.
    """
    grad = np.asarray(grad, dtype=np.float64)
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"a gradient of shape {grad.shape} cannot come from an operand of shape {shape}")
    grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1)
    grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != tuple(shape):
        raise ValueError(f"a gradient of shape {grad.shape} does not reduce to shape {tuple(shape)}")
    return grad


class Tensor:
    """An n-d float64 array in an autograd graph.

    `.data` ndarray (a float64 copy of the input); `.requires_grad` bool; `.grad` None until a
    backward reaches this leaf, then an array of `.data`'s shape; `.grad_fn` None for tensors
    made by the user, else the `GradFn` of the operation that made it; `.is_leaf` = no grad_fn.
    """

    # Makes numpy defer to our reflected methods, so `array + tensor` is a Tensor.
    __array_ufunc__ = None

    def __init__(self, data: Union[np.ndarray, float, int, list], requires_grad: bool = False):
        if isinstance(data, Tensor):
            raise TypeError("Tensor(t) with a Tensor t: pass t.data to copy its values")
        self.data = np.array(data, dtype=np.float64)
        self.requires_grad = bool(requires_grad)
        self.grad: Optional[np.ndarray] = None
        self.grad_fn: Optional[GradFn] = None

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def item(self) -> float:
        """The value of a single-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a single-element tensor, this one has shape {self.shape}")
        return float(self.data.reshape(()))

    def __repr__(self) -> str:
        values = np.array2string(self.data, separator=", ")
        if self.grad_fn is not None:
            return f"Tensor({values}, grad_fn={self.grad_fn!r})"
        return f"Tensor({values}, requires_grad=True)" if self.requires_grad else f"Tensor({values})"

    # Elementwise arithmetic with numpy broadcasting.
    def __add__(self, other: Operand) -> "Tensor":
        other = _lift(other)
        if other is None:
            return NotImplemented
        return _result(self.data + other.data, (self, other), "AddBackward",
                       lambda g: (g, g))

    def __sub__(self, other: Operand) -> "Tensor":
        other = _lift(other)
        if other is None:
            return NotImplemented
        return _result(self.data - other.data, (self, other), "SubBackward",
                       lambda g: (g, -g))

    def __mul__(self, other: Operand) -> "Tensor":
        other = _lift(other)
        if other is None:
            return NotImplemented
        a, b = self.data, other.data
        return _result(a * b, (self, other), "MulBackward",
                       lambda g: (g * b, g * a))

    def __truediv__(self, other: Operand) -> "Tensor":
        """d(a/b)/da = 1/b, d(a/b)/db = -a/b^2."""
        other = _lift(other)
        if other is None:
            return NotImplemented
        a, b = self.data, other.data
        return _result(a / b, (self, other), "DivBackward",
                       lambda g: (g / b, -g * a / b ** 2))

    def __radd__(self, other: Operand) -> "Tensor":
        other = _lift(other)
        return NotImplemented if other is None else other + self

    def __rsub__(self, other: Operand) -> "Tensor":
        other = _lift(other)
        return NotImplemented if other is None else other - self

    def __rmul__(self, other: Operand) -> "Tensor":
        other = _lift(other)
        return NotImplemented if other is None else other * self

    def __rtruediv__(self, other: Operand) -> "Tensor":
        other = _lift(other)
        return NotImplemented if other is None else other / self

    def __neg__(self) -> "Tensor":
        return _result(-self.data, (self,), "NegBackward", lambda g: (-g,))

    def __pow__(self, exponent: float) -> "Tensor":
        """d(x^p)/dx = p x^(p-1) elementwise; p is a constant Python number."""
        if not isinstance(exponent, Real) or isinstance(exponent, bool):
            raise TypeError(f"Tensor ** p needs a Python number p, got {type(exponent).__name__}")
        a = self.data
        return _result(a ** exponent, (self,), "PowBackward",
                       lambda g: (g * exponent * a ** (exponent - 1),))

    def __matmul__(self, other: Operand) -> "Tensor":
        """C = A @ B for 2-D A (n, k) and B (k, m); dA = dC @ B.T (n, k), dB = A.T @ dC (k, m)."""
        other = _lift(other)
        if other is None:
            return NotImplemented
        a, b = self.data, other.data
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
            raise ValueError(f"@ needs 2-D operands (n, k) @ (k, m), got {a.shape} @ {b.shape}")
        return _result(a @ b, (self, other), "MatMulBackward",
                       lambda g: (g @ b.T, a.T @ g))

    def __rmatmul__(self, other: Operand) -> "Tensor":
        other = _lift(other)
        return NotImplemented if other is None else other @ self

    # Reductions.
    def sum(self, axis: Union[int, tuple[int, ...], None] = None, keepdims: bool = False) -> "Tensor":
        """Sum over `axis` (all axes when None); each input element gets the gradient of its sum."""
        out = self.data.sum(axis=axis, keepdims=keepdims)
        kept = _kept_shape(self.data.shape, axis)
        shape = self.data.shape
        return _result(out, (self,), "SumBackward",
                       lambda g: (np.broadcast_to(g.reshape(kept), shape).copy(),))

    def mean(self, axis: Union[int, tuple[int, ...], None] = None, keepdims: bool = False) -> "Tensor":
        """Mean over `axis`: the sum's gradient divided by the number of elements averaged."""
        out = self.data.mean(axis=axis, keepdims=keepdims)
        kept = _kept_shape(self.data.shape, axis)
        shape = self.data.shape
        count = self.data.size // max(1, int(np.prod(kept)))
        return _result(out, (self,), "MeanBackward",
                       lambda g: (np.broadcast_to(g.reshape(kept) / count, shape).copy(),))

    # Elementwise functions.
    def exp(self) -> "Tensor":
        out = np.exp(self.data)
        return _result(out, (self,), "ExpBackward", lambda g: (g * out,))

    def log(self) -> "Tensor":
        a = self.data
        return _result(np.log(a), (self,), "LogBackward", lambda g: (g / a,))

    def sigmoid(self) -> "Tensor":
        """sigma(x) = 1 / (1 + e^-x), sigma' = sigma (1 - sigma); stable for |x| up to 1000."""
        out = _stable_sigmoid(self.data)
        return _result(out, (self,), "SigmoidBackward", lambda g: (g * out * (1.0 - out),))

    def tanh(self) -> "Tensor":
        out = np.tanh(self.data)
        return _result(out, (self,), "TanhBackward", lambda g: (g * (1.0 - out ** 2),))

    def relu(self) -> "Tensor":
        """max(0, x), with derivative 0 at x = 0."""
        a = self.data
        return _result(np.maximum(a, 0.0), (self,), "ReluBackward", lambda g: (g * (a > 0),))

    def backward(self, grad: Union[np.ndarray, "Tensor", float, None] = None) -> None:
        """Add d(self)/d(leaf), weighted by `grad`, into `.grad` of every leaf that requires grad.

        `grad` has this tensor's shape; it may be omitted only for a single-element tensor
        (then it is 1). Raises RuntimeError, with PyTorch's wording, otherwise.
        """
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs "
                                   f"(this tensor has shape {self.shape}); pass backward(grad) "
                                   "with a gradient of that shape")
            seed = np.ones_like(self.data)
        else:
            seed = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=np.float64)
            if seed.shape != self.shape:
                raise RuntimeError(f"Mismatch in shape: grad has a shape of {seed.shape} and "
                                   f"the tensor has a shape of {self.shape}")
        grads: dict[int, np.ndarray] = {id(self): seed}
        for node in reversed(_topological_order(self)):
            # Every consumer of `node` came earlier in this loop, so its gradient is complete.
            g = grads.pop(id(node))
            if node.grad_fn is None:
                node.grad = g.copy() if node.grad is None else node.grad + g
                continue
            for parent, parent_grad in zip(node.grad_fn.inputs, node.grad_fn.backward(g)):
                if parent.requires_grad:
                    parent_grad = unbroadcast(parent_grad, parent.shape)
                    # A tensor used several times sums the gradient of each use.
                    previous = grads.get(id(parent))
                    grads[id(parent)] = parent_grad if previous is None else previous + parent_grad


def _lift(x: object) -> Optional[Tensor]:
    """A Tensor for a Tensor, a Python number or an ndarray (a constant); None otherwise."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, np.generic)) or (isinstance(x, Real) and not isinstance(x, bool)):
        return Tensor(x)
    return None


def _result(data: np.ndarray, inputs: tuple[Tensor, ...], name: str, backward: BackwardFn) -> Tensor:
    """The output of an operation: part of the graph only if some input requires grad."""
    out = Tensor(data)
    if any(t.requires_grad for t in inputs):
        out.requires_grad = True
        out.grad_fn = GradFn(name, inputs, backward)
    return out


def _kept_shape(shape: tuple[int, ...], axis: Union[int, tuple[int, ...], None]) -> tuple[int, ...]:
    """The shape a reduction over `axis` has with keepdims=True (axes already checked by numpy)."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of a non-positive number only: no overflow for large |x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors that need a gradient, reachable from `root`, each after all of its inputs.

    Depth-first post-order with an explicit stack: a `(tensor, True)` entry is popped only after
    everything pushed above it (its inputs and theirs) is in the order.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if node.grad_fn is not None:
            stack.extend((t, False) for t in node.grad_fn.inputs
                         if t.requires_grad and id(t) not in visited)
    return order


def zero_grad(tensors: Iterable[Tensor]) -> None:
    """Forget accumulated gradients (PyTorch's optimizer.zero_grad(set_to_none=True))."""
    for t in tensors:
        t.grad = None


def _as_tensor(x: Operand, name: str) -> Tensor:
    lifted = _lift(x)
    if lifted is None:
        raise TypeError(f"{name} must be a Tensor, an ndarray or a number, got {type(x).__name__}")
    return lifted


def mse_loss(pred: Operand, target: Operand) -> Tensor:
    """Mean squared error over every element: mean((pred - target)^2).

    Shapes must match exactly: a (B,) target against a (B, 1) prediction would silently
    broadcast to (B, B), a classic mistake, so it is refused.
    """
    pred, target = _as_tensor(pred, "pred"), _as_tensor(target, "target")
    if pred.shape != target.shape:
        raise ValueError(f"mse_loss needs pred and target of one shape, got {pred.shape} and {target.shape}")
    return ((pred - target) ** 2).mean()


def cross_entropy(logits: Operand, target_onehot: Operand) -> Tensor:
    """Categorical cross-entropy of softmax(logits), summed over classes, mean over the batch.

    logits (B, C), target_onehot (B, C): L = -(1/B) sum_b sum_c y_bc log softmax(z_b)_c, with
    log softmax(z) = (z - m) - log sum_c exp(z_c - m) and m the row maximum (logsumexp trick).

    Built from Tensor operations rather than as one fused op with a hand-written gradient: then
    it is what students are asked to write, and its gradient, (softmax(z) - y) / B, is a check
    on the engine's own operations. The shift m is held constant (taken from `.data`): the
    loss does not depend on m at all, so no gradient flows through it, and every exp() sees an
    argument <= 0, which keeps logits of any size finite.
    """
    logits, target = _as_tensor(logits, "logits"), _as_tensor(target_onehot, "target_onehot")
    if logits.data.ndim != 2 or logits.shape != target.shape:
        raise ValueError("cross_entropy needs logits and one-hot targets of one shape (B, C), "
                         f"got {logits.shape} and {target.shape}")
    shifted = logits - logits.data.max(axis=1, keepdims=True)
    log_probs = shifted - shifted.exp().sum(axis=1, keepdims=True).log()
    return (-(target * log_probs).sum(axis=1)).mean()
