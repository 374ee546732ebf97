"""Mistaken variants: what an answer would be if it made exactly one known mistake.

Comparing the student's answer with each variant names the mistake when one matches (within a
tolerance) and the variant itself differs from the right answer. Variants of elementwise
functions, of the hand-worked 2-2-1 network and of cross-entropy are computed here from the
inputs alone; variants of a whole MLP are the reference's forward and backward with one step
changed, so they need the reference package (absent from the student release: then there are
none, and nothing is named from them).
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

import numpy as np

from grader.checks.compare import relative_error, to_array

Variant = tuple[str, np.ndarray]  # (diagnosis code, the answer that mistake gives)


def sigmoid(z: Any) -> np.ndarray:
    """1 / (1 + exp(-z)) without overflow, for any z."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def softmax_over(z: Any, axis: Optional[int]) -> np.ndarray:
    """exp(z) normalised over `axis` (None: the whole array), with the maximum subtracted first."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def matching_variant(got: Any, variants: Iterable[Variant], tol: float,
                     right: Optional[Any] = None) -> Optional[str]:
    """The code of the first variant `got` equals, or None.

    Equal: the same shape, inf and nan in the same places (a slip reproduces them exactly), and
    norm-relative error <= tol over the finite rest, of which there must be some. A variant
    equal to `right` (when given) is skipped: it shows no mistake.
    """
    arr = to_array(got)
    if arr is None:
        return None
    finite = np.isfinite(arr)
    if not finite.any():
        return None
    want = None if right is None else to_array(right)
    for code, variant in variants:
        variant = np.asarray(variant, dtype=np.float64)
        if variant.shape != arr.shape or not np.array_equal(np.isfinite(variant), finite):
            continue
        if not np.array_equal(arr[~finite], variant[~finite], equal_nan=True):
            continue
        if want is not None and want.shape == variant.shape and finite.all() and relative_error(variant, want) <= tol:
            continue
        if relative_error(arr[finite], variant[finite]) <= tol:
            return code
    return None


# Exercise 1: the derivatives and softmax, from the input alone.

def derivative_variants(name: str, z: Any) -> list[Variant]:
    """What a known slip in `name(z)` (relu_grad, sigmoid_grad, tanh_grad, softmax) returns."""
    z = np.asarray(z, dtype=np.float64)
    if name == "relu_grad":
        return [("relu_derivative_constant", np.ones_like(z)),
                ("activation_instead_of_derivative", np.maximum(z, 0.0))]
    if name == "sigmoid_grad":
        s = sigmoid(z)
        return [("derivative_of_wrong_input", z * (1.0 - z)),  # the A-form A (1 - A) at z
                ("derivative_of_wrong_input", sigmoid(s) * (1.0 - sigmoid(s))),  # sigma' of sigma(z)
                ("activation_instead_of_derivative", s)]
    if name == "tanh_grad":
        t = np.tanh(z)
        return [("derivative_of_wrong_input", 1.0 - z ** 2),
                ("derivative_of_wrong_input", 1.0 - np.tanh(t) ** 2),
                ("activation_instead_of_derivative", t)]
    if name == "softmax":
        return softmax_variants(z)
    return []


def shifted_softmax(z: Any, shift_axis: Optional[int], norm_axis: Optional[int]) -> np.ndarray:
    """exp(z - max over `shift_axis`) normalised over `norm_axis` (None: the whole array).

    With both axes -1 this is softmax; the other pairs are the axis slips: normalising over the
    wrong axis, or subtracting a maximum that is not constant along the normalised axis.
    """
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z - np.max(z, axis=shift_axis, keepdims=True))
        return e / np.sum(e, axis=norm_axis, keepdims=True)


def softmax_variants(z: Any) -> list[Variant]:
    """softmax with an axis slip: normalised over an axis but the last or the whole array (after
    the matching or the last axis's maximum), or after another axis's maximum."""
    z = np.asarray(z, dtype=np.float64)
    if z.ndim < 2:
        return []
    last = z.ndim - 1
    wrong: list[Optional[int]] = [*range(last), None]
    # A maximum taken over the whole array is constant along every axis: no slip there.
    pairs = [(axis, axis) for axis in wrong] + [(last, axis) for axis in wrong] + [(axis, last) for axis in range(last)]
    return [("softmax_wrong_axis", shifted_softmax(z, shift, norm)) for shift, norm in pairs]


# Exercises 4 and 5: one operation's local derivative d out / d x, as each slip computes it.

def local_derivative_variants(op: str, x: Any) -> list[Variant]:
    """d op(x) / d x for op sigmoid, tanh or relu, as each known mistake computes it."""
    x = np.asarray(x, dtype=np.float64)
    ones = np.ones_like(x)
    if op == "sigmoid":
        s = sigmoid(x)
        return [("derivative_of_wrong_input", x * (1.0 - x)),
                ("derivative_of_wrong_input", sigmoid(s) * (1.0 - sigmoid(s))),
                ("activation_instead_of_derivative", s), ("missing_activation_derivative", ones)]
    if op == "tanh":
        t = np.tanh(x)
        return [("derivative_of_wrong_input", 1.0 - x ** 2),
                ("derivative_of_wrong_input", 1.0 - np.tanh(t) ** 2),
                ("activation_instead_of_derivative", t), ("missing_activation_derivative", ones)]
    if op == "relu":
        return [("relu_derivative_constant", ones), ("activation_instead_of_derivative", np.maximum(x, 0.0))]
    return []


# Exercise 5: cross-entropy whose softmax is normalised over the wrong axis.

def cross_entropy_variants(logits: Any, target: Any) -> list[Variant]:
    """-(1/B) sum y log softmax(z) with each of softmax's axis slips (`softmax_variants`), as 0-d arrays."""
    z, y = np.asarray(logits, dtype=np.float64), np.asarray(target, dtype=np.float64)
    if z.ndim != 2 or z.shape != y.shape:
        return []
    variants = []
    for code, probabilities in softmax_variants(z):
        with np.errstate(divide="ignore", invalid="ignore"):
            variants.append((code, np.array(-np.sum(y * np.log(probabilities)) / z.shape[0])))
    return variants


# Exercise 2: the 2-2-1 network's hidden deltas with sigma'(z_j) replaced.

def hand_backward_variants(x: Any, w: Any, chain: Mapping[str, Any]) -> list[tuple[str, dict[str, np.ndarray]]]:
    """delta_hidden and grad_V as each slip in sigma'(z_j) makes them, from the right chain's z, h, delta_out.

    Right: delta_j = delta_out w_j h_j (1 - h_j), grad_V[i, j] = x_i delta_j.
    """
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    z, h = np.asarray(chain["z"], dtype=np.float64), np.asarray(chain["h"], dtype=np.float64)
    delta_out = float(np.asarray(chain["delta_out"]))
    factors = [("missing_activation_derivative", np.ones_like(h)),
               ("activation_instead_of_derivative", h),
               ("derivative_of_wrong_input", sigmoid(h) * (1.0 - sigmoid(h))),  # sigma'(h)
               ("derivative_of_wrong_input", z * (1.0 - z))]  # the h-form on z
    variants = []
    for code, factor in factors:
        delta_hidden = delta_out * w * factor
        variants.append((code, {"delta_hidden": delta_hidden, "grad_V": np.outer(x, delta_hidden)}))
    return variants


# Exercise 3: the reference MLP with one step changed.

FactorFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


def reference_available() -> bool:
    """True where the reference package can be imported (the instructor's tree, not the release)."""
    try:
        importlib.import_module("reference")  # the package itself: its submodules may be cached alone
        importlib.import_module("reference.mlp")
    except ImportError:
        return False
    return True


def hidden_factor_mistakes(hidden: str) -> list[tuple[str, FactorFunction]]:
    """(code, factor(Z, A)) standing in for act'(Z_l) in the hidden deltas, as each slip computes it.

    relu_derivative_constant comes before missing_activation_derivative: for ReLU the two are
    the same numbers, and the more specific name helps more.
    """
    from reference.activations import ACTIVATIONS

    activation, derivative = ACTIVATIONS[hidden]
    factors: list[tuple[str, FactorFunction]] = []
    if hidden == "relu":
        factors.append(("relu_derivative_constant", lambda Z, A: np.ones_like(Z)))
    factors += [
        ("missing_activation_derivative", lambda Z, A: np.ones_like(Z)),
        ("activation_instead_of_derivative", lambda Z, A: A),
        ("derivative_of_wrong_input", lambda Z, A: derivative(A)),
    ]
    # The reverse slip: a derivative written for A (A (1 - A), 1 - A^2) evaluated at Z.
    if hidden == "sigmoid":
        factors.append(("derivative_of_wrong_input", lambda Z, A: Z * (1.0 - Z)))
    if hidden == "tanh":
        factors.append(("derivative_of_wrong_input", lambda Z, A: 1.0 - Z ** 2))
    return factors


def mlp_backward_variants(params: Sequence[tuple[np.ndarray, np.ndarray]], X: np.ndarray, Y: np.ndarray,
                          hidden: str, output: str, loss: str) -> list[tuple[str, list[np.ndarray]]]:
    """The reference's gradients [dW_1, db_1, ...] with act'(Z_l) replaced as each slip does.

    Variants equal to the right gradients (identity hidden units, a single layer) are left out.
    Needs the reference package: call only where `reference_available()`.
    """
    from reference import mlp

    _, cache = mlp.forward(list(params), X, hidden=hidden, output=output)
    Z, A = cache.pre_activations, cache.activations
    right = [t for pair in mlp.backward(list(params), cache, Y, loss=loss) for t in pair]
    variants = []
    for code, factor in hidden_factor_mistakes(hidden):
        delta = mlp.output_delta(output, loss, Z[-1], A[-1], np.asarray(Y, dtype=np.float64))
        grads: list[tuple[np.ndarray, np.ndarray]] = []
        for layer in range(len(params) - 1, -1, -1):
            grads.append((A[layer].T @ delta, delta.sum(axis=0)))
            if layer > 0:
                delta = (delta @ np.asarray(params[layer][0]).T) * factor(Z[layer - 1], A[layer])
        flat = [t for pair in grads[::-1] for t in pair]
        if not all(relative_error(v, r) <= 1e-12 for v, r in zip(flat, right)):
            variants.append((code, flat))
    return variants


def mlp_forward_variants(params: Sequence[tuple[np.ndarray, np.ndarray]], X: np.ndarray,
                         hidden: str, output: str) -> list[Variant]:
    """The reference's Y_hat with one slip: an activation applied twice, softmax over the wrong axis.

    Needs the reference package: call only where `reference_available()`.
    """
    from reference import mlp
    from reference.activations import ACTIVATIONS, softmax

    right, cache = mlp.forward(list(params), X, hidden=hidden, output=output)
    Z = cache.pre_activations
    act = {name: functions[0] for name, functions in ACTIVATIONS.items()}
    act["softmax"] = softmax
    variants: list[Variant] = [
        ("activation_applied_twice", act[output](act[hidden](Z[-1]))),  # hidden, then output on top
        ("activation_applied_twice", act[output](act[output](Z[-1]))),
    ]
    if len(params) > 1:  # a hidden activation applied twice in every hidden layer
        A = np.asarray(X, dtype=np.float64)
        for index, (W, b) in enumerate(params):
            Zl = A @ W + b
            A = act[output](Zl) if index == len(params) - 1 else act[hidden](act[hidden](Zl))
        variants.append(("activation_applied_twice", A))
    if output == "softmax":
        variants += softmax_variants(Z[-1])
    return [(code, v) for code, v in variants
            if v.shape == right.shape and not (np.all(np.isfinite(v)) and relative_error(v, right) <= 1e-12)]


def close_to(a: Any, b: Any, tol: float) -> bool:
    """Finite, same shape, norm-relative error within `tol`."""
    x, y = to_array(a), to_array(b)
    return (x is not None and y is not None and x.shape == y.shape and bool(np.all(np.isfinite(x)))
            and relative_error(x, y) <= tol)


def matching_gradients(tensors: Sequence[np.ndarray], variants: Iterable[tuple[str, Sequence[np.ndarray]]],
                       tol: float) -> Optional[str]:
    """The code of the first list of gradient variants every tensor of `tensors` matches, or None."""
    for code, variant in variants:
        if len(variant) == len(tensors) and all(close_to(t, v, tol) for t, v in zip(tensors, variant)):
            return code
    return None

