"""The `da6401-a1` answer key: gradients against central differences, a hand-worked case, torch.

Networks have all-different layer sizes (a transposed gradient cannot pass) and non-zero
biases; errors are norm-relative per tensor, in float64.
"""
from __future__ import annotations

from argparse import Namespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.assignments.da6401_a1.reference.activations import ACTIVATIONS, activation_pair
from grader.assignments.da6401_a1.reference.config import hidden_sizes, layer_sizes, loss_name
from grader.assignments.da6401_a1.reference.gradcheck import central_difference, relative_error
from grader.assignments.da6401_a1.reference.losses import (
    LOSSES, canonical_loss, cross_entropy, loss_gradient, loss_value, mean_squared_error, one_hot, softmax,
    softmax_jacobian,
)
from grader.assignments.da6401_a1.reference.network import (
    backpropagate, backward, check_parameters, forward, numerical_gradients, random_parameters,
)

LOSS_NAMES = ["cross_entropy", "mean_squared_error", "mse"]
ACTIVATION_NAMES = sorted(ACTIVATIONS)
FORMS = ["labels", "one_hot"]
# (layer sizes, batch size): non-square, of several depths, batches drawn once from 1..8.
SHAPES = [((7, 5, 4, 3), 6), ((3, 4), 1), ((6, 2, 5), 3), ((4, 6, 3, 5, 2), 8), ((2, 7, 3), 5)]
TOLERANCE = 1e-6  # central differences with h = 1e-6 agree to about 1e-8 here


def targets(labels: np.ndarray, classes: int, form: str) -> np.ndarray:
    return labels if form == "labels" else np.eye(classes)[labels]


def assert_close_per_tensor(analytic: list, numeric: list, what: str) -> None:
    for l, (a, n) in enumerate(zip(analytic, numeric)):
        assert a.shape == n.shape, f"{what}[{l}] shape {a.shape}, expected {n.shape}"
        # An absolute floor for tensors that are zero up to rounding (a dead ReLU layer).
        assert relative_error(a, n) < TOLERANCE or np.linalg.norm(a - n) < 1e-10, \
            f"{what}[{l}]: relative error {relative_error(a, n):.2e}"


def gradcheck(sizes, batch, loss, activation, form, seed):
    rng = np.random.default_rng(seed)
    weights, biases = random_parameters(sizes, rng)
    X = rng.standard_normal((batch, sizes[0]))
    y = targets(rng.integers(0, sizes[-1], size=batch), sizes[-1], form)
    _, cache = forward(weights, biases, X, activation)
    grad_Ws, grad_bs = backward(weights, biases, cache, y, loss, activation)
    num_Ws, num_bs = numerical_gradients(weights, biases, X, y, loss, activation)
    assert_close_per_tensor(grad_Ws, num_Ws, "dW")
    assert_close_per_tensor(grad_bs, num_bs, "db")


# ---------------------------------------------------------------- gradients against central differences

@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("sizes,batch", SHAPES)
def test_backward_matches_central_differences(sizes, batch, loss, activation, form):
    gradcheck(sizes, batch, loss, activation, form, seed=sum(sizes) * batch)


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5), batch=st.integers(1, 6),
       loss=st.sampled_from(LOSS_NAMES), activation=st.sampled_from(ACTIVATION_NAMES),
       form=st.sampled_from(FORMS), seed=st.integers(0, 2**32 - 1))
def test_backward_matches_central_differences_for_any_network(sizes, batch, loss, activation, form, seed):
    gradcheck(tuple(sizes), batch, loss, activation, form, seed)


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_labels_and_one_hot_give_the_same_gradients(loss):
    rng = np.random.default_rng(3)
    weights, biases = random_parameters((7, 5, 4, 3), rng)
    X, labels = rng.standard_normal((6, 7)), rng.integers(0, 3, size=6)
    _, cache = forward(weights, biases, X, "sigmoid")
    by_label = backward(weights, biases, cache, labels, loss, "sigmoid")
    by_row = backward(weights, biases, cache, np.eye(3)[labels], loss, "sigmoid")
    for a, b in zip(by_label[0] + by_label[1], by_row[0] + by_row[1]):
        np.testing.assert_array_equal(a, b)


