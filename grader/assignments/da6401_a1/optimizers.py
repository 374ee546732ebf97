"""The textbook update rules of Assignment 1, as pure functions on lists of float64 arrays.

A network's parameters are a list of arrays, one per tensor (`W0, b0, W1, b1, ...`), with
`is_bias[i]` saying which are biases; gradients come in the same order and shapes. A rule never
changes its arguments: `step` returns the new parameters and a new `OptimizerState`.

With `g` the gradient of the loss, `lr` the learning rate and `t` the number of updates taken
(advanced once per update, for every tensor alike):

- L2 weight decay, weights only:   `g_W += weight_decay * W`  (biases keep `g_b`)
- sgd:       `w -= lr g`
- momentum:  `u = beta u + g;  w -= lr u`
             (the same trajectory as `u' = beta u' + lr g; w -= u'` while lr is constant: u' = lr u)
- nag:       Bengio / PyTorch form, on the gradient at the current point:
             `u = beta u + g;  w -= lr (g + beta u)`  (u already updated)
             look-ahead form, see `nag_lookahead_step`:
             `g = grad(w - lr beta u);  u = beta u + g;  w -= lr u`
- rmsprop:   `v = beta v + (1 - beta) g^2;  w -= lr g / (sqrt(v) + eps)`
- adam:      `m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
              m_hat = m / (1 - b1^t);  v_hat = v / (1 - b2^t);  w -= lr m_hat / (sqrt(v_hat) + eps)`
- nadam:     as adam, then `w -= lr (b1 m_hat + (1 - b1) g / (1 - b1^t)) / (sqrt(v_hat) + eps)`
             (Dozat 2016, the form of the course's lecture)

The two NAG forms give the same trajectory, shifted. Write the look-ahead run as `(w_t, u_t)`
and put `theta_t = w_t - lr beta u_t` (its look-ahead point). Then
`theta_{t+1} = w_t - lr u_{t+1} - lr beta u_{t+1}
             = theta_t + lr beta u_t - lr u_{t+1} - lr beta u_{t+1}
             = theta_t - lr (g_t + beta u_{t+1})`      using `u_{t+1} = beta u_t + g_t`,
with `g_t = grad(theta_t)`: the Bengio form's update, at its own current point `theta_t`, with
the same velocities. From `u_0 = 0` both start at `theta_0 = w_0`, and the Bengio run's
parameters are the look-ahead run's look-ahead points, `lookahead_point(w_t, u_t)`, for every
loss (a quadratic in the tests). A training loop that calls `backward` at the network's own
weights and then the optimizer can therefore do NAG exactly, in the Bengio form.

Hyper-parameters default to the course's: momentum beta 0.9, rmsprop beta 0.9, adam and nadam
beta1 0.9 and beta2 0.999, eps 1e-8.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

RULES: tuple[str, ...] = ("sgd", "momentum", "nag", "rmsprop", "adam", "nadam")

# A loss gradient at given parameters: one array per tensor, in the parameters' order.
GradientFunction = Callable[[Sequence[np.ndarray]], Sequence[np.ndarray]]


@dataclass(frozen=True, kw_only=True)
class HyperParams:
    """The options a rule reads; `momentum` is the beta of momentum and nag."""

    learning_rate: float
    weight_decay: float = 0.0
    momentum: float = 0.9
    rmsprop_beta: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8


@dataclass(frozen=True, eq=False)
class OptimizerState:
    """What a rule carries from one update to the next, one array per tensor.

    `t`: updates taken so far. `first`: the velocity `u` (momentum, nag) or the first moment
    `m` (adam, nadam). `second`: the second moment `v` (rmsprop, adam, nadam). A rule leaves
    the arrays it does not use at zero.
    """

    t: int
    first: tuple[np.ndarray, ...]
    second: tuple[np.ndarray, ...]


def as_arrays(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Float64 copies, so a rule never shares memory with its caller."""
    return [np.array(a, dtype=np.float64) for a in arrays]


def initial_state(params: Sequence[np.ndarray]) -> OptimizerState:
    """t = 0 and zero velocities and moments shaped like `params`."""
    zeros = tuple(np.zeros(np.shape(p), dtype=np.float64) for p in params)
    return OptimizerState(t=0, first=zeros, second=zeros)


def decayed_gradients(params: Sequence[np.ndarray], grads: Sequence[np.ndarray],
                      is_bias: Sequence[bool], weight_decay: float) -> list[np.ndarray]:
    """`g_W + weight_decay * W` for weights, `g_b` unchanged for biases (L2 on weights only)."""
    return [np.asarray(g, dtype=np.float64) + (0.0 if bias else weight_decay) * np.asarray(w, dtype=np.float64)
            for w, g, bias in zip(params, grads, is_bias)]


def moving_average(average: np.ndarray, value: np.ndarray, beta: float) -> np.ndarray:
    """`beta average + (1 - beta) value`: the moments of rmsprop, adam and nadam."""
    return beta * average + (1.0 - beta) * value


def bias_corrected(average: np.ndarray, beta: float, t: int) -> np.ndarray:
    """`average / (1 - beta^t)`: a moving average started at zero, rescaled after t updates."""
    return average / (1.0 - beta ** t)


def adaptive_step(numerator: np.ndarray, second: np.ndarray, hp: HyperParams) -> np.ndarray:
    """`lr numerator / (sqrt(second) + eps)`: the step of rmsprop, adam and nadam."""
    return hp.learning_rate * numerator / (np.sqrt(second) + hp.epsilon)


def sgd_update(w: np.ndarray, g: np.ndarray, hp: HyperParams) -> np.ndarray:
    """`w - lr g`."""
    return w - hp.learning_rate * g


