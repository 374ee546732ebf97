"""reference.training: the SGD step and the training loop."""
from __future__ import annotations

import copy
import time

import numpy as np
import pytest

from reference.datasets import make_dataset, one_hot, train_test_split
from reference.mlp import accuracy, backward, forward, init_params, loss_value
from reference.training import SPIRALS_SETTINGS, sgd_step, train


def random_params_and_grads(seed=0):
    rng = np.random.default_rng(seed)
    params = [(rng.standard_normal((3, 4)), rng.standard_normal(4)),
              (rng.standard_normal((4, 2)), rng.standard_normal(2))]
    grads = [(rng.standard_normal(W.shape), rng.standard_normal(b.shape)) for W, b in params]
    return params, grads


# ---------------------------------------------------------------- sgd_step

@pytest.mark.parametrize("lr", [0.5, 0.01, 2.0])
def test_sgd_step_moves_against_the_gradient(lr):
    params, grads = random_params_and_grads()
    updated = sgd_step(params, grads, lr)
    assert len(updated) == len(params)
    for (W, b), (dW, db), (W_new, b_new) in zip(params, grads, updated):
        np.testing.assert_allclose(W_new, W - lr * dW, rtol=1e-15)
        np.testing.assert_allclose(b_new, b - lr * db, rtol=1e-15)


def test_sgd_step_leaves_its_inputs_unchanged_and_returns_new_arrays():
    params, grads = random_params_and_grads(1)
    params_before, grads_before = copy.deepcopy(params), copy.deepcopy(grads)
    updated = sgd_step(params, grads, 0.1)
    for layer in range(len(params)):
        for slot in range(2):
            np.testing.assert_array_equal(params[layer][slot], params_before[layer][slot])
            np.testing.assert_array_equal(grads[layer][slot], grads_before[layer][slot])
            assert not np.shares_memory(updated[layer][slot], params[layer][slot])


def test_a_small_step_lowers_the_loss():
    # First order: L(theta - lr g) = L(theta) - lr |g|^2 + O(lr^2) < L(theta) for a small lr.
    rng = np.random.default_rng(2)
    params = init_params([2, 5, 3], seed=2)
    X, Y = rng.standard_normal((8, 2)), one_hot(rng.integers(0, 3, size=8), 3)
    Y_hat, cache = forward(params, X, "tanh", "softmax")
    stepped = sgd_step(params, backward(params, cache, Y, "cce"), 1e-3)
    assert loss_value(forward(stepped, X, "tanh", "softmax")[0], Y) < loss_value(Y_hat, Y)


def test_sgd_step_rejects_mismatched_structures():
    params, grads = random_params_and_grads()
    with pytest.raises(ValueError, match="layers"):
        sgd_step(params, grads[:1], 0.1)
    with pytest.raises(ValueError, match="shapes"):
        sgd_step(params, [(grads[0][0].T, grads[0][1]), grads[1]], 0.1)


# ---------------------------------------------------------------- train

@pytest.fixture(scope="module")
def spirals():
    X, labels = make_dataset("spirals", n=600, classes=3, seed=0)
    return train_test_split(X, labels, test_fraction=0.25, seed=0)


@pytest.fixture(scope="module")
def trained(spirals):
    X_train, _, labels_train, _ = spirals
    start = time.perf_counter()
    params, losses = train(X_train, one_hot(labels_train, 3), seed=0, **SPIRALS_SETTINGS)
    return params, losses, time.perf_counter() - start


def test_training_reaches_the_held_out_accuracy_target_quickly(spirals, trained):
    _, X_test, _, labels_test = spirals
    params, _, seconds = trained
    assert accuracy(params, X_test, labels_test, SPIRALS_SETTINGS["hidden"]) >= 0.90
    assert seconds < 10.0  # about a second on one core; generous for a loaded machine


def test_training_reduces_the_loss(trained):
    _, losses, _ = trained
    assert len(losses) == SPIRALS_SETTINGS["epochs"]
    assert all(isinstance(value, float) and np.isfinite(value) for value in losses)
    assert losses[-1] < 0.25 * losses[0]
    assert np.mean(losses[-10:]) < np.mean(losses[:10])


def test_losses_are_the_mean_training_loss_of_each_epoch():
    # One epoch with one full batch: the recorded loss is the loss of the initial weights.
    X, labels = make_dataset("blobs", n=40, classes=2, seed=1)
    _, losses = train(X, labels, [2, 3, 2], epochs=1, batch_size=40, seed=5)
    initial = init_params([2, 3, 2], seed=5)
    initial_loss = loss_value(forward(initial, X, "tanh", "softmax")[0], one_hot(labels, 2))
    assert losses[0] == pytest.approx(initial_loss, rel=1e-12)


def test_training_depends_only_on_the_seed():
    X, labels = make_dataset("moons", n=80, classes=2, seed=2)
    first, again, other = (train(X, labels, [2, 4, 2], epochs=3, seed=s) for s in (7, 7, 8))
    assert first[1] == again[1]
    for (W, _), (W_again, _) in zip(first[0], again[0]):
        np.testing.assert_array_equal(W, W_again)
    assert first[1] != other[1]


def test_labels_and_one_hot_targets_train_the_same():
    X, labels = make_dataset("blobs", n=60, classes=3, seed=3)
    _, from_labels = train(X, labels, [2, 4, 3], epochs=2, seed=1)
    _, from_one_hot = train(X, one_hot(labels, 3), [2, 4, 3], epochs=2, seed=1)
    assert from_labels == from_one_hot


def test_train_leaves_its_inputs_unchanged():
    X, labels = make_dataset("blobs", n=30, classes=3, seed=4)
    Y = one_hot(labels, 3)
    X_before, Y_before = X.copy(), Y.copy()
    train(X, Y, [2, 3, 3], epochs=2, seed=0)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(Y, Y_before)


@pytest.mark.parametrize("layer_sizes,kwargs,match", [
    ([3, 4, 3], {}, "X must have shape"),
    ([2, 4, 5], {}, "one-hot"),
    ([2, 4, 3], {"epochs": 0}, "epochs"),
    ([2, 4, 3], {"batch_size": 0}, "batch_size"),
    ([2, 4, 3], {"lr": -0.1}, "lr"),
])
def test_train_rejects_bad_arguments(layer_sizes, kwargs, match):
    X, labels = make_dataset("blobs", n=30, classes=3, seed=4)
    with pytest.raises(ValueError, match=match):
        train(X, one_hot(labels, 3), layer_sizes, **kwargs)