def test_mse_gradient_is_dL_dp_through_the_softmax_jacobian():
    # The reference's row formula p * (G - <G, p>) against the explicit (B, C, C) Jacobian.
    rng = np.random.default_rng(4)
    Z, labels = rng.standard_normal((5, 4)), rng.integers(0, 4, size=5)
    p = softmax(Z)
    G = 2.0 * (p - np.eye(4)[labels]) / p.size
    np.testing.assert_allclose(loss_gradient("mse", Z, labels), np.einsum("bc,bcd->bd", G, softmax_jacobian(Z)),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_loss_gradients_match_central_differences_of_the_loss(loss):
    rng = np.random.default_rng(5)
    Z, labels = 2.0 * rng.standard_normal((4, 6)), rng.integers(0, 6, size=4)
    numeric = central_difference(lambda z: loss_value(loss, z, labels), Z)
    assert relative_error(loss_gradient(loss, Z, labels), numeric) < TOLERANCE


def test_backpropagate_is_the_chain_rule_for_any_output_delta():
    # d/dtheta of sum(U * logits) is backpropagate(U): the vector-Jacobian product of the network.
    rng = np.random.default_rng(6)
    weights, biases = random_parameters((3, 5, 2), rng)
    X, U = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    _, cache = forward(weights, biases, X, "tanh")
    grad_Ws, _ = backpropagate(weights, cache, U, "tanh")
    numeric = central_difference(lambda W: np.sum(U * forward([W, weights[1]], biases, X, "tanh")[0]), weights[0])
    assert relative_error(grad_Ws[0], numeric) < TOLERANCE


# ---------------------------------------------------------------- a case worked by hand

# A 2-2-2 network, relu hidden layer, one example x = (1, 2) of class 0.
#   W0 = [[1, -1], [0.5, 1]], b0 = (0, 0.5)
#   z1 = x W0 + b0 = (1*1 + 2*0.5 + 0, 1*(-1) + 2*1 + 0.5) = (2, 1.5);  h = relu(z1) = (2, 1.5)
#   W1 = [[0.5, 1], [1, 0]], b1 = (0, 0.5)
#   z2 = h W1 + b1 = (2*0.5 + 1.5*1 + 0, 2*1 + 1.5*0 + 0.5) = (2.5, 2.5);  p = softmax(z2) = (0.5, 0.5)
# Cross-entropy: L = -log p_0 = log 2.  delta2 = (p - y) / B = (-0.5, 0.5).
#   dW1 = h^T delta2 = [[2*-0.5, 2*0.5], [1.5*-0.5, 1.5*0.5]] = [[-1, 1], [-0.75, 0.75]];  db1 = (-0.5, 0.5)
#   dh = delta2 W1^T = (-0.5*0.5 + 0.5*1, -0.5*1 + 0.5*0) = (0.25, -0.5);  relu'(z1) = (1, 1), so delta1 = dh
#   dW0 = x^T delta1 = [[0.25, -0.5], [0.5, -1]];  db0 = (0.25, -0.5)
# MSE: L = ((0.5 - 1)^2 + (0.5 - 0)^2) / 2 = 0.25.  G = dL/dp = 2 (p - y) / (B C) = (-0.5, 0.5).
#   The softmax Jacobian at p = (0.5, 0.5) is [[0.25, -0.25], [-0.25, 0.25]], so
#   delta2 = G J = (-0.5*0.25 + 0.5*-0.25, -0.5*-0.25 + 0.5*0.25) = (-0.25, 0.25): half the
#   cross-entropy delta, and every MSE gradient is half the cross-entropy one.
HAND_WEIGHTS = [np.array([[1.0, -1.0], [0.5, 1.0]]), np.array([[0.5, 1.0], [1.0, 0.0]])]
HAND_BIASES = [np.array([0.0, 0.5]), np.array([0.0, 0.5])]
HAND_X = np.array([[1.0, 2.0]])
HAND_CE_GRADS = ([np.array([[0.25, -0.5], [0.5, -1.0]]), np.array([[-1.0, 1.0], [-0.75, 0.75]])],
                 [np.array([0.25, -0.5]), np.array([-0.5, 0.5])])


@pytest.mark.parametrize("y", [np.array([0]), np.array([[1.0, 0.0]])], ids=FORMS)
@pytest.mark.parametrize("loss,expected_loss,scale", [("cross_entropy", np.log(2.0), 1.0), ("mse", 0.25, 0.5)])
def test_hand_worked_2_2_2_network(y, loss, expected_loss, scale):
    logits, cache = forward(HAND_WEIGHTS, HAND_BIASES, HAND_X, "relu")
    np.testing.assert_allclose(cache.inputs[1], [[2.0, 1.5]])
    np.testing.assert_allclose(logits, [[2.5, 2.5]])
    assert loss_value(loss, logits, y) == pytest.approx(expected_loss, rel=1e-12)
    grad_Ws, grad_bs = backward(HAND_WEIGHTS, HAND_BIASES, cache, y, loss, "relu")
    for got, want in zip(grad_Ws + grad_bs, HAND_CE_GRADS[0] + HAND_CE_GRADS[1]):
        np.testing.assert_allclose(got, scale * want, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- losses and activations

def test_softmax_and_cross_entropy_are_stable_for_large_logits():
    Z = np.array([[1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(softmax(Z), [[1.0, 0.0, 0.0]])
    assert cross_entropy(Z, [1]) == pytest.approx(1000.0)
    assert np.all(np.isfinite(loss_gradient("cross_entropy", Z, [2])))
    assert mean_squared_error(Z, [0]) == pytest.approx(0.0, abs=1e-300)


def test_one_hot_accepts_both_forms_and_rejects_bad_labels():
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(one_hot(np.array([2.0, 0.0]), 3), [[0, 0, 1], [1, 0, 0]])
    rows = np.array([[0.0, 1.0, 0.0]])
    assert one_hot(rows, 3) is not rows
    for bad in (np.array([3]), np.array([-1]), np.array([0.5]), np.zeros((2, 4)), np.zeros((1, 1, 3))):
        with pytest.raises(ValueError):
            one_hot(bad, 3)


def test_loss_names_and_the_mse_alias():
    assert canonical_loss("mse") == "mean_squared_error"
    assert set(LOSSES) == {"cross_entropy", "mean_squared_error"}
    with pytest.raises(ValueError, match="unknown loss"):
        canonical_loss("hinge")


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_derivatives_match_central_differences(name):
    a, derivative = activation_pair(name)
    z = np.array([-3.0, -0.7, 0.3, 1.1, 4.0])  # no kink of relu within h
    numeric = np.array([central_difference(lambda v: a(v)[0], [value])[0] for value in z])
    np.testing.assert_allclose(derivative(z), numeric, rtol=1e-7, atol=1e-10)


def test_relu_derivative_is_zero_at_zero_and_sigmoid_finite_far_out():
    assert activation_pair("relu")[1](np.array([0.0]))[0] == 0.0
    s = activation_pair("sigmoid")[0](np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(s, [0.0, 1.0])
    with pytest.raises(ValueError, match="unknown activation"):
        activation_pair("softplus")


# ---------------------------------------------------------------- the network's bookkeeping

def test_functions_leave_their_arguments_alone():
    rng = np.random.default_rng(8)
    weights, biases = random_parameters((4, 3, 2), rng)
    X, y = rng.standard_normal((3, 4)), np.eye(2)[[0, 1, 1]]
    before = [array.copy() for array in weights + biases + [X, y]]
    _, cache = forward(weights, biases, X, "relu")
    backward(weights, biases, cache, y, "mse", "relu")
    numerical_gradients(weights, biases, X, y, "mse", "relu")
    for old, new in zip(before, weights + biases + [X, y]):
        np.testing.assert_array_equal(old, new)


def test_parameters_that_do_not_chain_are_refused():
    W0, W1 = np.zeros((3, 4)), np.zeros((5, 2))
    with pytest.raises(ValueError, match="takes 5 inputs"):
        check_parameters([W0, W1], [np.zeros(4), np.zeros(2)])
    with pytest.raises(ValueError, match="b"):
        check_parameters([W0], [np.zeros((1, 4))])
    with pytest.raises(ValueError, match="X must have shape"):
        forward([W0], [np.zeros(4)], np.zeros((2, 4)), "tanh")


def test_a_network_without_hidden_layers_is_softmax_regression():
    rng = np.random.default_rng(9)
    weights, biases = random_parameters((5, 3), rng)
    X, labels = rng.standard_normal((4, 5)), np.array([0, 2, 1, 2])
    logits, cache = forward(weights, biases, X, "sigmoid")
    np.testing.assert_allclose(logits, X @ weights[0] + biases[0])
    grad_Ws, _ = backward(weights, biases, cache, labels, "cross_entropy", "sigmoid")
    np.testing.assert_allclose(grad_Ws[0], X.T @ (softmax(logits) - np.eye(3)[labels]) / 4)


def test_layer_sizes_from_a_namespace():
    args = Namespace(num_layers=3, hidden_size=[16], loss="mse")
    assert layer_sizes(args) == [784, 16, 16, 16, 10]
    assert loss_name(args) == "mean_squared_error"
    assert layer_sizes(Namespace(num_layers=2, hidden_size=[5, 4], input_size=7, output_size=3)) == [7, 5, 4, 3]
    assert hidden_sizes(2, 8) == [8, 8]
    assert hidden_sizes(0, [8]) == []
    with pytest.raises(ValueError):
        hidden_sizes(3, [8, 4])


# ---------------------------------------------------------------- torch, where installed

@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_losses_and_gradients_agree_with_torch(loss, form):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    Z, labels = 3.0 * rng.standard_normal((6, 4)), rng.integers(0, 4, size=6)
    logits = torch.tensor(Z, dtype=torch.float64, requires_grad=True)
    if canonical_loss(loss) == "cross_entropy":
        value = torch.nn.functional.cross_entropy(logits, torch.tensor(labels))
    else:  # keras's mean over all B x C entries, on the softmax
        target = torch.tensor(np.eye(4)[labels], dtype=torch.float64)
        value = torch.nn.functional.mse_loss(torch.softmax(logits, dim=1), target)
    value.backward()
    y = targets(labels, 4, form)
    assert loss_value(loss, Z, y) == pytest.approx(value.item(), rel=1e-12)
    np.testing.assert_allclose(loss_gradient(loss, Z, y), logits.grad.numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_network_gradients_agree_with_torch(activation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    weights, biases = random_parameters((7, 5, 4, 3), rng)
    X, labels = rng.standard_normal((6, 7)), rng.integers(0, 3, size=6)
    Ws = [torch.tensor(W, requires_grad=True) for W in weights]
    bs = [torch.tensor(b, requires_grad=True) for b in biases]
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[activation]
    A = torch.tensor(X)
    for l, (W, b) in enumerate(zip(Ws, bs)):
        A = A @ W + b if l == len(Ws) - 1 else act(A @ W + b)
    torch.nn.functional.cross_entropy(A, torch.tensor(labels)).backward()
    _, cache = forward(weights, biases, X, activation)
    grad_Ws, grad_bs = backward(weights, biases, cache, labels, "cross_entropy", activation)
    for ours, theirs in zip(grad_Ws + grad_bs, Ws + bs):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-14)
