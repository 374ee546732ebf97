"""Tests for reference/activations.py: values, derivatives, stability, shapes, no mutation."""
from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from reference import activations as act
from reference.gradcheck import away_from_kinks, numerical_gradient

SETTINGS = settings(max_examples=40, deadline=None)
STEP = 1e-6

ELEMENTWISE = [(name, f, f_grad) for name, (f, f_grad) in act.ACTIVATIONS.items()]
ALL_FUNCTIONS = [act.identity, act.sigmoid, act.tanh, act.relu, act.softmax, act.identity_grad,
                 act.sigmoid_grad, act.tanh_grad, act.relu_grad, act.softmax_jacobian]

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)


def real_arrays(shape=shapes, bound: float = 10.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(-bound, bound, allow_nan=False))


@contextlib.contextmanager
def strict_floats():
    """Overflow, division by zero, invalid operations and any warning raise.

    Underflow is allowed: sigmoid(-1000) = e^-1000 is below the smallest float64, and 0 is its
    correct rounding.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield


def central_difference(f, z: np.ndarray) -> np.ndarray:
    """Elementwise derivative of an elementwise f, independent of the gradcheck module."""
    return (f(z + STEP) - f(z - STEP)) / (2 * STEP)


# --- the lecture's numbers --------------------------------------------------------------------

# The lecture rounds each step to 3 decimals, and its 0.796 = sigma(1.358) is itself 6e-4 above
# the exact 0.7954: one unit in the third decimal covers it.
LECTURE = [
    ("h = sigma(z1)", act.sigmoid, 0.75, 0.679),
    ("sigma'(z1) = h (1 - h)", act.sigmoid_grad, 0.75, 0.218),
    ("y_hat = sigma(z_out)", act.sigmoid, 1.358, 0.796),
]


@pytest.mark.parametrize("what, f, z, expected", LECTURE, ids=[row[0] for row in LECTURE])
def test_lecture_numbers(what, f, z, expected):
    assert f(np.array([z]))[0] == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("f, z, expected", [
    (act.sigmoid, 0.0, 0.5),
    (act.sigmoid_grad, 0.0, 0.25),
    (act.tanh, 0.0, 0.0),
    (act.tanh_grad, 0.0, 1.0),
    (act.relu, -2.0, 0.0),
    (act.relu, 3.0, 3.0),
    (act.relu_grad, 0.0, 0.0),  # the contract's choice at the kink
    (act.relu_grad, 1e-300, 1.0),
    (act.relu_grad, -1e-300, 0.0),
    (act.identity_grad, 7.0, 1.0),
])
def test_exact_values(f, z, expected):
    assert f(np.array([z]))[0] == expected


# --- derivatives against finite differences ---------------------------------------------------

@pytest.mark.parametrize("name, f, f_grad", ELEMENTWISE, ids=[row[0] for row in ELEMENTWISE])
@SETTINGS
@given(z=real_arrays())
def test_elementwise_derivative_matches_finite_differences(name, f, f_grad, z):
    z = away_from_kinks(z, margin=1e-3)  # relu's kink at 0 breaks a central difference
    np.testing.assert_allclose(f_grad(z), central_difference(f, z), rtol=1e-6, atol=1e-9)


@SETTINGS
@given(z=real_arrays(bound=5.0))
def test_stable_derivatives_equal_the_textbook_forms(z):
    s, t = 1 / (1 + np.exp(-z)), np.tanh(z)
    np.testing.assert_allclose(act.sigmoid(z), s, rtol=1e-14)
    np.testing.assert_allclose(act.sigmoid_grad(z), s * (1 - s), rtol=1e-10)
    np.testing.assert_allclose(act.tanh_grad(z), 1 - t ** 2, rtol=1e-10)


@SETTINGS
@given(z=real_arrays(bound=50.0))
def test_sigmoid_is_symmetric(z):
    np.testing.assert_allclose(act.sigmoid(-z), 1 - act.sigmoid(z), rtol=0, atol=1e-15)
    np.testing.assert_allclose(act.sigmoid_grad(-z), act.sigmoid_grad(z), rtol=1e-15)


# --- stability ---------------------------------------------------------------------------------

EXTREMES = np.array([-1000.0, -745.0, -50.0, -1.0, 0.0, 1.0, 50.0, 745.0, 1000.0])


@pytest.mark.parametrize("f", [act.sigmoid, act.sigmoid_grad, act.tanh, act.tanh_grad,
                               act.relu, act.relu_grad, act.softmax, act.softmax_jacobian])
def test_finite_and_warning_free_for_large_inputs(f):
    with strict_floats():
        out = f(EXTREMES)
    assert np.all(np.isfinite(out))


def test_sigmoid_saturates_and_keeps_its_tails_accurate():
    with strict_floats():
        s, ds = act.sigmoid(EXTREMES), act.sigmoid_grad(EXTREMES)
    assert s[0] == 0.0 and s[-1] == 1.0
    # sigma(-50) = e^-50 / (1 + e^-50) and sigma'(+-50) ~ e^-50: far below 1 - sigma's rounding.
    assert s[2] == pytest.approx(np.exp(-50) / (1 + np.exp(-50)), rel=1e-12)
    assert ds[2] == pytest.approx(np.exp(-50), rel=1e-12)
    assert ds[6] == pytest.approx(np.exp(-50), rel=1e-12)


def test_tanh_grad_keeps_its_tails_accurate():
    # 1 - tanh(20)^2 rounds to 0; the exact value is 4 e^-40 / (1 + e^-40)^2.
    assert act.tanh_grad(np.array([20.0]))[0] == pytest.approx(4 * np.exp(-40), rel=1e-12)


def test_softmax_of_huge_logits():
    with strict_floats():
        out = act.softmax(np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0]]))
    np.testing.assert_allclose(out, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15, atol=0)


# --- softmax -----------------------------------------------------------------------------------

@SETTINGS
@given(z=real_arrays(bound=1000.0))
def test_softmax_rows_are_distributions(z):
    s = act.softmax(z)
    assert s.shape == z.shape
    assert np.all(s >= 0)
    np.testing.assert_allclose(s.sum(axis=-1), 1.0, rtol=1e-12)


@SETTINGS
@given(z=real_arrays(bound=50.0), data=st.data())
def test_softmax_is_invariant_to_a_shift_of_each_row(z, data):
    shift = data.draw(hnp.arrays(np.float64, z.shape[:-1] + (1,), elements=st.floats(-100, 100)))
    np.testing.assert_allclose(act.softmax(z + shift), act.softmax(z), rtol=1e-9, atol=1e-15)


@SETTINGS
@given(z=real_arrays(shape=hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=5)))
def test_softmax_treats_rows_independently(z):
    # Normalising over the wrong axis or the whole array breaks this on non-square batches too.
    expected = np.stack([act.softmax(row) for row in z])
    np.testing.assert_allclose(act.softmax(z), expected, rtol=1e-14)


def test_softmax_needs_a_class_axis():
    with pytest.raises(ValueError, match="last axis"):
        act.softmax(np.float64(1.0))
    with pytest.raises(ValueError, match="last axis"):
        act.softmax_jacobian(np.zeros((2, 0)))


@pytest.mark.parametrize("shape", [(1,), (3,), (2, 3), (4, 2), (2, 3, 4)])
def test_softmax_jacobian_shape(shape):
    z = np.random.default_rng(0).normal(size=shape)
    assert act.softmax_jacobian(z).shape == shape + (shape[-1],)


@SETTINGS
@given(z=real_arrays(bound=30.0))
def test_softmax_jacobian_rows_sum_to_zero_and_it_is_symmetric(z):
    J = act.softmax_jacobian(z)
    np.testing.assert_allclose(J.sum(axis=-1), 0.0, atol=1e-15)
    np.testing.assert_allclose(J, np.swapaxes(J, -1, -2), atol=0)


@SETTINGS
@given(z=real_arrays(shape=st.one_of(hnp.array_shapes(min_dims=1, max_dims=1, max_side=5),
                                     hnp.array_shapes(min_dims=2, max_dims=2, max_side=4)),
                     bound=5.0))
def test_softmax_jacobian_matches_numerical_jacobian(z):
    """Every output's gradient over the whole input: J on the own row, zeros on the others."""
    J = act.softmax_jacobian(z)
    for index in np.ndindex(z.shape):
        numerical = numerical_gradient(lambda x: act.softmax(x)[index], z)
        expected = np.zeros_like(z)
        expected[index[:-1]] = J[index]  # row index[:-1] of the input, output class index[-1]
        np.testing.assert_allclose(numerical, expected, rtol=1e-6, atol=1e-9)


