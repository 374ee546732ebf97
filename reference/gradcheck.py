"""Gradient checking: compare analytic gradients with central finite differences.

The checked function `f(*xs)` takes one or more float64 arrays and returns a scalar loss.
(A vector-valued function is checked through `vector_function_to_scalar`: a fixed upstream
gradient u turns it into L = sum(u * f(xs)), whose gradient is the vector-Jacobian product.)

- `check_gradient` compares every element, 2 calls of f per element: for small tensors.
- `check_directional` compares projections <grad, d> on random Gaussian directions d, 2 calls
  of f per direction whatever the size: for large tensors, and as a second opinion.

Errors are norm-relative, |a - n| / (|a| + |n|) with Frobenius norms, one per tensor, so that
near-zero entries do not make correct code fail (a max-elementwise relative error would).
Nothing here modifies the caller's arrays, prints, or keeps state between calls.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
from numpy.typing import ArrayLike

ScalarFunction = Callable[..., Any]  # f(*xs) -> a scalar (float, 0-d or one-element array)


# --- finite differences -------------------------------------------------------------------------

def numerical_gradient(f: ScalarFunction, x: ArrayLike, eps: float = 1e-6) -> np.ndarray:
    """dL/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for every element; shape of x.

    f is called as f(x_perturbed), 2 * x.size times, on a private copy of x: x itself is never
    written, and the copy is restored after each element even when f raises. f must read its
    input from its argument and must not modify it.
    """
    _positive(eps, "eps")
    work = _float_array(x, "x").copy()
    flat = work.reshape(-1)  # a view: writing flat[i] perturbs work
    grad = np.empty(flat.size, dtype=np.float64)
    for i in range(flat.size):
        original = flat[i]
        try:
            flat[i] = original + eps
            upper = flat[i]
            plus = _scalar(f(work))
            flat[i] = original - eps
            lower = flat[i]
            minus = _scalar(f(work))
        finally:
            flat[i] = original
        # Divide by the step actually taken: x +- eps is rounded when |x| is large.
        grad[i] = (plus - minus) / (upper - lower)
    return grad.reshape(work.shape)


def directional_derivative(f: ScalarFunction, xs: Sequence[ArrayLike],
                           directions: Sequence[Optional[ArrayLike]], eps: float = 1e-6) -> float:
    """D_d f(xs) = sum_k <dL/dx_k, d_k> ~ (f(xs + eps d) - f(xs - eps d)) / (2 eps).

    `directions[k]` has xs[k]'s shape, or is None to leave xs[k] still. Two calls of f.
    """
    _positive(eps, "eps")
    arrays = _arrays(xs, "xs")
    if len(directions) != len(arrays):
        raise ValueError(f"need one direction per tensor: {len(arrays)} tensors, "
                         f"{len(directions)} directions")
    steps = []
    for k, (x, d) in enumerate(zip(arrays, directions)):
        d = np.zeros_like(x) if d is None else _float_array(d, f"directions[{k}]")
        if d.shape != x.shape:
            raise ValueError(f"directions[{k}] has shape {d.shape}; xs[{k}] has shape {x.shape}")
        steps.append(eps * d)
    plus = _scalar(f(*[x + s for x, s in zip(arrays, steps)]))
    minus = _scalar(f(*[x - s for x, s in zip(arrays, steps)]))
    return (plus - minus) / (2.0 * eps)


numerical_jvp = directional_derivative  # the same number: a Jacobian-vector product of a scalar f


def relative_error(a: ArrayLike, n: ArrayLike) -> float:
    """|a - n|_F / (|a|_F + |n|_F), in [0, 1]; 0.0 when both are zero, inf if either is not finite.

    Symmetric and scale-free: a sign flip gives 1, a factor c gives |1 - c| / (1 + |c|).
    """
    a, n = _float_array(a, "a"), _float_array(n, "n")
    if a.shape != n.shape:
        raise ValueError(f"cannot compare shapes {a.shape} and {n.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(n))):
        return float("inf")
    largest = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(n), initial=0.0)))
    if largest == 0.0:
        return 0.0
    # The ratio is scale-free; dividing by the largest entry first keeps the squares inside the
    # norms from underflowing (entries ~1e-160) or overflowing (~1e160).
    a, n = a / largest, n / largest
    return float(np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n)))


# --- element-wise check ---------------------------------------------------------------------------

@dataclass(frozen=True)
class TensorCheckResult:
    """One tensor's analytic gradient against its finite-difference gradient.

    `worst_index` is the element with the largest |analytic - numerical| (None when the shapes
    differ); `message` says in words why the tensor failed ("" when it passed).
    """

    name: str
    error: float
    passed: bool
    worst_index: Optional[tuple[int, ...]] = None
    message: str = ""
    analytic: Optional[np.ndarray] = field(default=None, compare=False, repr=False)
    numerical: Optional[np.ndarray] = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class GradCheckResult:
    """The outcome of `check_gradient`: one `TensorCheckResult` per tensor, in the order of xs."""

    tensors: tuple[TensorCheckResult, ...]
    tol: float

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.tensors)

    @property
    def errors(self) -> tuple[float, ...]:
        return tuple(t.error for t in self.tensors)

    @property
    def worst(self) -> TensorCheckResult:
        """The tensor with the largest error (the first one on ties)."""
        return max(self.tensors, key=lambda t: t.error)

    @property
    def worst_index(self) -> Optional[tuple[int, ...]]:
        return self.worst.worst_index


def check_gradient(f: ScalarFunction, xs: Sequence[ArrayLike], grads: Sequence[ArrayLike],
                   eps: float = 1e-6, tol: float = 1e-6, upstream: Optional[ArrayLike] = None, *,
                   atol: float = 1e-8, names: Optional[Sequence[str]] = None) -> GradCheckResult:
    """Check grads[k] = dL/dxs[k] for every k, element by element (2 calls of f per element).

    L = f(*xs), or sum(upstream * f(*xs)) when `upstream` is given (then grads are the
    vector-Jacobian products). A tensor passes when relative_error(grad, numerical) <= tol, or
    when |grad - numerical|_F <= atol: finite-difference noise (~1e-10 |L| per element) would
    otherwise fail a gradient that is truly ~0. A grad of the wrong shape fails with error inf.
    """
    _positive(tol, "tol")
    arrays, analytic, labels = _checked_inputs(xs, grads, names)
    loss = f if upstream is None else vector_function_to_scalar(f, upstream)
    results = []
    for k, (x, g, name) in enumerate(zip(arrays, analytic, labels)):
        if g.shape != x.shape:
            results.append(_wrong_shape(name, g.shape, x.shape))
            continue
        numerical = numerical_gradient(_vary_one(loss, arrays, k), x, eps)
        results.append(_compare(name, g, numerical, tol, atol))
    return GradCheckResult(tuple(results), tol)


def _compare(name: str, g: np.ndarray, numerical: np.ndarray, tol: float, atol: float) -> TensorCheckResult:
    error = relative_error(g, numerical)
    # nan counts as the largest difference, so the worst element points at it.
    difference = np.nan_to_num(np.abs(g - numerical), nan=np.inf)
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(difference), g.shape)) if g.size else ()
    if not np.all(np.isfinite(g)):
        message = f"{name}: the gradient holds nan or inf, first at {worst}"
        return TensorCheckResult(name, error, False, worst, message, g, numerical)
    if not np.all(np.isfinite(numerical)):
        message = f"{name}: f is not finite around xs (finite differences give nan or inf at {worst})"
        return TensorCheckResult(name, error, False, worst, message, g, numerical)
    passed = error <= tol or float(np.linalg.norm(g - numerical)) <= atol
    message = "" if passed else (
        f"{name}: relative error {error:.3g} > {tol:g}; worst element {worst}: "
        f"{g[worst]:.6g} where finite differences give {numerical[worst]:.6g}")
    return TensorCheckResult(name, error, passed, worst, message, g, numerical)


def _wrong_shape(name: str, got: tuple[int, ...], expected: tuple[int, ...]) -> TensorCheckResult:
    return TensorCheckResult(name, float("inf"), False, None, _shape_message(name, got, expected))


def _shape_message(name: str, got: tuple[int, ...], expected: tuple[int, ...]) -> str:
    hint = " (the transpose)" if len(got) == 2 and got == expected[::-1] else ""
    return f"{name}: gradient has shape {got}{hint}; expected {expected}"


# --- directional check ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ProjectionCheckResult:
    """Projections <grad, d> against (f(x + eps d) - f(x - eps d)) / (2 eps), one per direction.

    `name` is a tensor's name, or "all" for directions that move every tensor at once.
    """

    name: str
    error: float
    passed: bool
    analytic: tuple[float, ...] = ()
    numerical: tuple[float, ...] = ()
    message: str = ""


@dataclass(frozen=True)
class DirectionalCheckResult:
    """The outcome of `check_directional`: per tensor (so a failure names it) and all together."""

    tensors: tuple[ProjectionCheckResult, ...]
    overall: ProjectionCheckResult
    tol: float

    @property
    def passed(self) -> bool:
        return self.overall.passed and all(t.passed for t in self.tensors)

    @property
    def errors(self) -> tuple[float, ...]:
        return tuple(t.error for t in self.tensors)

    @property
    def worst(self) -> ProjectionCheckResult:
        """The tensor with the largest error (the first one on ties)."""
        return max(self.tensors, key=lambda t: t.error)


def check_directional(f: ScalarFunction, xs: Sequence[ArrayLike], grads: Sequence[ArrayLike],
                      n_directions: int = 4, rng: Union[np.random.Generator, int, None] = None,
                      tol: float = 1e-6, eps: float = 1e-6, upstream: Optional[ArrayLike] = None, *,
                      atol: float = 1e-8, names: Optional[Sequence[str]] = None) -> DirectionalCheckResult:
    """Check grads on `n_directions` random Gaussian directions d ~ N(0, I).

    For each tensor k alone: <grads[k], d> against the directional derivative along d (other
    tensors still), so a wrong tensor is named. Then along directions moving every tensor:
    sum_k <grads[k], d_k>. Each compares the vector of n_directions projections with
    `relative_error`, passing under the same rule as `check_gradient`. Costs
    2 * n_directions * (len(xs) + 1) calls of f. `rng` is a Generator or a seed (None: seed 0).
    """
    _positive(tol, "tol")
    if not isinstance(n_directions, (int, np.integer)) or n_directions < 1:
        raise ValueError(f"n_directions must be a positive integer; got {n_directions!r}")
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(0 if rng is None else rng)
    arrays, analytic, labels = _checked_inputs(xs, grads, names)
    loss = f if upstream is None else vector_function_to_scalar(f, upstream)

    def project(name: str, moving: Sequence[int]) -> ProjectionCheckResult:
        wrong = [k for k in moving if analytic[k].shape != arrays[k].shape]
        if wrong:
            k = wrong[0]
            message = _shape_message(labels[k], analytic[k].shape, arrays[k].shape)
            return ProjectionCheckResult(name, float("inf"), False, message=message)
        a, n = [], []
        for _ in range(n_directions):
            directions = [rng.standard_normal(x.shape) if k in moving else None
                          for k, x in enumerate(arrays)]
            a.append(sum(float(np.sum(analytic[k] * directions[k])) for k in moving))
            n.append(directional_derivative(loss, arrays, directions, eps))
        error = relative_error(a, n)
        passed = error <= tol or float(np.linalg.norm(np.subtract(a, n))) <= atol
        message = "" if passed else (
            f"{name}: relative error {error:.3g} > {tol:g} along random directions; projections "
            f"{np.round(a, 6).tolist()} where finite differences give {np.round(n, 6).tolist()}")
        return ProjectionCheckResult(name, error, passed, tuple(a), tuple(n), message)

    tensors = tuple(project(labels[k], [k]) for k in range(len(arrays)))
    overall = project("all", list(range(len(arrays))))
    return DirectionalCheckResult(tensors, overall, tol)


# --- helpers for vector-valued functions and kinks ------------------------------------------------

def vector_function_to_scalar(f: Callable[..., ArrayLike], upstream: ArrayLike) -> Callable[..., float]:
    """L(*xs) = sum(upstream * f(*xs)): dL/dx is the vector-Jacobian product upstream^T J.

    With a random upstream (any shape equal to f's output) every Jacobian entry contributes,
    which a plain sum (upstream of ones) would not guarantee.
    """
    u = _float_array(upstream, "upstream").copy()

    def scalar(*xs: ArrayLike) -> float:
        out = _float_array(f(*xs), "f's output")
        if out.shape != u.shape:
            raise ValueError(f"f returned shape {out.shape}; the upstream gradient has shape {u.shape}")
        return float(np.sum(u * out))

    return scalar


def near_kink(x: ArrayLike, kinks: Sequence[float] = (0.0,), eps: float = 1e-6) -> np.ndarray:
    """Boolean mask, shape of x: True where |x - k| <= eps for a kink k (a step of eps reaches it).

    ReLU has its kink at z = 0; MAE at y_hat = y (pass y_hat - y).
    """
    x = _float_array(x, "x")
    mask = np.zeros(x.shape, dtype=bool)
    for k in kinks:
        mask |= np.abs(x - k) <= eps
    return mask


def away_from_kinks(x: ArrayLike, margin: float = 1e-3, kinks: Sequence[float] = (0.0,)) -> np.ndarray:
    """A copy of x with every element closer than `margin` to a kink moved to exactly k +- margin.

    Elements keep their side of the kink (one exactly on it goes to k + margin); the rest are
    unchanged. Choose margin well above the finite-difference step times the direction size.
    For MAE: y + away_from_kinks(y_hat - y, margin).
    """
    _positive(margin, "margin")
    points = sorted(float(k) for k in kinks)
    if any(b - a < 2 * margin for a, b in zip(points, points[1:])):
        raise ValueError(f"kinks {points} are closer than 2 * margin = {2 * margin:g}; "
                         f"use a smaller margin")
    moved = _float_array(x, "x").copy()
    for k in points:
        close = np.abs(moved - k) < margin
        moved[close] = np.where(moved[close] >= k, k + margin, k - margin)
    return moved


# --- private --------------------------------------------------------------------------------------

def _float_array(x: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of real numbers; got {type(x).__name__}") from error


def _scalar(value: Any) -> float:
    array = _float_array(value, "f's value")
    if array.size != 1:
        raise TypeError(f"f must return a scalar loss; it returned shape {array.shape} "
                        f"(wrap a vector-valued f with vector_function_to_scalar)")
    return float(array.reshape(()))


def _positive(value: float, name: str) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be positive; got {value!r}")


def _arrays(xs: Sequence[ArrayLike], name: str) -> list[np.ndarray]:
    """Private float64 copies, so that f never receives (and cannot change) the caller's arrays."""
    if isinstance(xs, np.ndarray):
        raise TypeError(f"{name} must be a list of arrays; wrap a single array as [{name[:-1]}]")
    return [_float_array(x, f"{name}[{k}]").copy() for k, x in enumerate(xs)]


def _checked_inputs(xs: Sequence[ArrayLike], grads: Sequence[ArrayLike],
                    names: Optional[Sequence[str]]) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    arrays, analytic = _arrays(xs, "xs"), _arrays(grads, "grads")
    if not arrays:
        raise ValueError("xs is empty: pass the tensors to check, e.g. [W, b]")
    if len(analytic) != len(arrays):
        raise ValueError(f"need one gradient per tensor: {len(arrays)} tensors, {len(analytic)} gradients")
    labels = [f"xs[{k}]" for k in range(len(arrays))] if names is None else [str(n) for n in names]
    if len(labels) != len(arrays):
        raise ValueError(f"need one name per tensor: {len(arrays)} tensors, {len(labels)} names")
    return arrays, analytic, labels


def _vary_one(f: ScalarFunction, arrays: list[np.ndarray], k: int) -> Callable[[np.ndarray], Any]:
    """f as a function of its k-th argument alone, the others held at their values."""
    return lambda x: f(*arrays[:k], x, *arrays[k + 1:])