def momentum_update(w: np.ndarray, g: np.ndarray, u: np.ndarray,
                    hp: HyperParams) -> tuple[np.ndarray, np.ndarray]:
    """`u = beta u + g;  w - lr u`."""
    u = hp.momentum * u + g
    return w - hp.learning_rate * u, u


def nag_update(w: np.ndarray, g: np.ndarray, u: np.ndarray,
               hp: HyperParams) -> tuple[np.ndarray, np.ndarray]:
    """Bengio / PyTorch NAG on the gradient at w: `u = beta u + g;  w - lr (g + beta u)`."""
    u = hp.momentum * u + g
    return w - hp.learning_rate * (g + hp.momentum * u), u


def rmsprop_update(w: np.ndarray, g: np.ndarray, v: np.ndarray,
                   hp: HyperParams) -> tuple[np.ndarray, np.ndarray]:
    """`v = beta v + (1 - beta) g^2;  w - lr g / (sqrt(v) + eps)`."""
    v = moving_average(v, g * g, hp.rmsprop_beta)
    return w - adaptive_step(g, v, hp), v


def adam_update(w: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int,
                hp: HyperParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`m, v` moving averages of g and g^2; `w - lr m_hat / (sqrt(v_hat) + eps)` at update t (from 1)."""
    m = moving_average(m, g, hp.beta1)
    v = moving_average(v, g * g, hp.beta2)
    return w - adaptive_step(bias_corrected(m, hp.beta1, t), bias_corrected(v, hp.beta2, t), hp), m, v


def nadam_update(w: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int,
                 hp: HyperParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adam's moments; `w - lr (b1 m_hat + (1 - b1) g / (1 - b1^t)) / (sqrt(v_hat) + eps)`."""
    m = moving_average(m, g, hp.beta1)
    v = moving_average(v, g * g, hp.beta2)
    numerator = hp.beta1 * bias_corrected(m, hp.beta1, t) + (1.0 - hp.beta1) * bias_corrected(g, hp.beta1, t)
    return w - adaptive_step(numerator, bias_corrected(v, hp.beta2, t), hp), m, v


def _checked(params: Sequence[np.ndarray], grads: Sequence[np.ndarray], is_bias: Sequence[bool],
             state: OptimizerState) -> None:
    counts = {len(params), len(grads), len(is_bias), len(state.first), len(state.second)}
    if len(counts) != 1:
        raise ValueError(f"params ({len(params)}), grads ({len(grads)}), is_bias ({len(is_bias)}) and the "
                         f"state ({len(state.first)}) must have one entry per tensor")
    for i, (w, g) in enumerate(zip(params, grads)):
        if np.shape(w) != np.shape(g) or np.shape(w) != np.shape(state.first[i]):
            raise ValueError(f"tensor {i}: parameter {np.shape(w)}, gradient {np.shape(g)} and state "
                             f"{np.shape(state.first[i])} must have one shape")


def step(rule: str, params: Sequence[np.ndarray], grads: Sequence[np.ndarray], state: OptimizerState,
         hp: HyperParams, *, is_bias: Sequence[bool]) -> tuple[list[np.ndarray], OptimizerState]:
    """One update of every tensor by `rule` on the loss gradients `grads` taken at `params`.

    Weight decay is added to the weights' gradients first; t advances once for the whole update.
    NAG here is the Bengio form (see the module docstring); `nag_lookahead_step` is the other.
    """
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; the rules are {', '.join(RULES)}")
    _checked(params, grads, is_bias, state)
    params = as_arrays(params)
    grads = decayed_gradients(params, grads, is_bias, hp.weight_decay)
    t = state.t + 1
    new_params, first, second = [], list(state.first), list(state.second)
    for i, (w, g) in enumerate(zip(params, grads)):
        if rule == "sgd":
            w = sgd_update(w, g, hp)
        elif rule == "momentum":
            w, first[i] = momentum_update(w, g, first[i], hp)
        elif rule == "nag":
            w, first[i] = nag_update(w, g, first[i], hp)
        elif rule == "rmsprop":
            w, second[i] = rmsprop_update(w, g, second[i], hp)
        elif rule == "adam":
            w, first[i], second[i] = adam_update(w, g, first[i], second[i], t, hp)
        else:
            w, first[i], second[i] = nadam_update(w, g, first[i], second[i], t, hp)
        new_params.append(w)
    return new_params, OptimizerState(t=t, first=tuple(first), second=tuple(second))


def lookahead_point(params: Sequence[np.ndarray], state: OptimizerState, hp: HyperParams) -> list[np.ndarray]:
    """`w - lr beta u`: where look-ahead NAG takes its gradient, and the Bengio form's parameters."""
    return [np.asarray(w, dtype=np.float64) - hp.learning_rate * hp.momentum * u
            for w, u in zip(params, state.first)]


def nag_lookahead_step(params: Sequence[np.ndarray], grad_fn: GradientFunction, state: OptimizerState,
                       hp: HyperParams, *, is_bias: Sequence[bool]) -> tuple[list[np.ndarray], OptimizerState]:
    """Look-ahead NAG: `g = grad(w - lr beta u) + decay;  u = beta u + g;  w -= lr u`.

    `grad_fn(points)` is the loss gradient at `points`; the L2 term is the regularised loss's
    gradient at the same look-ahead point, `weight_decay * (w - lr beta u)` for weights.
    """
    point = lookahead_point(params, state, hp)
    grads = as_arrays(grad_fn(point))
    _checked(params, grads, is_bias, state)
    grads = decayed_gradients(point, grads, is_bias, hp.weight_decay)
    new_params, first = [], []
    for w, g, u in zip(as_arrays(params), grads, state.first):
        w, u = momentum_update(w, g, u, hp)
        new_params.append(w)
        first.append(u)
    return new_params, OptimizerState(t=state.t + 1, first=tuple(first), second=state.second)
