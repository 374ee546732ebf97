"""Naming the rule behind a trajectory: right rules match, each deliberate mistake is named.

The trajectories come from `StudentOptimizer`, written the way a student's `optimizers.py`
would be (in place, one layer at a time, the velocity often with lr inside) and independently
of the grader's `optimizers.py`, training a small tanh network on a fixed batch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.assignments.da6401_a1.optimizer_diagnosis import (
    DIAGNOSIS_CODES,
    RECOMMENDED_HYPERPARAMS,
    RECOMMENDED_UPDATES,
    Trajectory,
    accepted_forms,
    explain,
    layers_from_bias_flags,
    make_trajectory,
    mistake_variants,
    step_orders,
)
from grader.assignments.da6401_a1.optimizers import RULES, HyperParams, initial_state, nag_lookahead_step, step

HP = RECOMMENDED_HYPERPARAMS
UPDATES = RECOMMENDED_UPDATES + 1
IS_BIAS = (False, True, False, True)  # W0, b0, W1, b1


# --- a small network and a student's optimizer ---------------------------------------------

def batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(16, 4)), np.eye(3)[rng.integers(0, 3, size=16)]


def loss_gradients(params, X, Y):
    """Softmax cross-entropy of a 4-5-3 tanh network, mean over the batch: [gW0, gb0, gW1, gb1]."""
    W0, b0, W1, b1 = params
    H = np.tanh(X @ W0 + b0)
    Z = H @ W1 + b1
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    dZ = (P - Y) / len(X)
    dH = dZ @ W1.T * (1 - H ** 2)
    return [X.T @ dH, dH.sum(axis=0), H.T @ dZ, dZ.sum(axis=0)]


def start_params(seed: int = 0, zero_biases: bool = False):
    rng = np.random.default_rng(100 + seed)
    biases = (np.zeros(5), np.zeros(3)) if zero_biases else (rng.normal(size=5), rng.normal(size=3))
    return [rng.normal(size=(4, 5)), biases[0], rng.normal(size=(5, 3)), biases[1]]


@dataclass
class Layer:
    W: np.ndarray
    b: np.ndarray
    grad_W: Optional[np.ndarray] = None
    grad_b: Optional[np.ndarray] = None
    slots: dict = field(default_factory=dict)


@dataclass
class StudentOptimizer:
    """`update(layers)` in place; `slips` ("a+b") pick deliberate mistakes or accepted variants."""

    rule: str
    hp: HyperParams
    slips: str = ""
    t: int = 0

    def has(self, slip: str) -> bool:
        return slip in self.slips.split("+")

    def update(self, layers):
        if not self.has("step_per_layer"):
            self.t += 1
        for layer in layers:
            if self.has("step_per_layer"):
                self.t += 1
            for name in ("W", "b"):
                param = getattr(layer, name)
                grad = getattr(layer, "grad_" + name).copy()
                decays = (name == "W" and not self.has("decay_never")) or (name == "b" and self.has("decay_biases"))
                if decays:
                    grad += self.hp.weight_decay * param
                self.update_tensor(param, grad, layer.slots.setdefault(name, {}))

    def update_tensor(self, p, g, s):
        hp, lr, has = self.hp, self.hp.learning_rate, self.has
        eps_in = has("eps_inside")
        u = s.setdefault("u", np.zeros_like(p))
        if self.rule == "sgd":
            p -= lr * g
        elif self.rule == "momentum":
            if has("ema"):
                u[:] = hp.momentum * u + (1 - hp.momentum) * g
                p -= lr * u
            else:  # the lr-inside form
                u[:] = hp.momentum * u + lr * g
                p -= u
        elif self.rule == "nag":
            beta = hp.momentum
            if has("is_momentum"):
                u[:] = beta * u + g
                p -= lr * u
            elif has("is_sgd"):  # look ahead, then undo it without a new gradient
                p -= lr * beta * u
                p += lr * beta * u
                u[:] = beta * u + g
                p -= lr * g
            elif has("lookahead"):  # the training loop took g at p - beta u (lr inside u)
                u[:] = beta * u + lr * g
                p -= u
            elif has("ema"):  # the Bengio form of a look-ahead NAG with an averaged velocity
                u[:] = beta * u + (1 - beta) * g
                p -= lr * ((1 - beta) * g + beta * u)
            else:  # Bengio / PyTorch
                u[:] = beta * u + g
                p -= lr * (g + beta * u)
        elif self.rule == "rmsprop":
            v = s.setdefault("v", np.zeros_like(p))
            v[:] = hp.rmsprop_beta * v + (1 - hp.rmsprop_beta) * g ** 2
            p -= lr * g / (np.sqrt(v + hp.epsilon) if eps_in else np.sqrt(v) + hp.epsilon)
        else:
            b1, b2, t = hp.beta1, hp.beta2, self.t
            v = s.setdefault("v", np.zeros_like(p))
            u[:] = b1 * u + (1 - b1) * g
            v[:] = b2 * v + (1 - b2) * g * g
            correct = not has("no_bias_correction")
            m_hat = u / (1 - b1 ** t) if correct else u
            v_hat = v / (1 - b2 ** t) if correct else v
            if self.rule == "adam":
                top = m_hat
            elif has("dozat"):
                top = b1 * u / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1 ** t)
            else:
                g_corrected = correct or has("g_corrected")  # the raw moments beside a corrected g term
                top = b1 * m_hat + (1 - b1) * (g / (1 - b1 ** t) if g_corrected else g)
            p -= lr * top / (np.sqrt(v_hat + hp.epsilon) if eps_in else np.sqrt(v_hat) + hp.epsilon)


def flat(layers):
    return [a.copy() for layer in layers for a in (layer.W, layer.b)]


def student_run(rule, slips="", hp=HP, updates=UPDATES, seed=0, zero_biases=False, layers_used=2):
    """The grader's record of a student's run and the grader's grad_fn on the same batch."""
    X, Y = batch(seed)
    params = start_params(seed, zero_biases)
    layers = [Layer(params[0], params[1]), Layer(params[2], params[3])]
    optimizer = StudentOptimizer(rule, hp, slips)
    start, after, grads = flat(layers), [], []
    for _ in range(updates):
        grads.append(loss_gradients(flat(layers), X, Y))  # the grader's backward at w_k
        if optimizer.has("lookahead"):
            ahead = [a - hp.momentum * layer.slots.get(n, {}).get("u", 0.0)
                     for layer in layers for n, a in (("W", layer.W), ("b", layer.b))]
            step_grads = loss_gradients(ahead, X, Y)
        else:
            step_grads = grads[-1]
        for i, layer in enumerate(layers):
            layer.grad_W, layer.grad_b = step_grads[2 * i], step_grads[2 * i + 1]
        optimizer.update(layers[:layers_used] if layers_used < 2 else layers)
        after.append(flat(layers))
    record = make_trajectory(start, after, IS_BIAS, grads)
    return record, (lambda k, at: loss_gradients(at, X, Y))


