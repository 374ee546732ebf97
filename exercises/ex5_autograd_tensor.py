"""Exercise 5: A tensor autograd engine with broadcasting.

The code of `ex5_autograd_tensor.ipynb` as a plain module: a submission may hold either file.
Replace each `raise NotImplementedError()` with your code.
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
    # YOUR CODE HERE
    raise NotImplementedError()


def _topological_order(root: "Tensor") -> list["Tensor"]:
    """Every tensor root was computed from (and root), each after all its inputs; no recursion."""
    # YOUR CODE HERE
    raise NotImplementedError()


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
        # YOUR CODE HERE
        raise NotImplementedError()

    def __sub__(self, other) -> "Tensor":
        other = _as_tensor(other)
        # YOUR CODE HERE
        raise NotImplementedError()

    def __mul__(self, other) -> "Tensor":
        other = _as_tensor(other)
        # YOUR CODE HERE
        raise NotImplementedError()

    def __truediv__(self, other) -> "Tensor":
        other = _as_tensor(other)
        # YOUR CODE HERE
        raise NotImplementedError()

    def __neg__(self) -> "Tensor":
        # YOUR CODE HERE
        raise NotImplementedError()

    def __pow__(self, exponent) -> "Tensor":
        if not isinstance(exponent, numbers.Real) or isinstance(exponent, bool):
            raise TypeError(f"Tensor ** p needs a Python number p, not {type(exponent).__name__}")
        # YOUR CODE HERE
        raise NotImplementedError()

    def __matmul__(self, other) -> "Tensor":
        other = _as_tensor(other)
        if self.data.ndim != 2 or other.data.ndim != 2:
            raise ValueError(f"@ takes two 2-D tensors here; got shapes {self.shape} and "
                             f"{other.shape}")
        # YOUR CODE HERE
        raise NotImplementedError()

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
        # YOUR CODE HERE
        raise NotImplementedError()

    def mean(self, axis=None, keepdims: bool = False) -> "Tensor":
        axes = _reduced_axes(axis, self.data.ndim)
        # YOUR CODE HERE
        raise NotImplementedError()

    def exp(self) -> "Tensor":
        # YOUR CODE HERE
        raise NotImplementedError()

    def log(self) -> "Tensor":
        # YOUR CODE HERE
        raise NotImplementedError()

    def sigmoid(self) -> "Tensor":
        # YOUR CODE HERE
        raise NotImplementedError()

    def tanh(self) -> "Tensor":
        # YOUR CODE HERE
        raise NotImplementedError()

    def relu(self) -> "Tensor":
        # YOUR CODE HERE
        raise NotImplementedError()

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
        # YOUR CODE HERE
        raise NotImplementedError()


def mse_loss(pred: Tensor, target) -> Tensor:
    """mean((pred - target)^2) over every element, as torch.nn.functional.mse_loss."""
    pred, target = _as_tensor(pred), _as_tensor(target)
    if pred.shape != target.shape:
        raise ValueError(f"pred has shape {pred.shape} but target has shape {target.shape}")
    # YOUR CODE HERE
    raise NotImplementedError()


def cross_entropy(logits: Tensor, target_onehot) -> Tensor:
    """-(1/B) sum_rows sum_c y_c log softmax(logits)_c; logits and one-hot targets (B, C)."""
    logits, target = _as_tensor(logits), _as_tensor(target_onehot)
    if logits.shape != target.shape or logits.data.ndim == 0:
        raise ValueError(f"logits {logits.shape} and target_onehot {target.shape} must have one "
                         "shape with a class axis, (B, C)")
    # YOUR CODE HERE
    raise NotImplementedError()
