"""Full-batch training runs written out by hand with the reference's gradients, to compare optimizers with.

With full batches, `NeuralNetwork.train(X, y, epochs=k, batch_size=len(X))` takes k steps
whose gradients do not depend on the shuffling, so its weights after k epochs can be compared
with these runs. Parameters are lists `[W0, b0, W1, b1, ...]`, reference orientation.
With learning rate eta and momentum beta, from v = 0:

    sgd            theta -= eta g(theta)
    momentum       v = beta v + eta g(theta);          theta -= v
    nag_look_ahead v = beta v + eta g(theta - beta v); theta -= v
    nag_bengio     v = beta v + eta g(phi);            phi -= beta v + eta g(phi)
                   (phi_t = theta_t - beta v_t: the same run seen at its look-ahead points)
"""
from __future__ import annotations

import numpy as np

from grader.assignments.da6401_a1.reference.network import backward, forward

Params = list[np.ndarray]


def reference_gradient(params: Params, X: np.ndarray, y: np.ndarray, loss: str, activation: str) -> Params:
    """[dW0, db0, dW1, db1, ...] of the batch-mean loss at `params`."""
    weights, biases = params[0::2], params[1::2]
    _, cache = forward(weights, biases, X, activation)
    grad_Ws, grad_bs = backward(weights, biases, cache, y, loss, activation)
    return [g for pair in zip(grad_Ws, grad_bs) for g in pair]


def run(rule: str, params: Params, X: np.ndarray, y: np.ndarray, steps: int, loss: str, activation: str,
        learning_rate: float, momentum: float = 0.9) -> Params:
    """The parameters after `steps` full-batch steps of `rule` (sgd, momentum, nag_look_ahead, nag_bengio)."""
    theta = [p.copy() for p in params]
    velocity = [np.zeros_like(p) for p in params]
    for _ in range(steps):
        at = [t - momentum * v for t, v in zip(theta, velocity)] if rule == "nag_look_ahead" else theta
        grads = reference_gradient(at, X, y, loss, activation)
        if rule == "sgd":
            theta = [t - learning_rate * g for t, g in zip(theta, grads)]
            continue
        velocity = [momentum * v + learning_rate * g for v, g in zip(velocity, grads)]
        if rule == "nag_bengio":
            theta = [t - (momentum * v + learning_rate * g) for t, v, g in zip(theta, velocity, grads)]
        else:
            theta = [t - v for t, v in zip(theta, velocity)]
    return theta
