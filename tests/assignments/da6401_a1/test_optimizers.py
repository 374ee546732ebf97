"""The textbook rules: first steps derived by hand, NAG's two forms on a quadratic, properties."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.assignments.da6401_a1.optimizers import (
    RULES,
    HyperParams,
    initial_state,
    lookahead_point,
    nag_lookahead_step,
    step,
)

# One weight tensor and one bias tensor, with lr 0.1 and the course's betas.
W = np.array([1.0, -2.0])
B = np.array([0.5])
G_W = np.array([0.5, -1.0])
G_B = np.array([2.0])
IS_BIAS = [False, True]
HP = HyperParams(learning_rate=0.1)


def run(rule: str, steps: int = 1, hp: HyperParams = HP, params=(W, B), grads=(G_W, G_B)):
    """`steps` updates with the same gradients every time."""
    params, state = list(params), initial_state(params)
    for _ in range(steps):
        params, state = step(rule, params, list(grads), state, hp, is_bias=IS_BIAS)
    return params, state


def test_sgd_first_step():
    # w - lr g = [1 - 0.05, -2 + 0.1];  b - lr g_b = 0.5 - 0.2
    (w, b), _ = run("sgd")
    np.testing.assert_allclose(w, [0.95, -1.9])
    np.testing.assert_allclose(b, [0.3])


def test_momentum_first_two_steps():
    # step 1: u = g, w - lr g = [0.95, -1.9]
    # step 2: u = 0.9 g + g = 1.9 g, w = [0.95, -1.9] - 0.19 [0.5, -1] = [0.855, -1.71]
    (w1, _), _ = run("momentum", 1)
    (w2, _), state = run("momentum", 2)
    np.testing.assert_allclose(w1, [0.95, -1.9])
    np.testing.assert_allclose(w2, [0.855, -1.71])
    np.testing.assert_allclose(state.first[0], 1.9 * G_W)


def test_nag_bengio_first_step():
    # u = g;  w - lr (g + 0.9 u) = w - 0.19 g = [1 - 0.095, -2 + 0.19]
    (w, b), _ = run("nag")
    np.testing.assert_allclose(w, [0.905, -1.81])
    np.testing.assert_allclose(b, [0.5 - 0.38])


def test_rmsprop_first_step():
    # v = 0.1 g^2, sqrt(v) = sqrt(0.1) |g|;  w - 0.1 g / (sqrt(0.1) |g| + 1e-8) ~ w - sqrt(0.1) sign(g)
    (w, b), _ = run("rmsprop")
    step_size = 0.1 / np.sqrt(0.1)
    np.testing.assert_allclose(w, [1 - step_size, -2 + step_size], rtol=1e-7)
    np.testing.assert_allclose(b, [0.5 - step_size], rtol=1e-7)


@pytest.mark.parametrize("steps", [1, 2])
def test_adam_steps_are_lr_sign_g_for_a_constant_gradient(steps):
    # step 1: m = 0.1 g, v = 0.001 g^2; m_hat = g, v_hat = g^2; w - 0.1 g / (|g| + eps) ~ w - 0.1 sign(g)
    # step 2: m = 0.19 g, v = 0.001999 g^2; bias-corrected they are g and g^2 again: the same step
    (w, b), state = run("adam", steps)
    np.testing.assert_allclose(w, W - 0.1 * steps * np.sign(G_W), rtol=1e-7)
    np.testing.assert_allclose(b, B - 0.1 * steps * np.sign(G_B), rtol=1e-6)
    assert state.t == steps


def test_nadam_first_step():
    # m_hat = g, v_hat = g^2;  0.9 m_hat + 0.1 g / (1 - 0.9) = 1.9 g;  w - 0.1 * 1.9 g / |g| = w - 0.19 sign(g)
    (w, _), _ = run("nadam")
    np.testing.assert_allclose(w, [0.81, -1.81], rtol=1e-7)


def test_momentum_with_lr_inside_the_velocity_is_the_same_trajectory():
    # u' = beta u' + lr g; w -= u'  is  u = beta u + g; w -= lr u  with u' = lr u (lr constant)
    A = np.array([[3.0, 0.5], [0.5, 1.0]])
    w_ref, state = [np.array([1.0, -1.0])], initial_state([W])
    w_own, velocity = np.array([1.0, -1.0]), np.zeros(2)
    for _ in range(10):
        w_ref, state = step("momentum", w_ref, [A @ w_ref[0]], state, HP, is_bias=[False])
        velocity = 0.9 * velocity + 0.1 * (A @ w_own)
        w_own = w_own - velocity
        np.testing.assert_allclose(w_own, w_ref[0], rtol=1e-12, atol=1e-15)


def test_weight_decay_is_added_to_weights_only():
    # g_W + 0.5 W = [0.5 + 0.5, -1 - 1] = [1, -2];  W - 0.1 [1, -2] = [0.9, -1.8];  b as without decay
    (w, b), _ = run("sgd", hp=HyperParams(learning_rate=0.1, weight_decay=0.5))
    np.testing.assert_allclose(w, [0.9, -1.8])
    np.testing.assert_allclose(b, [0.3])


def test_adam_advances_t_once_per_update_not_per_tensor():
    # the time step is one counter for the whole update: two tensors together step as each alone
    together, state = run("adam")
    w_alone, _ = step("adam", [W], [G_W], initial_state([W]), HP, is_bias=[False])
    b_alone, _ = step("adam", [B], [G_B], initial_state([B]), HP, is_bias=[True])
    assert state.t == 1
    np.testing.assert_array_equal(together[0], w_alone[0])
    np.testing.assert_array_equal(together[1], b_alone[0])


def quadratic(A: np.ndarray, c: np.ndarray):
    """f(w) = 1/2 w^T A w - c^T w, gradient A w - c, per tensor (a flat weight and a bias)."""
    def gradient(params):
        return [A @ params[0] - c, 2.0 * params[1]]
    return gradient


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_nag_forms_give_the_same_trajectory_shifted_to_the_lookahead_points(weight_decay):
    # theta_t = w_t - lr beta u_t (the look-ahead point) follows the Bengio form with the same u
    rng = np.random.default_rng(1)
    M = rng.normal(size=(3, 3))
    gradient = quadratic(M @ M.T + np.eye(3), rng.normal(size=3))
    hp = HyperParams(learning_rate=0.05, weight_decay=weight_decay)
    start = [rng.normal(size=3), np.array([0.7])]
    ahead, ahead_state = start, initial_state(start)
    bengio, bengio_state = start, initial_state(start)
    for _ in range(25):
        np.testing.assert_allclose(np.concatenate(bengio),
                                   np.concatenate(lookahead_point(ahead, ahead_state, hp)), rtol=1e-10, atol=1e-12)
        ahead, ahead_state = nag_lookahead_step(ahead, gradient, ahead_state, hp, is_bias=IS_BIAS)
        bengio, bengio_state = step("nag", bengio, gradient(bengio), bengio_state, hp, is_bias=IS_BIAS)
        for u_ahead, u_bengio in zip(ahead_state.first, bengio_state.first):
            np.testing.assert_allclose(u_bengio, u_ahead, rtol=1e-10, atol=1e-12)


def test_nag_lookahead_first_step_is_momentum_from_rest():
    # u_0 = 0: the look-ahead point is w itself, so the first update is u = g, w - lr g
    gradient = quadratic(np.eye(2), np.zeros(2))
    params = [W, B]
    ahead, _ = nag_lookahead_step(params, gradient, initial_state(params), HP, is_bias=IS_BIAS)
    plain, _ = step("momentum", params, gradient(params), initial_state(params), HP, is_bias=IS_BIAS)
    np.testing.assert_allclose(np.concatenate(ahead), np.concatenate(plain))


def test_unknown_rules_and_mismatched_lists_are_errors():
    with pytest.raises(ValueError, match="unknown rule"):
        step("adagrad", [W], [G_W], initial_state([W]), HP, is_bias=[False])
    with pytest.raises(ValueError, match="one entry per tensor"):
        step("sgd", [W, B], [G_W], initial_state([W, B]), HP, is_bias=IS_BIAS)
    with pytest.raises(ValueError, match="one shape"):
        step("sgd", [W], [G_B], initial_state([W]), HP, is_bias=[False])


# --- properties ----------------------------------------------------------------------------

finite = st.floats(min_value=-10, max_value=10, allow_nan=False, allow_infinity=False)


@st.composite
def parameters_and_gradients(draw):
    """2-4 tensors of small shapes, their gradients, and which are biases."""
    n = draw(st.integers(min_value=1, max_value=4))
    shapes = [draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)) for _ in range(n)]
    params = [draw(hnp.arrays(np.float64, shape, elements=finite)) for shape in shapes]
    grads = [draw(hnp.arrays(np.float64, shape, elements=finite)) for shape in shapes]
    is_bias = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return params, grads, is_bias


@settings(max_examples=60, deadline=None)
@given(case=parameters_and_gradients(), rule=st.sampled_from(RULES),
       weight_decay=st.floats(min_value=0, max_value=1))
def test_a_zero_learning_rate_changes_nothing(case, rule, weight_decay):
    params, grads, is_bias = case
    new, _ = step(rule, params, grads, initial_state(params), HyperParams(learning_rate=0.0, weight_decay=weight_decay),
                  is_bias=is_bias)
    for before, after in zip(params, new):
        np.testing.assert_array_equal(after, before)


@settings(max_examples=60, deadline=None)
@given(case=parameters_and_gradients(), rule=st.sampled_from(RULES),
       weight_decay=st.floats(min_value=0.01, max_value=1))
def test_weight_decay_never_changes_biases(case, rule, weight_decay):
    params, grads, is_bias = case
    runs = []
    for decay in (0.0, weight_decay):
        hp = HyperParams(learning_rate=0.1, weight_decay=decay)
        current, state = params, initial_state(params)
        for _ in range(3):
            current, state = step(rule, current, grads, state, hp, is_bias=is_bias)
        runs.append(current)
    for bias, without, with_decay in zip(is_bias, *runs):
        if bias:
            np.testing.assert_array_equal(with_decay, without)


@settings(max_examples=40, deadline=None)
@given(case=parameters_and_gradients(), rule=st.sampled_from(RULES))
def test_a_step_never_changes_its_arguments(case, rule):
    params, grads, is_bias = case
    copies = [p.copy() for p in params], [g.copy() for g in grads]
    state = initial_state(params)
    step(rule, params, grads, state, HyperParams(learning_rate=0.1, weight_decay=0.1), is_bias=is_bias)
    for original, kept in zip(params + grads, copies[0] + copies[1]):
        np.testing.assert_array_equal(original, kept)
    assert state.t == 0 and all(not u.any() for u in state.first + state.second)
