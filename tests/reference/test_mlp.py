"""reference.mlp: initialisation, forward, and backward against central differences."""
from __future__ import annotations

import copy
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.activations import ACTIVATIONS, softmax
from reference.gradcheck import numerical_gradient
from reference.losses import LOSSES
from reference.mlp import (ForwardCache, accuracy, backward, forward, init_params, loss_value,
                           output_delta, predict)

HIDDEN = sorted(ACTIVATIONS)
# (output activation, loss): the contract's three pairs, then general ones through the plain chain rule.
FUSED_PAIRS = [("softmax", "cce"), ("sigmoid", "bce")]
PAIRS = FUSED_PAIRS + [("identity", "mse"), ("identity", "mae"), ("sigmoid", "mse"), ("softmax", "mse"),
                       ("softmax", "bce"), ("sigmoid", "cce"), ("tanh", "mse"), ("relu", "mse")]


def make_targets(loss: str, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    if loss == "cce":
        return np.eye(shape[1])[rng.integers(0, shape[1], size=shape[0])]
    if loss == "bce":
        return rng.integers(0, 2, size=shape).astype(np.float64)
    return rng.standard_normal(shape)


def random_params(sizes: list[int], rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    # Non-zero biases, and weights scaled by 1/sqrt(n_in) so the logits stay of order 1: a
    # saturated softmax or sigmoid would put the loss on its clipping floor, where differences lie.
    return [(rng.standard_normal((n_in, n_out)) / np.sqrt(n_in), 0.5 * rng.standard_normal(n_out))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def numerical_param_grads(params, X, Y, hidden, output, loss):
    """Central-difference gradients of the mean loss with respect to every W and b."""
    grads = []
    for layer in range(len(params)):
        pair = []
        for slot in range(2):
            def f(value, layer=layer, slot=slot):
                changed = [list(p) for p in params]
                changed[layer][slot] = value
                Y_hat, _ = forward([tuple(p) for p in changed], X, hidden, output)
                return loss_value(Y_hat, Y, loss)
            pair.append(numerical_gradient(f, params[layer][slot]))
        grads.append(tuple(pair))
    return grads


def assert_gradcheck(sizes, batch, hidden, output, loss, seed):
    rng = np.random.default_rng(seed)
    params = random_params(sizes, rng)
    X = rng.standard_normal((batch, sizes[0]))
    Y = make_targets(loss, (batch, sizes[-1]), rng)
    Y_hat, cache = forward(params, X, hidden, output)
    analytic = backward(params, cache, Y, loss)
    numeric = numerical_param_grads(params, X, Y, hidden, output, loss)
    assert len(analytic) == len(params)
    for layer, ((dW, db), (nW, nb)) in enumerate(zip(analytic, numeric)):
        assert dW.shape == params[layer][0].shape, f"dW[{layer}] shape"
        assert db.shape == params[layer][1].shape, f"db[{layer}] shape"
        np.testing.assert_allclose(dW, nW, rtol=1e-5, atol=1e-7, err_msg=f"dW[{layer}]")
        np.testing.assert_allclose(db, nb, rtol=1e-5, atol=1e-7, err_msg=f"db[{layer}]")


# ---------------------------------------------------------------- backward: gradient checks

@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("output,loss", PAIRS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_backward_matches_central_differences(hidden, output, loss, depth):
    sizes = [3, 5, 4, 6, 2][:depth] + [3]  # non-square layers, so a transposed dW cannot pass
    assert_gradcheck(sizes, batch=4, hidden=hidden, output=output, loss=loss, seed=depth)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("output,loss", PAIRS)
def test_backward_with_a_batch_of_one(output, loss, depth):
    assert_gradcheck([2, 3, 4, 5][:depth] + [3], batch=1, hidden="tanh", output=output, loss=loss, seed=7)


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=5), batch=st.integers(1, 5),
       hidden=st.sampled_from(HIDDEN), pair=st.sampled_from(PAIRS), seed=st.integers(0, 2**32 - 1))
def test_backward_matches_central_differences_for_any_shape(sizes, batch, hidden, pair, seed):
    output, loss = pair
    if output == "softmax" and sizes[-1] == 1:
        sizes[-1] = 2  # a one-class softmax is constant: its gradient is zero, nothing to check
    assert_gradcheck(sizes, batch, hidden, output, loss, seed)


def test_square_non_symmetric_weights_give_a_non_symmetric_gradient():
    # With square W a transposed dW has the right shape, so the values must tell the two apart.
    rng = np.random.default_rng(3)
    params = random_params([4, 4, 4], rng)
    X = rng.standard_normal((5, 4))
    Y = make_targets("cce", (5, 4), rng)
    _, cache = forward(params, X, "sigmoid", "softmax")
    grads = backward(params, cache, Y, "cce")
    numeric = numerical_param_grads(params, X, Y, "sigmoid", "softmax", "cce")
    for (dW, _), (nW, _) in zip(grads, numeric):
        assert not np.allclose(nW, nW.T, atol=1e-3)
        np.testing.assert_allclose(dW, nW, rtol=1e-5, atol=1e-7)


def test_fused_output_delta_equals_the_general_chain():
    # softmax + cce and sigmoid + bce take the (y_hat - y) shortcut; it must agree with act' * dL/dy_hat.
    rng = np.random.default_rng(4)
    Z = rng.standard_normal((6, 3))
    Y = make_targets("cce", (6, 3), rng)
    jacobian_chain = np.einsum("bc,bcd->bd", LOSSES["cce"][1](softmax(Z), Y),
                               np.stack([np.diag(s) - np.outer(s, s) for s in softmax(Z)]))
    np.testing.assert_allclose(output_delta("softmax", "cce", Z, softmax(Z), Y), jacobian_chain, atol=1e-12)
    sigmoid, sigmoid_grad = ACTIVATIONS["sigmoid"]
    Y = make_targets("bce", (6, 3), rng)
    np.testing.assert_allclose(output_delta("sigmoid", "bce", Z, sigmoid(Z), Y),
                               LOSSES["bce"][1](sigmoid(Z), Y) * sigmoid_grad(Z), atol=1e-12)


def test_backward_returns_layers_in_the_order_of_params():
    rng = np.random.default_rng(5)
    params = random_params([2, 3, 4, 5], rng)
    _, cache = forward(params, rng.standard_normal((3, 2)), "relu", "softmax")
    grads = backward(params, cache, make_targets("cce", (3, 5), rng), "cce")
    assert [dW.shape for dW, _ in grads] == [(2, 3), (3, 4), (4, 5)]
    assert [db.shape for _, db in grads] == [(3,), (4,), (5,)]


@pytest.mark.parametrize("output,loss", FUSED_PAIRS + [("identity", "mse")])
def test_gradient_is_of_the_mean_loss_not_the_sum(output, loss):
    # Doubling the batch with a copy of itself leaves the mean, and so the gradient, unchanged.
    rng = np.random.default_rng(6)
    params = random_params([3, 4, 2], rng)
    X = rng.standard_normal((3, 3))
    Y = make_targets(loss, (3, 2), rng)
    _, cache = forward(params, X, "tanh", output)
    _, cache2 = forward(params, np.vstack([X, X]), "tanh", output)
    doubled = backward(params, cache2, np.vstack([Y, Y]), loss)
    for (dW, db), (dW2, db2) in zip(backward(params, cache, Y, loss), doubled):
        np.testing.assert_allclose(dW2, dW, rtol=1e-12)
        np.testing.assert_allclose(db2, db, rtol=1e-12)


def test_backward_and_forward_leave_their_inputs_unchanged():
    rng = np.random.default_rng(8)
    params = random_params([3, 4, 2], rng)
    X = rng.standard_normal((5, 3))
    Y = make_targets("cce", (5, 2), rng)
    params_before, X_before, Y_before = copy.deepcopy(params), X.copy(), Y.copy()
    _, cache = forward(params, X, "relu", "softmax")
    cache_before = copy.deepcopy(cache)
    backward(params, cache, Y, "cce")
    for (W, b), (W0, b0) in zip(params, params_before):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(Y, Y_before)
    for name in ("activations", "pre_activations"):
        for array, array_before in zip(getattr(cache, name), getattr(cache_before, name)):
            np.testing.assert_array_equal(array, array_before)


@pytest.mark.parametrize("hidden", HIDDEN)
def test_mlp_gradients_match_torch_autograd(hidden):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    params = random_params([3, 5, 4], rng)
    X = rng.standard_normal((6, 3))
    labels = rng.integers(0, 4, size=6)
    _, cache = forward(params, X, hidden, "softmax")
    grads = backward(params, cache, np.eye(4)[labels], "cce")
    tensors = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in params]
    act = {"identity": lambda z: z, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[hidden]
    A = torch.tensor(X)
    for index, (W, b) in enumerate(tensors):
        Z = A @ W + b
        A = Z if index == len(tensors) - 1 else act(Z)
    torch.nn.functional.cross_entropy(A, torch.tensor(labels)).backward()
    for (dW, db), (W, b) in zip(grads, tensors):
        np.testing.assert_allclose(dW, W.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(db, b.grad.numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- forward

def test_forward_composes_the_layers():
    rng = np.random.default_rng(10)
    (W1, b1), (W2, b2) = params = random_params([3, 4, 2], rng)
    X = rng.standard_normal((5, 3))
    Y_hat, cache = forward(params, X, "tanh", "sigmoid")
    expected = 1.0 / (1.0 + np.exp(-(np.tanh(X @ W1 + b1) @ W2 + b2)))
    np.testing.assert_allclose(Y_hat, expected, rtol=1e-12)
    assert isinstance(cache, ForwardCache)
    np.testing.assert_allclose(cache.pre_activations[0], X @ W1 + b1, rtol=1e-12)


def test_softmax_output_rows_are_distributions():
    rng = np.random.default_rng(11)
    Y_hat, _ = forward(random_params([2, 6, 4], rng), rng.standard_normal((7, 2)), "relu", "softmax")
    assert Y_hat.shape == (7, 4) and Y_hat.dtype == np.float64
    np.testing.assert_allclose(Y_hat.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(Y_hat > 0)


# ---------------------------------------------------------------- init_params

def test_init_params_shapes_and_zero_biases():
    params = init_params([2, 8, 5, 3], seed=1)
    assert [W.shape for W, _ in params] == [(2, 8), (8, 5), (5, 3)]
    assert [b.shape for _, b in params] == [(8,), (5,), (3,)]
    assert all(W.dtype == np.float64 and b.dtype == np.float64 for W, b in params)
    assert all(np.all(b == 0.0) for _, b in params)


@pytest.mark.parametrize("n_in,n_out", [(400, 300), (50, 2000), (1000, 100)])
def test_init_params_has_xavier_uniform_scale(n_in, n_out):
    (W, _), = init_params([n_in, n_out], seed=2)
    limit = np.sqrt(6.0 / (n_in + n_out))
    assert np.all(np.abs(W) <= limit)
    assert np.abs(W).max() > 0.99 * limit  # uniform up to the limit, not a narrower normal
    # Var U(-a, a) = a^2 / 3 = 2 / (n_in + n_out); 1e5 draws pin the std to well under 2 %.
    assert W.std() == pytest.approx(np.sqrt(2.0 / (n_in + n_out)), rel=0.02)
    assert abs(W.mean()) < 0.02 * limit


def test_init_params_depends_only_on_the_seed():
    first, again, other = init_params([3, 4, 2], 5), init_params([3, 4, 2], 5), init_params([3, 4, 2], 6)
    for (W, _), (W_again, _), (W_other, _) in zip(first, again, other):
        np.testing.assert_array_equal(W, W_again)
        assert not np.allclose(W, W_other)


# ---------------------------------------------------------------- loss_value, predict, accuracy

@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_loss_value_is_the_named_mean_loss(loss):
    rng = np.random.default_rng(12)
    Y_hat = softmax(rng.standard_normal((4, 3)))
    Y = make_targets(loss, (4, 3), rng)
    assert loss_value(Y_hat, Y, loss) == pytest.approx(float(LOSSES[loss][0](Y_hat, Y)), rel=1e-12)


def test_predict_and_accuracy_use_the_argmax():
    params = [(np.eye(3), np.zeros(3))]  # one identity layer: the class is the largest input
    X = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 1.0], [0.0, 1.0, 2.0], [9.0, 1.0, 2.0]])
    np.testing.assert_array_equal(predict(params, X, "relu"), [0, 1, 2, 0])
    assert accuracy(params, X, np.array([0, 1, 2, 1]), "relu") == 0.75


# ---------------------------------------------------------------- validation

@pytest.fixture
def small():
    rng = np.random.default_rng(13)
    return random_params([2, 3, 2], rng), rng.standard_normal((4, 2))


@pytest.mark.parametrize("kwargs,match", [
    ({"hidden": "softplus"}, "hidden activation"),
    ({"hidden": "softmax"}, "hidden activation"),
    ({"output": "linear"}, "output activation"),
])
def test_forward_rejects_unknown_activations(small, kwargs, match):
    params, X = small
    with pytest.raises(ValueError, match=match):
        forward(params, X, **kwargs)


def test_forward_rejects_mismatched_shapes(small):
    params, X = small
    with pytest.raises(ValueError, match="X must have shape"):
        forward(params, X[:, :1])
    with pytest.raises(ValueError, match="X must have shape"):
        forward(params, X[0])
    with pytest.raises(ValueError, match="inputs but the layer before"):
        forward([params[0], (np.zeros((4, 2)), np.zeros(2))], X)
    with pytest.raises(ValueError, match="b"):
        forward([(params[0][0], np.zeros(5))], X)
    with pytest.raises(ValueError, match="empty"):
        forward([], X)


def test_backward_rejects_bad_targets_loss_and_cache(small):
    params, X = small
    _, cache = forward(params, X)
    with pytest.raises(ValueError, match="unknown loss"):
        backward(params, cache, np.zeros((4, 2)), loss="hinge")
    with pytest.raises(ValueError, match="shape of Y_hat"):
        backward(params, cache, np.zeros((4, 3)))
    with pytest.raises(TypeError, match="ForwardCache"):
        backward(params, {"A": []}, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="layers"):
        backward(params[:1], cache, np.zeros((4, 2)))


@pytest.mark.parametrize("layer_sizes", [[3], [], [2, 0, 3], [2, 2.5, 3], [2, -1]])
def test_init_params_rejects_bad_layer_sizes(layer_sizes):
    with pytest.raises(ValueError, match="layer"):
        init_params(layer_sizes)
