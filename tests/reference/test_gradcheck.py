"""Tests for reference/gradcheck.py: it passes right gradients, fails wrong ones, and never
changes the caller's arrays."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from reference import gradcheck as gc

SETTINGS = settings(max_examples=40, deadline=None)

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def real_arrays(shape=shapes, bound: float = 3.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(-bound, bound, allow_nan=False))


# --- a small dense layer to check: L = sum(T * tanh(X @ W + b)) / B ----------------------------

B = 5


def make_layer(n_in: int, n_out: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X, W, b = rng.normal(size=(B, n_in)), rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
    T = rng.normal(size=(B, n_out))

    def loss(X, W, b):
        return float(np.sum(T * np.tanh(X @ W + b)) / B)

    G = T * (1 - np.tanh(X @ W + b) ** 2) / B  # dL/dZ
    grads = {"X": G @ W.T, "W": X.T @ G, "b": G.sum(axis=0)}
    return loss, [X, W, b], grads


def checked(grads: dict, **replace) -> list[np.ndarray]:
    return [replace.get(name, grads[name]) for name in ("X", "W", "b")]


NAMES = ("X", "W", "b")


def wrong_gradients(n_in: int, n_out: int) -> dict:
    """The mistakes a checker must catch, each applied to dW alone."""
    _, _, g = make_layer(n_in, n_out)
    one_off = g["W"].copy()
    one_off[1, 2] += 1e-3
    return {
        "sign flipped": -g["W"],
        "scaled by 1/B": g["W"] / B,
        "transposed": g["W"].T,
        "one wrong element": one_off,
    }


# --- numerical_gradient ------------------------------------------------------------------------

@SETTINGS
@given(x=real_arrays())
def test_numerical_gradient_of_known_functions(x):
    np.testing.assert_allclose(gc.numerical_gradient(lambda v: np.sum(v ** 2), x), 2 * x,
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gc.numerical_gradient(lambda v: np.sum(np.sin(v)), x), np.cos(x),
                               rtol=1e-6, atol=1e-8)


def test_numerical_gradient_divides_by_the_step_actually_taken():
    # 1e6 + 1e-6 is rounded to a multiple of 1.2e-10: dividing by 2e-6 would be off by ~1e-5.
    x = np.array([1e6 + 0.1, -3e5])
    np.testing.assert_allclose(gc.numerical_gradient(np.sum, x), [1.0, 1.0], rtol=1e-12)


def test_numerical_gradient_shape_and_calls():
    calls = []
    x = np.arange(6.0).reshape(2, 3)
    grad = gc.numerical_gradient(lambda v: calls.append(v.copy()) or float(v.sum()), x, eps=1e-3)
    assert grad.shape == (2, 3) and grad.dtype == np.float64
    assert len(calls) == 12  # two per element
    moved = [np.flatnonzero(c != x) for c in calls]
    assert all(len(m) == 1 for m in moved)  # one element at a time
    np.testing.assert_allclose(calls[0].ravel()[0] - x.ravel()[0], 1e-3)
    np.testing.assert_allclose(calls[1].ravel()[0] - x.ravel()[0], -1e-3)


def test_numerical_gradient_accepts_read_only_arrays_and_leaves_x_alone():
    x = np.linspace(-1, 1, 6).reshape(3, 2)
    before = x.copy()
    x.flags.writeable = False
    gc.numerical_gradient(lambda v: np.sum(v ** 3), x)
    np.testing.assert_array_equal(x, before)


def test_x_is_unchanged_and_the_work_copy_restored_when_f_raises():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    before = x.copy()
    seen = []

    def f(v):
        seen.append(v)  # keep the array f was given, to see it afterwards
        if len(seen) == 4:  # mid-way through the second element
            raise RuntimeError("boom")
        return float(np.sum(v))

    with pytest.raises(RuntimeError, match="boom"):
        gc.numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(seen[-1], before)  # the perturbed element was put back


def test_numerical_gradient_needs_a_scalar_function():
    with pytest.raises(TypeError, match="vector_function_to_scalar"):
        gc.numerical_gradient(lambda v: v * 2, np.ones(3))
    with pytest.raises(ValueError, match="eps"):
        gc.numerical_gradient(np.sum, np.ones(3), eps=0.0)


# --- directional_derivative --------------------------------------------------------------------

def test_directional_derivative_of_a_linear_function():
    rng = np.random.default_rng(1)
    A, C = rng.normal(size=(2, 3)), rng.normal(size=4)
    x, y = rng.normal(size=(2, 3)), rng.normal(size=4)
    d, e = rng.normal(size=(2, 3)), rng.normal(size=4)

    def f(x, y):
        return float(np.sum(A * x) + np.sum(C * y))

    expected = np.sum(A * d) + np.sum(C * e)
    assert gc.directional_derivative(f, [x, y], [d, e]) == pytest.approx(expected, rel=1e-8)
    assert gc.directional_derivative(f, [x, y], [d, None]) == pytest.approx(np.sum(A * d), rel=1e-8)
    assert gc.numerical_jvp is gc.directional_derivative


def test_directional_derivative_validates_directions():
    f = lambda x, y: float(np.sum(x) + np.sum(y))  # noqa: E731
    with pytest.raises(ValueError, match="one direction per tensor"):
        gc.directional_derivative(f, [np.ones(2), np.ones(3)], [np.ones(2)])
    with pytest.raises(ValueError, match=r"directions\[1\]"):
        gc.directional_derivative(f, [np.ones(2), np.ones(3)], [np.ones(2), np.ones(2)])
    with pytest.raises(TypeError, match="list of arrays"):
        gc.directional_derivative(np.sum, np.ones(3), [np.ones(3)])


# --- relative_error ----------------------------------------------------------------------------

# Magnitudes from 1e-100 up, so that scaling by c stays clear of subnormal rounding.
entries = st.just(0.0) | st.floats(1e-100, 1e3) | st.floats(-1e3, -1e-100)


@st.composite
def same_shape_pairs(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    return (draw(hnp.arrays(np.float64, shape, elements=entries)),
            draw(hnp.arrays(np.float64, shape, elements=entries)))


@SETTINGS
@given(pair=same_shape_pairs(), c=st.floats(1e-3, 1e3))
def test_relative_error_properties(pair, c):
    a, n = pair
    error = gc.relative_error(a, n)
    assert 0.0 <= error <= 1.0 + 1e-15
    assert error == gc.relative_error(n, a)
    assert gc.relative_error(a, a) == 0.0
    assert gc.relative_error(c * a, c * n) == pytest.approx(error, rel=1e-9, abs=1e-15)
    if np.any(a != 0):
        assert gc.relative_error(a, -a) == pytest.approx(1.0, rel=1e-15)
        assert gc.relative_error(a, np.zeros_like(a)) == 1.0
        # a factor c away: |1 - c| / (1 + c)
        assert gc.relative_error(a, c * a) == pytest.approx(abs(1 - c) / (1 + c), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("a, n, expected", [
    (np.zeros((2, 3)), np.zeros((2, 3)), 0.0),
    ([3.0, 0.0], [0.0, 4.0], 5.0 / 7.0),
    # Near-zero entries do not dominate: elementwise, the second pair is 100% apart.
    ([1e3, 1e-12], [1e3, 2e-12], 1e-15 / 2e3),
    ([1.0, np.nan], [1.0, 1.0], np.inf),
    ([1.0, 2.0], [np.inf, 2.0], np.inf),
    # Squares of these underflow or overflow inside a plain norm.
    ([1e-170, 0.0], [-1e-170, 0.0], 1.0),
    ([3e-320, 0.0], [0.0, 4e-320], 5.0 / 7.0),
    ([1e200, 1e200], [1e200, 3e200], 2 / (2 ** 0.5 + 10 ** 0.5)),
])
def test_relative_error_values(a, n, expected):
    assert gc.relative_error(a, n) == pytest.approx(expected, rel=1e-6)


def test_relative_error_needs_one_shape():
    with pytest.raises(ValueError, match="shapes"):
        gc.relative_error(np.ones((2, 3)), np.ones((3, 2)))


# --- check_gradient ----------------------------------------------------------------------------

@pytest.mark.parametrize("n_in, n_out", [(3, 4), (4, 4), (1, 2)])
def test_check_gradient_passes_correct_gradients(n_in, n_out):
    loss, xs, g = make_layer(n_in, n_out)
    result = gc.check_gradient(loss, xs, checked(g), names=NAMES)
    assert result.passed, [t.message for t in result.tensors]
    assert max(result.errors) < 1e-7
    assert [t.name for t in result.tensors] == list(NAMES)
    assert all(t.message == "" for t in result.tensors)


@pytest.mark.parametrize("n_in, n_out", [(4, 4), (3, 4)], ids=["square", "non-square"])
@pytest.mark.parametrize("mistake", ["sign flipped", "scaled by 1/B", "transposed", "one wrong element"])
def test_check_gradient_fails_wrong_gradients_and_names_the_tensor(mistake, n_in, n_out):
    loss, xs, g = make_layer(n_in, n_out)
    result = gc.check_gradient(loss, xs, checked(g, W=wrong_gradients(n_in, n_out)[mistake]), names=NAMES)
    assert not result.passed
    by_name = {t.name: t for t in result.tensors}
    assert by_name["X"].passed and by_name["b"].passed
    assert not by_name["W"].passed and by_name["W"].message.startswith("W:")
    assert result.worst.name == "W"
    if mistake == "one wrong element":
        assert result.worst_index == (1, 2)
    if mistake == "sign flipped":
        assert by_name["W"].error == pytest.approx(1.0, rel=1e-6)
    if mistake == "scaled by 1/B":
        np.testing.assert_allclose(by_name["W"].analytic, by_name["W"].numerical / B, rtol=1e-6)


def test_a_transposed_non_square_gradient_fails_on_its_shape():
    loss, xs, g = make_layer(3, 4)
    result = gc.check_gradient(loss, xs, checked(g, W=g["W"].T), names=NAMES)
    W = result.tensors[1]
    assert not W.passed and W.error == np.inf and W.worst_index is None
    assert "(4, 3) (the transpose)" in W.message and "expected (3, 4)" in W.message


def test_check_gradient_leaves_every_array_alone():
    loss, xs, g = make_layer(3, 2)
    grads = checked(g)
    before = [a.copy() for a in xs + grads]
    for array in xs + grads:
        array.flags.writeable = False
    gc.check_gradient(loss, xs, grads)
    gc.check_directional(loss, xs, grads)
    for array, copy in zip(xs + grads, before):
        np.testing.assert_array_equal(array, copy)


def test_check_gradient_with_an_upstream_gradient():
    """A vector-valued layer Y = tanh(X @ W): its VJP dW = X^T (U * (1 - Y^2)) for upstream U."""
    rng = np.random.default_rng(2)
    X, W, U = rng.normal(size=(B, 3)), rng.normal(size=(3, 2)), rng.normal(size=(B, 2))
    layer = lambda X, W: np.tanh(X @ W)  # noqa: E731
    local = U * (1 - np.tanh(X @ W) ** 2)
    right = [local @ W.T, X.T @ local]
    assert gc.check_gradient(layer, [X, W], right, upstream=U).passed
    assert gc.check_directional(layer, [X, W], right, upstream=U).passed
    ones_upstream = 1 - np.tanh(X @ W) ** 2  # dL/dZ for an upstream of ones, not U
    wrong = [ones_upstream @ W.T, X.T @ ones_upstream]
    assert not gc.check_gradient(layer, [X, W], wrong, upstream=U).passed


def test_near_zero_gradients_pass_on_the_absolute_floor():
    # The true gradient is 1e-12 everywhere, below the finite differences' rounding noise.
    f = lambda x: 1.0 + 1e-12 * float(np.sum(x))  # noqa: E731
    x, g = np.ones(4), np.full(4, 1e-12)
    result = gc.check_gradient(f, [x], [g])
    assert result.errors[0] > 1e-6  # the relative error alone would fail it
    assert result.passed
    assert not gc.check_gradient(f, [x], [g], atol=0.0).passed


def test_non_finite_gradients_fail_with_a_reason():
    loss, xs, g = make_layer(2, 2)
    bad = g["W"].copy()
    bad[0, 1] = np.nan
    W = gc.check_gradient(loss, xs, checked(g, W=bad), names=NAMES).tensors[1]
    assert not W.passed and W.worst_index == (0, 1) and "nan or inf" in W.message


def test_check_gradient_validates_its_arguments():
    loss, xs, g = make_layer(2, 2)
    with pytest.raises(ValueError, match="one gradient per tensor"):
        gc.check_gradient(loss, xs, checked(g)[:2])
    with pytest.raises(ValueError, match="one name per tensor"):
        gc.check_gradient(loss, xs, checked(g), names=("X",))
    with pytest.raises(TypeError, match="list of arrays"):
        gc.check_gradient(np.sum, np.ones(3), [np.ones(3)])
    with pytest.raises(ValueError, match="xs is empty"):
        gc.check_directional(loss, [], [])


# --- check_directional -------------------------------------------------------------------------

@pytest.mark.parametrize("n_in, n_out", [(3, 4), (4, 4)])
def test_check_directional_passes_correct_gradients(n_in, n_out):
    loss, xs, g = make_layer(n_in, n_out)
    result = gc.check_directional(loss, xs, checked(g), names=NAMES)
    assert result.passed
    assert [t.name for t in result.tensors] == list(NAMES) and result.overall.name == "all"
    assert all(len(t.analytic) == len(t.numerical) == 4 for t in result.tensors)


@pytest.mark.parametrize("n_in, n_out", [(4, 4), (3, 4)], ids=["square", "non-square"])
@pytest.mark.parametrize("mistake", ["sign flipped", "scaled by 1/B", "transposed", "one wrong element"])
def test_check_directional_fails_wrong_gradients_and_names_the_tensor(mistake, n_in, n_out):
    loss, xs, g = make_layer(n_in, n_out)
    W = wrong_gradients(n_in, n_out)[mistake]
    result = gc.check_directional(loss, xs, checked(g, W=W), names=NAMES)
    assert not result.passed and not result.overall.passed
    assert [t.passed for t in result.tensors] == [True, False, True]
    assert result.worst.name == "W" and result.worst.message.startswith("W:")
    if mistake == "transposed" and n_in != n_out:
        assert "(the transpose)" in result.worst.message


def test_check_directional_is_reproducible():
    loss, xs, g = make_layer(3, 2)
    first = gc.check_directional(loss, xs, checked(g), rng=7)
    again = gc.check_directional(loss, xs, checked(g), rng=np.random.default_rng(7))
    other = gc.check_directional(loss, xs, checked(g), rng=8)
    assert first.tensors[0].analytic == again.tensors[0].analytic
    assert first.tensors[0].analytic != other.tensors[0].analytic
    assert gc.check_directional(loss, xs, checked(g)) == gc.check_directional(loss, xs, checked(g))


def test_results_pass_only_when_every_part_passes():
    good, bad = gc.ProjectionCheckResult("x", 0.0, True), gc.ProjectionCheckResult("y", 1.0, False)
    assert gc.DirectionalCheckResult((good, good), good, 1e-6).passed
    assert not gc.DirectionalCheckResult((good, bad), good, 1e-6).passed
    assert not gc.DirectionalCheckResult((good, good), bad, 1e-6).passed
    ok, wrong = gc.TensorCheckResult("x", 0.0, True), gc.TensorCheckResult("y", 0.5, False)
    assert gc.GradCheckResult((ok, ok), 1e-6).passed
    result = gc.GradCheckResult((ok, wrong), 1e-6)
    assert not result.passed and result.worst is wrong and result.errors == (0.0, 0.5)


def test_check_directional_validates_n_directions():
    loss, xs, g = make_layer(2, 2)
    with pytest.raises(ValueError, match="n_directions"):
        gc.check_directional(loss, xs, checked(g), n_directions=0)


# --- vector functions and kinks ----------------------------------------------------------------

def test_vector_function_to_scalar():
    U = np.array([[1.0, -2.0], [0.5, 3.0]])
    scalar = gc.vector_function_to_scalar(lambda x: x ** 2, U)
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    assert scalar(x) == pytest.approx(1.0 - 8.0 + 4.5 + 3.0)
    np.testing.assert_allclose(gc.numerical_gradient(scalar, x), U * 2 * x, rtol=1e-7)
    with pytest.raises(ValueError, match="upstream gradient has shape"):
        scalar(np.ones(3))


def test_near_kink():
    x = np.array([-1.0, -5e-7, 0.0, 1e-6, 2e-6, 0.9999995, 1.5])
    np.testing.assert_array_equal(gc.near_kink(x), [False, True, True, True, False, False, False])
    np.testing.assert_array_equal(gc.near_kink(x, kinks=(0.0, 1.0), eps=1e-6),
                                  [False, True, True, True, False, True, False])


@SETTINGS
@given(x=real_arrays(bound=2.0), kink=st.sampled_from([(0.0,), (-1.0, 1.0)]),
       margin=st.sampled_from([1e-3, 0.1, 0.4]))
def test_away_from_kinks(x, kink, margin):
    before = x.copy()
    moved = gc.away_from_kinks(x, margin, kinks=kink)
    np.testing.assert_array_equal(x, before)  # a new array
    assert not np.any(gc.near_kink(moved, kink, eps=margin * (1 - 1e-9)))
    far = ~gc.near_kink(x, kink, eps=margin)
    np.testing.assert_array_equal(moved[far], x[far])  # only the close ones move
    for k in kink:  # and they keep their side
        close = np.abs(x - k) < margin
        assert np.all((moved[close] >= k) == (x[close] >= k))


def test_away_from_kinks_makes_relu_checkable():
    relu = lambda z: np.sum(np.maximum(z, 0.0))  # noqa: E731
    z = np.array([-3e-7, 0.0, 4e-7, 2.0, -2.0])
    right = lambda z: (z > 0).astype(float)  # noqa: E731
    assert not gc.check_gradient(relu, [z], [right(z)]).passed
    z = gc.away_from_kinks(z, margin=1e-3)
    assert gc.check_gradient(relu, [z], [right(z)]).passed


def test_away_from_kinks_validates_margin():
    with pytest.raises(ValueError, match="margin"):
        gc.away_from_kinks(np.ones(2), margin=0.0)
    with pytest.raises(ValueError, match="closer than 2 \\* margin"):
        gc.away_from_kinks(np.ones(2), margin=0.5, kinks=(0.0, 0.6))
