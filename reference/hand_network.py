"""The lecture's worked examples, computed exactly and rounded at each step as by hand.

- `forward_backward_221`: the 2-2-1 network (sigmoid hidden and output units, BCE, no biases).
- `forward_backward_221_rounded`: the same chain rounded to 3 decimals at every step, as a
  student works it by hand; `backward_221_rounded` is its backward half from given h and y_hat.
- `LECTURE_CASE`, `LECTURE_PRINTED`: the lecture's inputs and the numbers it prints.
- `sigmoid_trace`: the five-step graph of L = sigmoid(w x + b) and its backward trace.
- `squared_error_trace`: the graph of L = (w x + b - y)^2; with y = 0 it is the PyTorch snippet.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any, NamedTuple, Union

import numpy as np

from reference.activations import sigmoid


class HandCase(NamedTuple):
    """Inputs of the 2-2-1 network: x (2,), V (2, 2) with V[i, j] = v_ij, w (2,), label y (0 or 1)."""

    x: np.ndarray
    V: np.ndarray
    w: np.ndarray
    y: int


def _constant(values: Any) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)  # a module constant must not be changed by a caller
    return array


# The lecture's hand calculation: x = (0.5, 1.0), every v_ij = 0.5, w = (1, 1), y = 1.
LECTURE_CASE = HandCase(x=_constant([0.5, 1.0]), V=_constant([[0.5, 0.5], [0.5, 0.5]]),
                        w=_constant([1.0, 1.0]), y=1)

# The numbers the lecture prints for LECTURE_CASE (same keys as `forward_backward_221`), for
# feedback and for spotting answers copied from the slides. They are the chain rounded at each
# step except y_hat: the lecture rounds sigmoid(1.358) = 0.79543 (exactly 0.79549) up to 0.796
# and carries 0.796 on, so loss, delta_out, delta_hidden and grad_V are `backward_221_rounded`
# from y_hat = 0.796, each one unit of the third decimal from `forward_backward_221_rounded`.
LECTURE_PRINTED = MappingProxyType({
    "z": _constant([0.75, 0.75]), "h": _constant([0.679, 0.679]), "z_out": 1.358, "y_hat": 0.796,
    "loss": 0.228, "delta_out": -0.204, "grad_w": _constant([-0.139, -0.139]),
    "delta_hidden": _constant([-0.044, -0.044]), "grad_V": _constant([[-0.022, -0.022], [-0.044, -0.044]]),
})

# The lecture's PyTorch snippet: z = w * x + b, loss = z**2, so w.grad = 2 z x = 5.0.
# It is `squared_error_trace` with y = 0.
PYTORCH_SNIPPET_CASE = MappingProxyType({"w": 2.0, "x": 1.0, "b": 0.5, "y": 0.0})


def forward_backward_221(x: np.ndarray, V: np.ndarray, w: np.ndarray, y: int) -> dict[str, Any]:
    """Forward and backward pass of the lecture's network, exactly (no rounding).

    z_j = sum_i v_ij x_i (z = x @ V, shape (2,)), h = sigmoid(z), z_out = w . h,
    y_hat = sigmoid(z_out), loss = -[y log y_hat + (1 - y) log(1 - y_hat)],
    delta_out = y_hat - y, grad_w = delta_out * h (2,),
    delta_hidden_j = delta_out * w_j * h_j (1 - h_j) (2,), grad_V[i, j] = delta_j * x_i (2, 2).
    Vectors are float64 arrays, scalars Python floats.
    """
    x, V, w, y = _check_case(x, V, w, y)
    z = x @ V
    h = sigmoid(z)
    z_out = float(h @ w)
    y_hat = float(sigmoid(z_out))
    delta_out = y_hat - y
    delta_hidden = delta_out * w * h * (1.0 - h)
    return {
        "z": z, "h": h, "z_out": z_out, "y_hat": y_hat,
        "loss": _bce_from_logit(z_out, y),
        "delta_out": delta_out,
        "grad_w": delta_out * h,
        "delta_hidden": delta_hidden,
        "grad_V": np.outer(x, delta_hidden),
    }


def forward_backward_221_rounded(x: np.ndarray, V: np.ndarray, w: np.ndarray, y: int,
                                 decimals: int = 3) -> dict[str, Any]:
    """The same chain as `forward_backward_221`, rounded to `decimals` at each step as by hand.

    Each value is computed from the rounded values before it: h from the rounded z, z_out from
    the rounded h, the loss from the rounded y_hat, sigma'(z_j) = round(h_j (1 - h_j)), and so on.
    Ties round away from zero (0.3395 -> 0.340), as people do.

    The lecture's case gives z = 0.75, h = 0.679, z_out = 1.358 as printed, then
    y_hat = round(sigmoid(1.358) = 0.79543) = 0.795 where the lecture prints 0.796 (it rounded
    0.7955, i.e. sigmoid(1.3584), up). From there each printed number is one unit of the third
    decimal away: loss 0.229, delta_out -0.205, grad_w -0.139, delta_hidden -0.045,
    grad_V = (-0.023, -0.023; -0.045, -0.045). `LECTURE_PRINTED` holds the printed numbers.
    """
    x, V, w, y = _check_case(x, V, w, y)

    def step(value: Any) -> Any:
        return round_half_up(value, decimals)

    z = step(x @ V)
    h = step(sigmoid(z))
    z_out = step(h @ w)
    y_hat = step(sigmoid(z_out))
    return {"z": z, "h": h, "z_out": z_out, "y_hat": y_hat,
            **backward_221_rounded(x, w, h, y_hat, y, decimals)}


def backward_221_rounded(x: np.ndarray, w: np.ndarray, h: np.ndarray, y_hat: float, y: int,
                         decimals: int = 3) -> dict[str, Any]:
    """The loss and backward pass of the 2-2-1 network from given (hand-rounded) h and y_hat.

    loss = -log y_hat (y = 1) or -log(1 - y_hat) (y = 0), delta_out = y_hat - y,
    grad_w = delta_out * h, sigma'(z_j) = h_j (1 - h_j), delta_hidden = delta_out * w * sigma',
    grad_V[i, j] = delta_hidden_j * x_i; each rounded to `decimals` as soon as it is computed.
    Marks a backward pass worked from a student's own forward numbers (errors carried forward).
    """
    x, w, h = (np.asarray(array, dtype=np.float64) for array in (x, w, h))
    _check_case(x, np.zeros((x.shape[0], w.shape[0])), w, y)
    if h.shape != w.shape:
        raise ValueError(f"h must have the shape of w {w.shape}, got {h.shape}")
    if not 0.0 < y_hat < 1.0:
        raise ValueError(f"y_hat is a sigmoid output and must lie strictly between 0 and 1, got {y_hat}")

    def step(value: Any) -> Any:
        return round_half_up(value, decimals)

    delta_out = step(y_hat - y)
    sigmoid_slope = step(h * (1.0 - h))
    delta_hidden = step(delta_out * w * sigmoid_slope)
    return {
        "loss": step(-math.log(y_hat) if y == 1 else -math.log(1.0 - y_hat)),
        "delta_out": delta_out,
        "grad_w": step(delta_out * h),
        "delta_hidden": delta_hidden,
        "grad_V": step(np.outer(x, delta_hidden)),
    }


def sigmoid_trace(w: float, x: float, b: float) -> dict[str, float]:
    """The lecture's five steps for L = sigmoid(w x + b), forward then backward from dL/dL = 1.

    Forward: z1 = w x, z2 = z1 + b, z3 = -z2, z4 = exp(z3), L = 1 / (1 + z4).
    Backward: dL/dz4 = -L^2, dL/dz3 = -L^2 z4, dL/dz2 = L^2 z4, dL/db = L^2 z4, dL/dw = L^2 z4 x.
    Plain floats; exp overflows (OverflowError) for w x + b below about -709.
    """
    w, x, b = float(w), float(x), float(b)
    z1 = w * x
    z2 = z1 + b
    z3 = -z2
    z4 = math.exp(z3)
    L = 1.0 / (1.0 + z4)
    dL_dz4 = -(L ** 2)  # d/dz4 of 1 / (1 + z4)
    dL_dz3 = dL_dz4 * z4  # d exp(z3) / dz3 = exp(z3) = z4
    dL_dz2 = dL_dz3 * -1.0
    return {"z1": z1, "z2": z2, "z3": z3, "z4": z4, "L": L,
            "dL_dz4": dL_dz4, "dL_dz3": dL_dz3, "dL_dz2": dL_dz2,
            "dL_db": dL_dz2 * 1.0, "dL_dw": dL_dz2 * x}


def squared_error_trace(w: float, x: float, b: float, y: float) -> dict[str, float]:
    """The lecture's graph for L = (w x + b - y)^2, forward then backward.

    Forward: z1 = w x, z2 = z1 + b, z3 = z2 - y, L = z3^2.
    Backward: dL/dz3 = 2 z3, dL/dz2 = dL/dz3 * 1, dL/dz1 = dL/dz2 * 1, dL/db = dL/dz2 * 1,
    dL/dw = dL/dz1 * x.
    """
    w, x, b, y = float(w), float(x), float(b), float(y)
    z1 = w * x
    z2 = z1 + b
    z3 = z2 - y
    dL_dz3 = 2.0 * z3
    return {"z1": z1, "z2": z2, "z3": z3, "L": z3 ** 2,
            "dL_dz3": dL_dz3, "dL_dz2": dL_dz3, "dL_dz1": dL_dz3, "dL_db": dL_dz3, "dL_dw": dL_dz3 * x}


def round_half_up(value: Union[float, np.ndarray], decimals: int = 3) -> Union[float, np.ndarray]:
    """Round like a hand calculation: on the decimal digits, ties away from zero.

    np.round rounds ties to even and sees 0.3395 as 0.33949999..., so it would give 0.339;
    this gives 0.340. Scalars come back as floats, arrays as float64 arrays of the same shape.
    """
    quantum = Decimal(1).scaleb(-decimals)

    def one(number: float) -> float:
        if not math.isfinite(number):
            return number
        # Rounding to 12 places first drops binary noise (0.33949999999999997 -> 0.3395).
        digits = Decimal(repr(round(number, 12)))
        return float(digits.quantize(quantum, rounding=ROUND_HALF_UP))

    array = np.asarray(value, dtype=np.float64)
    rounded = np.vectorize(one, otypes=[np.float64])(array)
    return float(rounded) if array.ndim == 0 else rounded


def _bce_from_logit(z: float, y: int) -> float:
    """-[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))], written with logaddexp so it stays finite."""
    return float(np.logaddexp(0.0, -z) if y == 1 else np.logaddexp(0.0, z))


def _check_case(x: Any, V: Any, w: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    x, V, w = (np.asarray(array, dtype=np.float64) for array in (x, V, w))
    if x.ndim != 1 or V.ndim != 2 or w.ndim != 1 or V.shape != (x.shape[0], w.shape[0]):
        raise ValueError("expected x (n_in,), V (n_in, n_hidden) and w (n_hidden,), e.g. (2,), (2, 2), (2,); "
                         f"got x {x.shape}, V {V.shape}, w {w.shape}")
    if y not in (0, 1):
        raise ValueError(f"y is the true label and must be 0 or 1, got {y!r}")
    return x, V, w, int(y)
