"""Exercise 5: A tensor autograd engine with broadcasting (solution).

Generated from `ex5_autograd_tensor.ipynb`: edit the notebook, then run
`python -m grader.authoring.generate`. A copy that drifts from the notebook fails the tests.
"""
import numbers

import numpy as np


class GradFn:
    """How a non-leaf tensor was made: the operation's `name`, its `inputs`, and `backward`,
    which maps dL/d(output) to a tuple of dL/d(input), one per input, each of its input's shape."""

    def __init__(self, name: str, inputs: tuple, backward):
        self.name = name
        self.inputs = tuple(inputs)
        self.backward = backward

    def __repr__(self) -> str:
        return f"<{self.name}>"


def _as_tensor(x) -> "Tensor":
    """x itself if it is a Tensor, else a constant tensor (requires_grad=False) holding x."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _result(data: np.ndarray, name: str, inputs: tuple, backward) -> "Tensor":
    """The output of an operation: joined to its inputs by a GradFn when any input needs grad."""
    out = Tensor(data)
    if any(t.requires_grad for t in inputs):
        out.requires_grad = True
        out.grad_fn = GradFn(name, inputs, backward)
    return out


def _reduced_axes(axis, ndim: int) -> tuple[int, ...]:
    """`axis` of sum/mean (None, an int or a tuple, negatives allowed) as sorted axes >= 0."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
    return tuple(sorted(a % ndim for a in axes))