# --- right rules match ---------------------------------------------------------------------

@pytest.mark.parametrize("rule, variant", [
    ("sgd", None), ("momentum", None), ("nag", None), ("rmsprop", None), ("rmsprop", "eps_inside"),
    ("adam", None), ("adam", "eps_inside"), ("nadam", None), ("nadam", "eps_inside"), ("nadam", "dozat"),
    ("nadam", "dozat+eps_inside"),
])
def test_a_right_rule_matches(rule, variant):
    record, _ = student_run(rule, variant or "")
    verdict = explain(rule, record, HP)
    assert verdict.matches, verdict.detail
    assert verdict.closest == rule and verdict.diagnosis is None
    assert verdict.error < 1e-10
    assert verdict.indistinguishable == ()


@pytest.mark.parametrize("rule", ["sgd", "momentum", "nag", "rmsprop", "adam", "nadam"])
def test_a_right_rule_matches_with_a_grad_fn_too(rule):
    record, grad_fn = student_run(rule)
    assert explain(rule, record, HP, grad_fn=grad_fn).matches


def test_lookahead_nag_matches_when_the_grader_can_take_gradients():
    record, grad_fn = student_run("nag", "lookahead")
    verdict = explain("nag", record, HP, grad_fn=grad_fn)
    assert verdict.matches and "look-ahead form" in verdict.detail, verdict.detail
    assert explain("nag", make_trajectory(record.start, record.after, IS_BIAS), HP, grad_fn=grad_fn).matches


def test_lookahead_nag_without_a_grad_fn_is_not_blamed_on_a_mistake():
    # gradients at w_k only: the look-ahead run is unexplained, and the detail says what would tell
    record, _ = student_run("nag", "lookahead")
    verdict = explain("nag", record, HP)
    assert not verdict.matches and verdict.diagnosis is None
    assert "grad_fn" in verdict.detail


@pytest.mark.parametrize("rule", RULES)
def test_the_grader_s_own_rules_are_explained_to_rounding(rule):
    X, Y = batch(3)
    params = start_params(3)
    state, after, grads = initial_state(params), [], []
    current = params
    for _ in range(UPDATES):
        grads.append(loss_gradients(current, X, Y))
        current, state = step(rule, current, grads[-1], state, HP, is_bias=IS_BIAS)
        after.append(current)
    verdict = explain(rule, make_trajectory(params, after, IS_BIAS, grads), HP)
    assert verdict.matches and verdict.error < 1e-12


