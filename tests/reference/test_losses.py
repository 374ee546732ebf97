"""Tests for reference/losses.py: conventions, gradients, fused deltas, stability, no mutation."""
from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from reference import losses as L
from reference.activations import sigmoid, sigmoid_grad, softmax, softmax_jacobian
from reference.gradcheck import away_from_kinks, numerical_gradient

SETTINGS = settings(max_examples=30, deadline=None)

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
batches = hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=5)  # (B, C)


def uniform(shape, low: float, high: float):
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high, allow_nan=False))


@st.composite
def pairs(draw, shape=shapes, low=-5.0, high=5.0):
    """(y_hat, y) of one shape."""
    s = draw(shape)
    return draw(uniform(s, low, high)), draw(uniform(s, low, high))


@st.composite
def one_hot(draw, shape):
    """One-hot targets (B, C): a random class per row."""
    rows, classes = shape
    labels = draw(hnp.arrays(np.int64, (rows,), elements=st.integers(0, classes - 1)))
    return np.eye(classes)[labels]


@st.composite
def logits_and_targets(draw, bound: float = 10.0):
    z = draw(uniform(draw(batches), -bound, bound))
    return z, draw(one_hot(z.shape))


@contextlib.contextmanager
def strict_floats():
    """Overflow, division by zero, invalid operations and any warning raise (underflow to 0 is fine)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield


def assert_gradient(loss, grad, y_hat, y):
    numerical = numerical_gradient(lambda a: loss(a, y), y_hat)
    # Rounding noise of a central difference is ~ 2e-16 |L| / 1e-6 per element; allow 50 times it.
    atol = 1e-8 * max(1.0, abs(loss(y_hat, y)))
    np.testing.assert_allclose(grad(y_hat, y), numerical, rtol=1e-6, atol=atol)


# --- the lecture's numbers --------------------------------------------------------------------

# The lecture rounds each step to 3 decimals (its y_hat = 0.796 for the exact 0.7954):
# one unit in the third decimal covers it.
LECTURE = [
    ("loss = -log 0.796", L.bce, [0.796], [1.0], 0.228),
    ("delta_out = y_hat - y", L.sigmoid_bce_delta, [1.358], [1.0], -0.204),
    ("loss from the logit", L.bce_with_logits, [1.358], [1.0], 0.228),
]


@pytest.mark.parametrize("what, f, first, y, expected", LECTURE, ids=[row[0] for row in LECTURE])
def test_lecture_numbers(what, f, first, y, expected):
    assert float(np.ravel(f(np.array(first), np.array(y)))[0]) == pytest.approx(expected, abs=1e-3)


# --- conventions: means as PyTorch's defaults --------------------------------------------------

def test_means_over_elements_and_rows():
    y_hat = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    y = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    d = (y_hat - y).ravel()
    assert L.mse(y_hat, y) == pytest.approx(sum(v * v for v in d) / 6, rel=1e-15)
    assert L.mae(y_hat, y) == pytest.approx(sum(abs(v) for v in d) / 6, rel=1e-15)
    bce_terms = [-(t * math.log(p) + (1 - t) * math.log(1 - p)) for p, t in zip(y_hat.ravel(), y.ravel())]
    assert L.bce(y_hat, y) == pytest.approx(sum(bce_terms) / 6, rel=1e-14)
    # cce: -log of each row's true-class probability, averaged over the 3 rows
    assert L.cce(y_hat, y) == pytest.approx(-(math.log(0.9) + math.log(0.8) + math.log(0.4)) / 3, rel=1e-14)


@pytest.mark.parametrize("name", ["mse", "mae", "bce", "cce"])
def test_repeating_the_batch_changes_nothing(name):
    """A mean is unchanged by stacking a batch twice; a sum would double."""
    loss, grad = L.LOSSES[name]
    rng = np.random.default_rng(0)
    y_hat = softmax(rng.normal(size=(3, 4)))
    y = np.eye(4)[[0, 3, 1]]
    twice_hat, twice_y = np.concatenate([y_hat, y_hat]), np.concatenate([y, y])
    assert loss(twice_hat, twice_y) == pytest.approx(loss(y_hat, y), rel=1e-14)
    np.testing.assert_allclose(grad(twice_hat, twice_y)[:3], grad(y_hat, y) / 2, rtol=1e-14)


@pytest.mark.parametrize("name", ["mse", "mae", "bce", "cce"])
def test_losses_return_python_floats(name):
    loss, _ = L.LOSSES[name]
    assert type(loss(np.array([[0.3, 0.7]]), np.array([[0.0, 1.0]]))) is float


def test_mae_grad_is_zero_where_equal():
    np.testing.assert_array_equal(L.mae_grad(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 4.0])),
                                  [0.0, 1 / 3, -1 / 3])


# --- gradients against finite differences ------------------------------------------------------

@SETTINGS
@given(pair=pairs())
def test_mse_grad(pair):
    assert_gradient(L.mse, L.mse_grad, *pair)


@SETTINGS
@given(pair=pairs())
def test_mae_grad_away_from_the_kink(pair):
    y_hat, y = pair
    y_hat = y + away_from_kinks(y_hat - y, margin=1e-3)
    assert_gradient(L.mae, L.mae_grad, y_hat, y)


@SETTINGS
@given(pair=pairs(low=0.02, high=0.98), hard=st.booleans())
def test_bce_grad(pair, hard):
    y_hat, y = pair
    y = np.round(y) if hard else y  # hard labels or soft ones
    assert_gradient(L.bce, L.bce_grad, y_hat, y)


@SETTINGS
@given(data=st.data(), shape=batches)
def test_cce_grad(data, shape):
    # cce_grad is the partial derivative in each y_hat entry, so rows need not sum to 1 here.
    y_hat, y = data.draw(uniform(shape, 0.02, 0.98)), data.draw(one_hot(shape))
    assert_gradient(L.cce, L.cce_grad, y_hat, y)


# --- the fused deltas --------------------------------------------------------------------------

@SETTINGS
@given(pair=pairs(low=-10.0, high=10.0), hard=st.booleans())
def test_sigmoid_bce_delta_equals_the_chain(pair, hard):
    z, y = pair
    y = (y > 0).astype(float) if hard else sigmoid(y)
    chain = sigmoid_grad(z) * L.bce_grad(sigmoid(z), y)
    np.testing.assert_allclose(L.sigmoid_bce_delta(z, y), chain, rtol=1e-9, atol=1e-15)


@SETTINGS
@given(z_y=logits_and_targets(bound=10.0))
def test_softmax_cce_delta_equals_the_chain(z_y):
    z, y = z_y
    # dL/dz_j = sum_i dL/dy_hat_i * J_ij for each row
    chain = np.einsum("bi,bij->bj", L.cce_grad(softmax(z), y), softmax_jacobian(z))
    np.testing.assert_allclose(L.softmax_cce_delta(z, y), chain, rtol=1e-9, atol=1e-15)


@SETTINGS
@given(pair=pairs(low=-30.0, high=30.0))
def test_sigmoid_bce_delta_is_the_gradient_of_bce_with_logits(pair):
    z, y = pair
    y = sigmoid(y)
    assert_gradient(L.bce_with_logits, L.sigmoid_bce_delta, z, y)


@SETTINGS
@given(z_y=logits_and_targets(bound=30.0))
def test_softmax_cce_delta_is_the_gradient_of_cce_with_logits(z_y):
    assert_gradient(L.cce_with_logits, L.softmax_cce_delta, *z_y)


@SETTINGS
@given(pair=pairs(low=-20.0, high=20.0))
def test_bce_with_logits_equals_bce_of_sigmoid(pair):
    z, y = pair
    y = sigmoid(y)
    assert L.bce_with_logits(z, y) == pytest.approx(L.bce(sigmoid(z), y), rel=1e-6, abs=1e-12)


@SETTINGS
@given(z_y=logits_and_targets(bound=10.0))  # softmax stays above the clip's EPS
def test_cce_with_logits_equals_cce_of_softmax(z_y):
    z, y = z_y
    assert L.cce_with_logits(z, y) == pytest.approx(L.cce(softmax(z), y), rel=1e-9, abs=1e-12)


def test_softmax_cce_delta_needs_rows_that_sum_to_one():
    with pytest.raises(ValueError, match="sum to 1"):
        L.softmax_cce_delta(np.zeros((2, 3)), np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))


# --- stability ---------------------------------------------------------------------------------

def test_probabilities_exactly_zero_and_one():
    y_hat, y = np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])
    with strict_floats():
        loss, grad = L.bce(y_hat, y), L.bce_grad(y_hat, y)
    # two hopeless predictions cost -log(EPS) each, two perfect ones ~0
    assert loss == pytest.approx(-2 * math.log(L.EPS) / 4, rel=1e-6)
    assert np.all(np.isfinite(grad))
    np.testing.assert_array_equal(np.sign(grad), [-1.0, 1.0, 1.0, -1.0])

    probs = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    targets = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    with strict_floats():
        loss, grad = L.cce(probs, targets), L.cce_grad(probs, targets)
    assert loss == pytest.approx(-math.log(L.EPS) / 2, rel=1e-6)
    assert np.all(np.isfinite(grad))


def test_perfect_predictions_cost_nothing():
    assert L.bce(np.array([0.0, 1.0]), np.array([0.0, 1.0])) == pytest.approx(0.0, abs=1e-11)
    assert L.cce(np.eye(3), np.eye(3)) == pytest.approx(0.0, abs=1e-11)


def test_logit_losses_and_deltas_at_plus_minus_1000():
    z, y = np.array([1000.0, -1000.0, 1000.0, -1000.0]), np.array([0.0, 1.0, 1.0, 0.0])
    Z = np.array([[1000.0, 0.0, -1000.0], [1000.0, 0.0, -1000.0]])
    Y = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    with strict_floats():
        assert L.bce_with_logits(z, y) == pytest.approx(2000.0 / 4, rel=1e-15)
        np.testing.assert_allclose(L.sigmoid_bce_delta(z, y), [0.25, -0.25, 0.0, 0.0], atol=1e-300)
        assert L.cce_with_logits(Z, Y) == pytest.approx(2000.0 / 2, rel=1e-15)
        np.testing.assert_allclose(L.softmax_cce_delta(Z, Y), [[0.5, 0.0, -0.5], [0.0, 0.0, 0.0]],
                                   atol=1e-300)
        assert np.isfinite(L.bce(sigmoid(z), y)) and np.isfinite(L.cce(softmax(Z), Y))


# --- arguments ---------------------------------------------------------------------------------

EVERY_FUNCTION = [L.mse, L.mae, L.bce, L.cce, L.mse_grad, L.mae_grad, L.bce_grad, L.cce_grad,
                  L.bce_with_logits, L.cce_with_logits, L.sigmoid_bce_delta, L.softmax_cce_delta]


@pytest.mark.parametrize("f", EVERY_FUNCTION, ids=lambda f: f.__name__)
def test_inputs_are_never_modified(f):
    rng = np.random.default_rng(4)
    first, y = softmax(rng.normal(size=(3, 4))), np.eye(4)[[2, 0, 2]]
    first[0, 0] = 0.0  # a probability the clip has to handle
    before = (first.copy(), y.copy())
    for array in (first, y):
        array.flags.writeable = False  # an in-place write raises instead of passing silently
    out = f(first, y)
    np.testing.assert_array_equal(first, before[0])
    np.testing.assert_array_equal(y, before[1])
    if isinstance(out, np.ndarray):
        assert out.shape == first.shape and out.dtype == np.float64
        assert not np.shares_memory(out, first)


@pytest.mark.parametrize("f", EVERY_FUNCTION, ids=lambda f: f.__name__)
def test_shapes_must_match(f):
    with pytest.raises(ValueError, match="same shape"):
        f(np.full((3, 1), 0.5), np.full((3,), 1.0))


@pytest.mark.parametrize("f", [L.bce, L.bce_grad, L.cce, L.cce_grad, L.bce_with_logits,
                               L.cce_with_logits, L.sigmoid_bce_delta, L.softmax_cce_delta])
def test_targets_must_be_probabilities(f):
    with pytest.raises(ValueError, match=r"y must hold probabilities in \[0, 1\]"):
        f(np.array([[0.5, 0.5]]), np.array([[1.5, -0.5]]))


def test_registries():
    assert L.LOSSES == {"mse": (L.mse, L.mse_grad), "mae": (L.mae, L.mae_grad),
                        "bce": (L.bce, L.bce_grad), "cce": (L.cce, L.cce_grad)}
    assert L.FUSED_DELTAS == {("sigmoid", "bce"): L.sigmoid_bce_delta,
                              ("softmax", "cce"): L.softmax_cce_delta}


# --- PyTorch, when it is installed -------------------------------------------------------------

def _torch_value_and_grad(torch, fn, y_hat, y):
    t = torch.tensor(y_hat, dtype=torch.float64, requires_grad=True)
    out = fn(t, torch.tensor(y, dtype=torch.float64))
    out.backward()
    return out.item(), t.grad.numpy()


@pytest.mark.parametrize("name, torch_name", [("mse", "mse_loss"), ("mae", "l1_loss"),
                                              ("bce", "binary_cross_entropy")])
def test_matches_torch_elementwise_losses(name, torch_name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    y_hat, y = rng.uniform(0.05, 0.95, size=(4, 3)), rng.integers(0, 2, size=(4, 3)).astype(float)
    value, grad = _torch_value_and_grad(torch, getattr(torch.nn.functional, torch_name), y_hat, y)
    loss, loss_grad = L.LOSSES[name]
    assert loss(y_hat, y) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(loss_grad(y_hat, y), grad, rtol=1e-10)


def test_matches_torch_cross_entropy():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(6)
    z, labels = rng.normal(size=(4, 5)) * 3, np.array([0, 4, 2, 2])
    y = np.eye(5)[labels]
    target = torch.tensor(labels)
    value, delta = _torch_value_and_grad(torch, lambda t, _: F.cross_entropy(t, target), z, y)
    assert L.cce_with_logits(z, y) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(L.softmax_cce_delta(z, y), delta, rtol=1e-10, atol=1e-15)
    # cce on probabilities: PyTorch's negative log-likelihood of log(y_hat)
    p = softmax(z)
    value, grad = _torch_value_and_grad(torch, lambda t, _: F.nll_loss(torch.log(t), target), p, y)
    assert L.cce(p, y) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(L.cce_grad(p, y), grad, rtol=1e-10)


def test_matches_torch_bce_with_logits():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    z, y = rng.normal(size=(3, 4)) * 5, rng.integers(0, 2, size=(3, 4)).astype(float)
    value, delta = _torch_value_and_grad(torch, torch.nn.functional.binary_cross_entropy_with_logits, z, y)
    assert L.bce_with_logits(z, y) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(L.sigmoid_bce_delta(z, y), delta, rtol=1e-10, atol=1e-15)