def _unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `grad` (the shape of a broadcast result) back down to an operand's `shape`."""
    added = grad.ndim - len(shape)
    if added > 0:
        grad = grad.sum(axis=tuple(range(added)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def _topological_order(root: "Tensor") -> list["Tensor"]:
    """Every tensor root was computed from (and root), each after all its inputs; no recursion."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
        elif id(tensor) not in seen:
            seen.add(id(tensor))
            stack.append((tensor, True))
            if tensor.grad_fn is not None:
                stack.extend((t, False) for t in tensor.grad_fn.inputs if id(t) not in seen)
    return order


class Tensor:
    """A float64 numpy array that records the operations made with it, as torch.Tensor does."""

    # Let numpy hand `array * tensor` to Tensor.__rmul__ instead of looping over the array.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad: bool = False):
        self.data = np.array(data.data if isinstance(data, Tensor) else data, dtype=np.float64)
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.grad_fn = None

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def shape(self) -> tuple:
        return self.data.shape

    def item(self) -> float:
        return float(self.data.item())

    def __repr__(self) -> str:
        if self.grad_fn is not None:
            return f"Tensor({self.data}, grad_fn={self.grad_fn!r})"
        return f"Tensor({self.data}, requires_grad={self.requires_grad})"

    def __add__(self, other) -> "Tensor":
        other = _as_tensor(other)
        return _result(self.data + other.data, "AddBackward0", (self, other),
                       lambda g: (_unbroadcast(g, self.shape), _unbroadcast(g, other.shape)))

    def __sub__(self, other) -> "Tensor":
        other = _as_tensor(other)
        return _result(self.data - other.data, "SubBackward0", (self, other),
                       lambda g: (_unbroadcast(g, self.shape), _unbroadcast(-g, other.shape)))

    def __mul__(self, other) -> "Tensor":
        other = _as_tensor(other)
        a, b = self.data, other.data
        return _result(a * b, "MulBackward0", (self, other),
                       lambda g: (_unbroadcast(g * b, self.shape),
                                  _unbroadcast(g * a, other.shape)))

    def __truediv__(self, other) -> "Tensor":
        other = _as_tensor(other)
        a, b = self.data, other.data
        return _result(a / b, "DivBackward0", (self, other),
                       lambda g: (_unbroadcast(g / b, self.shape),
                                  _unbroadcast(-g * a / b**2, other.shape)))

    def __neg__(self) -> "Tensor":
        return _result(-self.data, "NegBackward0", (self,), lambda g: (-g,))

    def __pow__(self, exponent) -> "Tensor":
        if not isinstance(exponent, numbers.Real) or isinstance(exponent, bool):
            raise TypeError(f"Tensor ** p needs a Python number p, not {type(exponent).__name__}")
        a = self.data
        return _result(a ** exponent, "PowBackward0", (self,),
                       lambda g: (g * exponent * a ** (exponent - 1),))

    def __matmul__(self, other) -> "Tensor":
        other = _as_tensor(other)
        if self.data.ndim != 2 or other.data.ndim != 2:
            raise ValueError(f"@ takes two 2-D tensors here; got shapes {self.shape} and "
                             f"{other.shape}")
        a, b = self.data, other.data
        return _result(a @ b, "MmBackward0", (self, other), lambda g: (g @ b.T, a.T @ g))

    def __radd__(self, other) -> "Tensor":  # other + self
        return _as_tensor(other) + self

    def __rsub__(self, other) -> "Tensor":  # other - self
        return _as_tensor(other) - self

    def __rmul__(self, other) -> "Tensor":  # other * self
        return _as_tensor(other) * self

    def __rtruediv__(self, other) -> "Tensor":  # other / self
        return _as_tensor(other) / self

    def __rmatmul__(self, other) -> "Tensor":  # other @ self
        return _as_tensor(other) @ self

    def sum(self, axis=None, keepdims: bool = False) -> "Tensor":
        axes = _reduced_axes(axis, self.data.ndim)
        def backward(g):
            if not keepdims:
                g = np.expand_dims(g, axes)
            return (np.broadcast_to(g, self.shape).copy(),)
        name = "SumBackward0" if axis is None else "SumBackward1"
        return _result(self.data.sum(axis=axes, keepdims=keepdims), name, (self,), backward)

    def mean(self, axis=None, keepdims: bool = False) -> "Tensor":
        axes = _reduced_axes(axis, self.data.ndim)
        count = int(np.prod([self.shape[a] for a in axes]))

        def backward(g):
            if not keepdims:
                g = np.expand_dims(g, axes)
            return (np.broadcast_to(g / count, self.shape).copy(),)
        name = "MeanBackward0" if axis is None else "MeanBackward1"
        return _result(self.data.mean(axis=axes, keepdims=keepdims), name, (self,), backward)

    def exp(self) -> "Tensor":
        out = np.exp(self.data)
        return _result(out, "ExpBackward0", (self,), lambda g: (g * out,))

    def log(self) -> "Tensor":
        a = self.data
        return _result(np.log(a), "LogBackward0", (self,), lambda g: (g / a,))

    def sigmoid(self) -> "Tensor":
        e = np.exp(-np.abs(self.data))  # stable for any input
        s = np.where(self.data >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return _result(s, "SigmoidBackward0", (self,), lambda g: (g * s * (1.0 - s),))

    def tanh(self) -> "Tensor":
        t = np.tanh(self.data)
        return _result(t, "TanhBackward0", (self,), lambda g: (g * (1.0 - t * t),))

    def relu(self) -> "Tensor":
        a = self.data
        return _result(np.maximum(a, 0.0), "ReluBackward0", (self,), lambda g: (g * (a > 0),))

    def backward(self, grad=None) -> None:
        """Add dL/d(leaf) into .grad of every leaf with requires_grad, where L is this tensor.

        grad: dL/d(self), the shape of self; may be left out only for a single-element tensor.
        """
        if not self.requires_grad:
            raise ValueError("this tensor does not require grad: no input of its graph was made "
                             "with requires_grad=True")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"grad can be left out only for a single-element tensor; this one "
                                 f"has shape {self.shape}, so pass grad of that shape")
            grad = np.ones_like(self.data)
        grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=np.float64)
        if grad.shape != self.shape:
            raise ValueError(f"grad has shape {grad.shape}; it must have this tensor's shape "
                             f"{self.shape}")
        pending = {id(self): grad}  # gradients collected so far, by tensor
        for tensor in reversed(_topological_order(self)):
            g = pending.pop(id(tensor), None)
            if g is None:
                continue
            if tensor.is_leaf:
                if tensor.requires_grad:
                    tensor.grad = g.copy() if tensor.grad is None else tensor.grad + g
                continue
            for parent, parent_grad in zip(tensor.grad_fn.inputs, tensor.grad_fn.backward(g)):
                if parent.requires_grad:
                    previous = pending.get(id(parent))
                    summed = parent_grad if previous is None else previous + parent_grad
                    pending[id(parent)] = summed


def mse_loss(pred: Tensor, target) -> Tensor:
    """mean((pred - target)^2) over every element, as torch.nn.functional.mse_loss."""
    pred, target = _as_tensor(pred), _as_tensor(target)
    if pred.shape != target.shape:
        raise ValueError(f"pred has shape {pred.shape} but target has shape {target.shape}")
    return ((pred - target) ** 2).mean()


def cross_entropy(logits: Tensor, target_onehot) -> Tensor:
    """-(1/B) sum_rows sum_c y_c log softmax(logits)_c; logits and one-hot targets (B, C)."""
    logits, target = _as_tensor(logits), _as_tensor(target_onehot)
    if logits.shape != target.shape or logits.data.ndim == 0:
        raise ValueError(f"logits {logits.shape} and target_onehot {target.shape} must have one "
                         "shape with a class axis, (B, C)")
    shift = Tensor(logits.data.max(axis=-1, keepdims=True))  # a constant: no gradient flows into it
    shifted = logits - shift
    log_probs = shifted - shifted.exp().sum(axis=-1, keepdims=True).log()
    return -(target * log_probs).sum(axis=-1).mean()