def test_the_grader_s_lookahead_nag_is_explained_to_rounding():
    X, Y = batch(4)
    params = start_params(4)
    state, after, current = initial_state(params), [], params
    for _ in range(UPDATES):
        current, state = nag_lookahead_step(current, lambda at: loss_gradients(at, X, Y), state, HP, is_bias=IS_BIAS)
        after.append(current)
    verdict = explain("nag", make_trajectory(params, after, IS_BIAS), HP,
                      grad_fn=lambda k, at: loss_gradients(at, X, Y))
    assert verdict.matches and verdict.error < 1e-12


# --- each mistake is named -----------------------------------------------------------------

MISTAKES = [
    ("sgd", "decay_never", "weight_decay_ignored", "never applied"),
    ("sgd", "decay_biases", "weight_decay_ignored", "biases too"),
    ("momentum", "ema", "momentum_ema", "(1 - beta) g"),
    ("momentum", "decay_never", "weight_decay_ignored", "never applied"),
    ("nag", "is_momentum", "nag_is_momentum", "no look-ahead"),
    ("nag", "is_sgd", "nag_is_sgd", "plain SGD"),
    ("nag", "ema", "momentum_ema", "(1 - beta) g"),
    ("nag", "decay_biases", "weight_decay_ignored", "biases too"),
    ("rmsprop", "decay_never", "weight_decay_ignored", "never applied"),
    ("rmsprop", "decay_biases", "weight_decay_ignored", "biases too"),
    ("adam", "step_per_layer", "adam_step_per_layer", "once per layer"),
    ("adam", "no_bias_correction", "no_bias_correction", "no bias correction"),
    ("adam", "decay_never", "weight_decay_ignored", "never applied"),
    ("nadam", "step_per_layer", "adam_step_per_layer", "once per layer"),
    ("nadam", "no_bias_correction", "no_bias_correction", "no bias correction"),
    ("nadam", "no_bias_correction+g_corrected", "no_bias_correction", "the g term still divided"),
    ("nadam", "decay_biases", "weight_decay_ignored", "biases too"),
]


@pytest.mark.parametrize("rule, slip, code, words", MISTAKES)
@pytest.mark.parametrize("with_grad_fn", [False, True])
def test_each_mistake_is_named(rule, slip, code, words, with_grad_fn):
    record, grad_fn = student_run(rule, slip)
    verdict = explain(rule, record, HP, grad_fn=grad_fn if with_grad_fn else None)
    assert not verdict.matches
    assert verdict.diagnosis == code and verdict.closest == code, verdict.detail
    assert words in verdict.detail, verdict.detail
    assert verdict.error > 1e-3  # far from the right rule, not a rounding call


def test_every_mistake_code_is_exercised_and_none_is_unknown():
    assert {code for _, _, code, _ in MISTAKES} == set(DIAGNOSIS_CODES)
    for rule in RULES:
        for variant in mistake_variants(accepted_forms(rule, lookahead=True), layers_from_bias_flags(IS_BIAS)):
            assert variant.name in DIAGNOSIS_CODES


@pytest.mark.parametrize("rule, slips, code", [
    ("adam", "eps_inside+no_bias_correction", "no_bias_correction"),
    ("nadam", "dozat+eps_inside+step_per_layer", "adam_step_per_layer"),
    ("nadam", "dozat+decay_never", "weight_decay_ignored"),
    ("rmsprop", "eps_inside+decay_biases", "weight_decay_ignored"),
])
def test_a_mistake_on_an_accepted_variant_is_still_named(rule, slips, code):
    # eps inside the square root and Dozat's nadam are right; the slip on top of them is not
    record, _ = student_run(rule, slips)
    verdict = explain(rule, record, HP)
    assert not verdict.matches and verdict.diagnosis == code, verdict.detail


def test_a_bias_started_at_zero_shows_decay_from_the_second_update():
    record, _ = student_run("sgd", "decay_biases", zero_biases=True)
    verdict = explain("sgd", record, HP)
    assert verdict.diagnosis == "weight_decay_ignored" and "biases too" in verdict.detail


# --- what cannot be told apart -------------------------------------------------------------

def test_with_no_weight_decay_the_decay_mistake_cannot_be_told_apart():
    hp = HyperParams(learning_rate=0.1, weight_decay=0.0)
    record, _ = student_run("adam", "decay_never", hp=hp)
    verdict = explain("adam", record, hp)
    assert verdict.matches and verdict.diagnosis is None
    assert "weight_decay_ignored" in verdict.indistinguishable
    assert "weight_decay is 0" in verdict.detail


