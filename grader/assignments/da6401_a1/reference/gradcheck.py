"""Central differences and the norm-relative error the `da6401-a1` gradient checks use.

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2 h)        error O(h^2); h = 1e-6 in float64

The error between two tensors is norm-relative, |a - b| / max(|a| + |b|, tiny) with Frobenius
norms, one number per tensor: near-zero entries then cannot make a right gradient fail, as a
largest-elementwise relative error would.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

# Below this the two norms are both zero for every practical purpose, and the error is 0.
_TINY = 1e-300


def central_difference(f: Callable[[np.ndarray], float], x: ArrayLike, h: float = 1e-6) -> np.ndarray:
    """The gradient of the scalar f at x by central differences, x's shape; x itself is never written.

    Each element of a private copy is moved by +-h in turn (2 * x.size calls of f) and put back.
    """
    work = np.array(x, dtype=np.float64, copy=True)
    flat = work.reshape(-1)  # a view: writing flat[i] moves work
    grad = np.empty(flat.size, dtype=np.float64)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + h
        plus = float(f(work))
        flat[i] = original - h
        minus = float(f(work))
        flat[i] = original
        grad[i] = (plus - minus) / (2.0 * h)
    return grad.reshape(work.shape)


def relative_error(a: ArrayLike, b: ArrayLike) -> float:
    """|a - b| / (|a| + |b|) with Frobenius norms; 0 when both are 0. Shapes must agree."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale < _TINY else float(np.linalg.norm(a - b) / scale)
