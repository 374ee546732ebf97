"""Public checks of exercise 6 against correct and broken SGD steps and training loops."""
from __future__ import annotations

import time

import numpy as np
import pytest

import grader.checks.ex6_gradient_descent as ex6
from grader.checks.base import REGISTRY
from grader.rubric import load_rubric
from reference import mlp
from reference import training as ref
from tests.grader.checks.conftest import load_solution

STEM = ex6.STEM
PUBLIC = sorted(name for name, item in load_rubric(STEM).tests.items() if item.visibility == "visible")


# ---------------------------------------------------------------- a correct implementation written differently

def sgd_step_alternative(params, grads, lr):
    return [[np.subtract(W, lr * dW), np.subtract(b, lr * db)] for (W, b), (dW, db) in zip(params, grads)]


def init_alternative(layer_sizes, seed=0):
    rng = np.random.default_rng(seed + 11)
    return [(rng.normal(size=(m, n)) / np.sqrt(m), np.zeros(n)) for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def train_alternative(X, Y, layer_sizes, hidden="tanh", epochs=100, lr=0.5, batch_size=32, seed=0):
    """Its own init (scaled normal), shuffling, and forward and backward written out (the same
    arithmetic as the reference's); losses as a numpy array."""
    rng = np.random.default_rng(seed + 11)
    params = init_alternative(layer_sizes, seed)
    losses = np.zeros(epochs)
    for epoch in range(epochs):
        order = np.arange(X.shape[0])
        rng.shuffle(order)
        for start in range(0, X.shape[0], batch_size):
            rows = order[start:start + batch_size]
            activations = [X[rows]]
            for index, (W, b) in enumerate(params):
                Z = activations[-1] @ W + b
                activations.append(Z if index == len(params) - 1 else np.tanh(Z))
            logits = activations[-1] - activations[-1].max(axis=1, keepdims=True)
            log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
            losses[epoch] += -np.sum(Y[rows] * log_probs)
            delta = (np.exp(log_probs) - Y[rows]) / len(rows)
            grads = []
            for index in reversed(range(len(params))):
                grads.insert(0, (activations[index].T @ delta, delta.sum(axis=0)))
                if index:
                    delta = (delta @ params[index][0].T) * (1.0 - activations[index] ** 2)
            params = sgd_step_alternative(params, grads, lr)
        losses[epoch] /= X.shape[0]
    return params, losses


# train's own parts, which train.replay calls (exercise 6 imports them from exercise 3).
PARTS = {"init_params": mlp.init_params, "forward": mlp.forward, "backward": mlp.backward}
REFERENCE = {**PARTS, "sgd_step": ref.sgd_step, "train": ref.train}
ALTERNATIVE = {**PARTS, "init_params": init_alternative, "sgd_step": sgd_step_alternative, "train": train_alternative}


def correct_namespaces():
    params = [pytest.param(REFERENCE, id="reference"), pytest.param(ALTERNATIVE, id="alternative")]
    solution = load_solution(STEM, imports=("ex3_mlp_backprop",))
    if solution is not None:
        params.append(pytest.param(solution, id="solution"))
    return params


# ---------------------------------------------------------------- broken ones

def sgd_uphill(params, grads, lr):
    return [(W + lr * dW, b + lr * db) for (W, b), (dW, db) in zip(params, grads)]


def sgd_in_place(params, grads, lr):
    for (W, b), (dW, db) in zip(params, grads):
        W -= lr * dW
        b -= lr * db
    return params


def sgd_reversed(params, grads, lr):
    return ref.sgd_step(params, grads, lr)[::-1]


def sgd_weights_only(params, grads, lr):
    return [(W - lr * dW, b) for (W, b), (dW, db) in zip(params, grads)]


def train_with(step=None, **changes):
    """The reference loop with one thing changed: its step, or what it returns."""
    def run(X, Y, layer_sizes, hidden="tanh", epochs=100, lr=0.5, batch_size=32, seed=0):
        original = ref.sgd_step
        try:
            if step is not None:
                ref.sgd_step = step
            params, losses = ref.train(X, Y, layer_sizes, hidden, epochs, changes.get("lr", lr), batch_size, seed)
        finally:
            ref.sgd_step = original
        if "result" in changes:
            return changes["result"](params, losses, epochs)
        return params, losses
    return run


BROKEN_SGD = [
    ("steps uphill", sgd_uphill, "sgd_step.values", "sign_flipped"),
    ("changes params in place", sgd_in_place, "sgd_step.pure", "mutates_input"),
    ("layers last first", sgd_reversed, "sgd_step.values", "layer_order_reversed"),
    ("biases never move", sgd_weights_only, "sgd_step.values", None),
    ("returns a dict", lambda p, g, lr: {"params": ref.sgd_step(p, g, lr)}, "sgd_step.values", None),
]

# (label, train, credit it earns: 0.75 accuracy only, 0.25 losses only, 0 neither)
BROKEN_TRAIN = [
    ("climbs the loss", train_with(step=sgd_uphill), 0.0),
    ("losses per minibatch", train_with(result=lambda p, losses, e: (p, losses * 2 + [0.0] * 5)), 0.75),
    ("losses never go down", train_with(result=lambda p, losses, e: (p, [1.0] * e)), 0.75),
    ("learning rate ignored", train_with(lr=1e-4), 0.0),
    ("returns zeroed params", train_with(result=lambda p, losses, e: ([(W * 0, b * 0) for W, b in p], losses)),
     0.25),
]


@pytest.mark.parametrize("namespace", correct_namespaces())
def test_correct_implementations_pass_every_public_check(namespace, run_check):
    outcomes = {name: run_check(STEM, name, namespace) for name in PUBLIC}
    assert {name: o.feedback for name, o in outcomes.items() if o.status != "passed"} == {}
    assert all(o.diagnosis is None for o in outcomes.values())


@pytest.mark.parametrize("label, step, name, diagnosis", BROKEN_SGD, ids=[b[0] for b in BROKEN_SGD])
def test_broken_sgd_step_fails_with_diagnosis(label, step, name, diagnosis, run_check):
    outcome = run_check(STEM, name, {**REFERENCE, "sgd_step": step})
    assert outcome.status == "failed", outcome.feedback
    assert outcome.diagnosis == diagnosis, outcome.feedback


@pytest.mark.parametrize("label, train, credit", BROKEN_TRAIN, ids=[b[0] for b in BROKEN_TRAIN])
def test_broken_training_earns_only_its_share(label, train, credit, run_check):
    with np.errstate(all="ignore"):
        outcome = run_check(STEM, "train.fixture_data", {**REFERENCE, "train": train})
    assert outcome.status == "failed", outcome.feedback
    assert outcome.verdict.credit == pytest.approx(credit), outcome.feedback


@pytest.mark.parametrize("result, message", [
    (lambda p, losses, e: p, "pair (params, losses)"),
    (lambda p, losses, e: ([(W.T, b) for W, b in p], losses), "shape"),
    (lambda p, losses, e: (p[:-1], losses), "layers"),
    (lambda p, losses, e: (p, "decreasing"), "one per epoch"),
])
def test_malformed_training_results_are_explained(result, message, run_check):
    outcome = run_check(STEM, "train.fixture_data", {**REFERENCE, "train": train_with(result=result)})
    assert outcome.status == "failed" and outcome.verdict.credit == 0.0
    assert message in outcome.feedback


def test_training_over_the_time_budget_is_a_timeout(run_check):
    def slow(*args, **kwargs):
        time.sleep(0.05)
        return ref.train(*args, **kwargs)

    settings = {**load_rubric(STEM).settings, "train_time_budget_s": 0.01}
    assert run_check(STEM, "train.fixture_data", {**REFERENCE, "train": slow}, settings=settings).status == "timeout"


def test_train_is_called_with_the_rubric_settings(transport_factory):
    from grader.checks.base import CheckContext
    settings = load_rubric(STEM).settings
    transport = transport_factory(REFERENCE, STEM)
    ctx = CheckContext(exercise=STEM, transport=transport, test_name="train.fixture_data", settings=settings)
    assert REGISTRY[STEM]["train.fixture_data"].run(ctx).passed
    header = transport.requests[-1]
    assert header["kwargs"]["epochs"] == settings["train_epochs"]
    assert header["kwargs"]["layer_sizes"] == settings["train_layer_sizes"]
    assert header["args"][0].shape[1] == settings["train_layer_sizes"][0]


def test_public_prediction_agrees_with_the_reference():
    from reference import datasets, mlp
    data = ex6.build_train_data()
    params, _ = ref.train(data["X_train"], data["Y_train"], [2, 16, 3], "tanh", epochs=5, lr=0.5, batch_size=16)
    for hidden in ex6.HIDDEN_ACTIVATIONS:
        np.testing.assert_array_equal(ex6.predict_labels(params, data["X_test"], hidden),
                                      mlp.predict(params, data["X_test"], hidden))
    assert datasets.one_hot(data["labels_test"].astype(int), 3).shape == (data["X_test"].shape[0], 3)


def test_rubric_and_registered_checks_name_the_same_tests():
    import grader.checks.hidden.ex6_gradient_descent  # noqa: F401 - registers the hidden checks
    rubric = load_rubric(STEM)
    assert set(rubric.tests) == set(REGISTRY[STEM])
    assert all(name.split(".", 1)[0] in ("sgd_step", "train") for name in rubric.tests)
    assert rubric.max_score == pytest.approx(10.0)


# ---------------------------------------------------------------- train.replay: its own parts did the learning

def train_least_squares(X, Y, layer_sizes, hidden="tanh", epochs=100, lr=0.5, batch_size=32, seed=0):
    """A linear fit through a nearly linear tanh layer, with made-up losses."""
    d, h, c = layer_sizes
    W1 = np.zeros((d, h))
    W1[:, :d] = 1e-3 * np.eye(d)
    fit, *_ = np.linalg.lstsq(np.hstack([X, np.ones((len(X), 1))]), Y, rcond=None)
    W2 = np.zeros((h, c))
    W2[:d] = fit[:d] / 1e-3
    return [(W1, np.zeros(h)), (W2, fit[d])], list(np.linspace(1.0, 0.1, epochs))


def train_invented_losses(*args, **kwargs):
    params, losses = ref.train(*args, **kwargs)
    return params, list(np.linspace(1.0, 0.1, len(losses)))


@pytest.mark.parametrize("train, words", [
    (train_least_squares, "not those that its own init_params"),
    (train_invented_losses, "not the losses of the parameters it had"),
    (train_with(result=lambda p, losses, e: (p, list(losses)[1:] + [losses[-1]])), "not the losses"),
], ids=["least squares", "invented losses", "losses shifted"])
def test_replay_fails_training_that_its_own_parts_did_not_do(train, words, run_check):
    outcome = run_check(STEM, "train.replay", {**REFERENCE, "train": train})
    assert outcome.status == "failed" and words in outcome.feedback, outcome.feedback


def test_replay_accepts_losses_evaluated_after_each_epoch(run_check):
    def evaluated_after(X, Y, layer_sizes, hidden="tanh", epochs=100, lr=0.5, batch_size=32, seed=0):
        params, losses = ref.train(X, Y, layer_sizes, hidden, epochs, lr, batch_size, seed)
        history = [ref.train(X, Y, layer_sizes, hidden, e, lr, batch_size, seed)[0] for e in range(1, epochs + 1)]
        return params, [mlp.loss_value(mlp.forward(p, X, hidden, "softmax")[0], Y, "cce") for p in history]

    outcome = run_check(STEM, "train.replay", {**REFERENCE, "train": evaluated_after})
    assert outcome.status == "passed", outcome.feedback