def test_a_mistake_hidden_by_no_weight_decay_still_fails_when_the_rule_differs():
    # wd 0 hides the decay slip, not the velocity slip: the record differs, and both are said
    hp = HyperParams(learning_rate=0.1, weight_decay=0.0)
    record, _ = student_run("momentum", "ema", hp=hp)
    verdict = explain("momentum", record, hp)
    assert not verdict.matches and verdict.diagnosis == "momentum_ema"
    assert "weight_decay_ignored" in verdict.indistinguishable and "weight_decay is 0" in verdict.detail


def test_one_lookahead_update_cannot_tell_nag_from_momentum_and_the_rule_wins_the_tie():
    record, grad_fn = student_run("nag", "is_momentum", updates=1)
    verdict = explain("nag", record, HP, grad_fn=grad_fn)
    assert verdict.matches and verdict.closest == "nag"
    assert {"nag_is_momentum", "nag_is_sgd"} <= set(verdict.indistinguishable)
    assert "one update" in verdict.detail


def test_one_layer_cannot_tell_a_per_layer_time_step():
    # only the first layer is updated: t advanced per layer is t advanced per update
    record, _ = student_run("adam", "step_per_layer", layers_used=1)
    one_layer = make_trajectory([record.start[0], record.start[1]], [a[:2] for a in record.after], IS_BIAS[:2],
                                [g[:2] for g in record.grads])
    verdict = explain("adam", one_layer, HP)
    assert verdict.matches
    assert "adam_step_per_layer" in verdict.indistinguishable and "one layer" in verdict.detail


def test_step_orders_cover_layers_and_tensors_both_ways():
    orders = dict(step_orders(layers_from_bias_flags(IS_BIAS)))
    assert orders["once per layer, first layer first"] == (1, 1, 2, 2)
    assert orders["once per layer, last layer first"] == (2, 2, 1, 1)
    assert orders["once per tensor, in list order"] == (1, 2, 3, 4)
    assert orders["once per tensor, last tensor first"] == (4, 3, 2, 1)


# --- records no rule explains --------------------------------------------------------------

def test_two_mistakes_at_once_are_not_named_as_one():
    # (without bias correction t is never read, so that pair would be no_bias_correction alone)
    record, _ = student_run("adam", "step_per_layer+decay_never")
    verdict = explain("adam", record, HP)
    assert not verdict.matches and verdict.diagnosis is None, verdict.detail


def test_random_parameters_match_nothing():
    record, _ = student_run("sgd")
    rng = np.random.default_rng(9)
    noise = [[rng.normal(size=a.shape) for a in params] for params in record.after]
    verdict = explain("adam", make_trajectory(record.start, noise, IS_BIAS, record.grads), HP)
    assert not verdict.matches and verdict.diagnosis is None
    assert verdict.closest is None and "No known rule" in verdict.detail


def test_non_finite_parameters_are_said_and_named_nothing():
    record, _ = student_run("sgd")
    after = [list(a) for a in record.after]
    after[1][2] = after[1][2] * np.nan
    verdict = explain("sgd", make_trajectory(record.start, after, IS_BIAS, record.grads), HP)
    assert (verdict.matches, verdict.closest, verdict.diagnosis) == (False, None, None)
    assert "W1 after update 2" in verdict.detail


def test_non_finite_gradients_are_said_and_named_nothing():
    record, _ = student_run("sgd")
    grads = [list(g) for g in record.grads]
    grads[2][1] = grads[2][1] * np.inf
    verdict = explain("adam", make_trajectory(record.start, record.after, IS_BIAS, grads), HP)
    assert (verdict.matches, verdict.closest, verdict.diagnosis) == (False, None, None)
    assert "before update 3 are not finite" in verdict.detail


def test_a_record_without_gradients_needs_a_grad_fn():
    record, _ = student_run("sgd")
    with pytest.raises(ValueError, match="grad_fn"):
        explain("sgd", make_trajectory(record.start, record.after, IS_BIAS), HP)


def test_a_trajectory_is_checked_when_made():
    record, _ = student_run("sgd")
    with pytest.raises(ValueError, match="one entry per tensor"):
        make_trajectory(record.start, record.after, IS_BIAS[:3])
    with pytest.raises(ValueError, match="starting shapes"):
        make_trajectory(record.start, [record.after[0][:3]], IS_BIAS)
    with pytest.raises(ValueError, match="at least one update"):
        make_trajectory(record.start, [], IS_BIAS)
    assert isinstance(record, Trajectory) and record.names == ("W0", "b0", "W1", "b1")


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10_000), rule=st.sampled_from(RULES),
       learning_rate=st.sampled_from([0.01, 0.1, 0.3]))
def test_right_rules_match_whatever_the_start(seed, rule, learning_rate):
    hp = HyperParams(learning_rate=learning_rate, weight_decay=0.05)
    record, _ = student_run(rule, hp=hp, seed=seed)
    assert explain(rule, record, hp).matches