# --- arrays in, arrays out ---------------------------------------------------------------------

@pytest.mark.parametrize("f", ALL_FUNCTIONS, ids=lambda f: f.__name__)
def test_inputs_are_never_modified(f):
    z = np.random.default_rng(1).normal(size=(4, 3)) * 5
    z[0, 0] = 0.0
    before = z.copy()
    z.flags.writeable = False  # an in-place write raises instead of passing silently
    out = f(z)
    np.testing.assert_array_equal(z, before)
    assert not np.shares_memory(out, z)  # callers may change the result freely


@pytest.mark.parametrize("f", ALL_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("z", [[1, -2, 0], np.array([0.5, -1.5], dtype=np.float32), [[2.0, 1.0]]])
def test_results_are_float64(f, z):
    assert f(z).dtype == np.float64


def test_non_numeric_input_says_what_to_pass():
    with pytest.raises(TypeError, match="real numbers"):
        act.sigmoid("not an array")


def test_registries():
    assert act.ACTIVATIONS == {
        "identity": (act.identity, act.identity_grad),
        "sigmoid": (act.sigmoid, act.sigmoid_grad),
        "tanh": (act.tanh, act.tanh_grad),
        "relu": (act.relu, act.relu_grad),
    }
    assert act.OUTPUT_ACTIVATIONS == ("identity", "sigmoid", "softmax")


# --- PyTorch, when it is installed -------------------------------------------------------------

@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_matches_torch_elementwise(name):
    torch = pytest.importorskip("torch")
    z = np.random.default_rng(2).normal(size=(3, 5)) * 4
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    out = getattr(torch, name)(t)
    out.sum().backward()
    f, f_grad = act.ACTIVATIONS[name]
    np.testing.assert_allclose(f(z), out.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(f_grad(z), t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_matches_torch_softmax_and_its_jacobian():
    torch = pytest.importorskip("torch")
    z = np.random.default_rng(3).normal(size=(2, 4)) * 4
    t = torch.tensor(z, dtype=torch.float64)
    expected = torch.nn.functional.softmax(t, dim=-1).numpy()
    np.testing.assert_allclose(act.softmax(z), expected, rtol=1e-12)
    for b in range(z.shape[0]):
        row = torch.tensor(z[b], dtype=torch.float64)
        J = torch.autograd.functional.jacobian(lambda r: torch.nn.functional.softmax(r, dim=-1), row)
        np.testing.assert_allclose(act.softmax_jacobian(z)[b], J.numpy(), rtol=1e-12, atol=1e-15)
