"""Public checks for exercise 6: one gradient-descent step, and a training loop that learns.

The lecture's update rule moves against the gradient: W <- W - lr * dL/dW, b <- b - lr * dL/db.
`train` runs minibatch SGD on the mean cross-entropy of a softmax MLP with the student's own
`forward`/`backward`; the grader sends it data, then measures accuracy on held-out points here,
with the returned parameters, so nothing the submission reports about itself is trusted.
`train.replay` runs a few full-batch epochs of `train` and the same epochs rebuilt call by call
from the student's own init_params, forward, backward and sgd_step: the training tests count
(rubric `requires`) only when they agree, so a trainer that learns another way, or invents its
losses, earns nothing there. Reading and judging the answers is `grader.checks.lib.gradient_descent`,
shared with the hidden checks.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.compare import describe, relative_error, to_array
from grader.checks.fixtures import fixture_builder
from grader.checks.lib.answers import AnswerError, answer_array, register
from grader.checks.lib.gradient_descent import (
    STEM, Params, flat, judge_sgd_step, judge_training, layer_shapes, params_answer, train_arguments, train_result,
)
from grader.diagnosis.text import mistake_text
from grader.errors import StudentCodeError

# The hidden activations `train` may be asked for; the output is softmax, whose argmax is the logits'.
HIDDEN_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda z: z,
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
}


# ---------------------------------------------------------------- public data

def _settings() -> Mapping[str, Any]:
    from grader.rubric import load_rubric

    return load_rubric(STEM).settings


@fixture_builder(STEM, "sgd", draws=True)
def build_sgd(rng: np.random.Generator | None = None) -> dict:
    """Two layers of non-square parameters and gradients, a learning rate, and the stepped params.

    Without `rng`: the published draw; with it (grading): the same kind of data drawn from it.
    """
    from reference import training as ref

    rng = np.random.default_rng(2024_0601) if rng is None else rng
    sizes = [3, 4, 2]
    params = [(rng.normal(size=(m, n)), rng.normal(size=n)) for m, n in zip(sizes[:-1], sizes[1:])]
    grads = [(rng.normal(size=W.shape), rng.normal(size=b.shape)) for W, b in params]
    lr = 0.1
    return {"params": params, "grads": grads, "lr": lr, "expected": ref.sgd_step(params, grads, lr)}


@fixture_builder(STEM, "train_data")
def build_train_data() -> dict:
    """The public training set and held-out split, drawn as the rubric's settings say."""
    from reference import datasets

    s = _settings()
    X, labels = datasets.make_dataset(s["train_dataset"], n=s["train_n"], classes=s["train_classes"],
                                      noise=s["train_noise"], seed=s["public_data_seed"])
    X_train, X_test, labels_train, labels_test = datasets.train_test_split(
        X, labels, test_fraction=s["train_test_fraction"], seed=s["public_data_seed"])
    return {"X_train": X_train, "Y_train": datasets.one_hot(labels_train, s["train_classes"]),
            "X_test": X_test, "labels_test": labels_test.astype(np.float64)}


# ---------------------------------------------------------------- sgd_step

@register(STEM, "sgd_step.values", needs=("sgd_step",),
          hint="Return a new list [(W - lr * dW, b - lr * db), ...] in the order of params.")
def sgd_values(ctx: CheckContext) -> Verdict:
    data = ctx.fixture("sgd")
    got = ctx.call("sgd_step", data["params"], data["grads"], data["lr"])
    return judge_sgd_step(ctx, got, data["params"], data["grads"], data["lr"], data["expected"])


def changed_layers(sent: Params, after: Any) -> list[str]:
    """Names of the arrays that came back changed, e.g. ['params[0] W']."""
    changed = []
    for index, (W, b) in enumerate(sent):
        try:
            W_after, b_after = to_array(after[index][0]), to_array(after[index][1])
        except (TypeError, IndexError, KeyError):
            return ["the list itself"]
        for before, now, name in ((W, W_after, "W"), (b, b_after, "b")):
            if now is None or now.shape != before.shape or not np.array_equal(now, before):
                changed.append(f"[{index}] {name}")
    return changed


@register(STEM, "sgd_step.pure", needs=("sgd_step",),
          hint="Build new arrays (W - lr * dW); do not use -= on the arrays you were given.")
def sgd_pure(ctx: CheckContext) -> Verdict:
    data = ctx.fixture("sgd")
    _, after = ctx.call_with_args("sgd_step", data["params"], data["grads"], data["lr"])
    changed = [f"params{name}" for name in changed_layers(data["params"], after[0])]
    changed += [f"grads{name}" for name in changed_layers(data["grads"], after[1])]
    if not changed:
        return ok()
    return fail(f"sgd_step changed {', '.join(changed)} in place. {mistake_text('mutates_input', STEM)}",
                diagnosis="mutates_input")


# ---------------------------------------------------------------- train

def predict_labels(params: Params, X: np.ndarray, hidden: str) -> np.ndarray:
    """argmax of each row of the network's output; softmax keeps the order, so the logits suffice."""
    A = X
    for index, (W, b) in enumerate(params):
        Z = A @ W + b
        A = Z if index == len(params) - 1 else HIDDEN_ACTIVATIONS[hidden](Z)
    return np.argmax(A, axis=1)



@register(STEM, "train.fixture_data", needs=("train",),
          hint="Loop over epochs and shuffled minibatches: forward, backward, sgd_step; "
               "record the mean loss per epoch.")
def train_fixture_data(ctx: CheckContext) -> Verdict:
    s = ctx.settings
    data = ctx.fixture("train_data")
    value = ctx.call("train", data["X_train"], data["Y_train"], timeout=float(s["train_time_budget_s"]),
                     **train_arguments(s))
    params, losses = train_result(value, s)
    predicted = predict_labels(params, data["X_test"], s["train_hidden"])
    accuracy = float(np.mean(predicted == data["labels_test"]))
    return judge_training(losses, accuracy, s, "the public data set")


# ---------------------------------------------------------------- train really uses the student's functions

EX3_STEM = "ex3_mlp_backprop"


def mean_cce(Y_hat: np.ndarray, Y: np.ndarray) -> float:
    """The contract's cce: summed over classes, averaged over rows (logs clamped at -100)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(-Y * np.maximum(np.log(Y_hat), -100.0)) / len(Y))


def call_own(ctx: CheckContext, name: str, *args: Any, **kwargs: Any) -> Any:
    """The student's `name` as train sees it (imported into exercise 6), else exercise 3's own
    (for `import ex3_mlp_backprop as ...`)."""
    try:
        return ctx.call(name, *args, **kwargs)
    except StudentCodeError as exc:
        if exc.status != "missing" or name == "sgd_step":
            raise
        return replace(ctx, exercise=EX3_STEM).call(name, *args, **kwargs)


def own_loss(ctx: CheckContext, params: Params, X: np.ndarray, Y: np.ndarray, hidden: str) -> tuple[float, Any]:
    """The mean cce of the student's forward at `params` (computed here), and forward's cache."""
    value = call_own(ctx, "forward", params, X, hidden=hidden, output="softmax")
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise AnswerError(fail(f"forward should return (Y_hat, cache), but it returned {describe(value)}."))
    return mean_cce(answer_array(value[0], "forward's Y_hat", shape=Y.shape), Y), value[1]


def replay_training(ctx: CheckContext, X: np.ndarray, Y: np.ndarray,
                    arguments: Mapping[str, Any]) -> tuple[Params, list[float]]:
    """Full-batch gradient descent rebuilt from the student's own parts, one call at a time:
    init_params(layer_sizes, seed), then per epoch forward, the loss (computed here), backward
    and sgd_step. Returns the last parameters and the loss at each of the epochs + 1 points."""
    sizes, hidden, lr = list(arguments["layer_sizes"]), arguments["hidden"], float(arguments["lr"])
    shapes = layer_shapes(sizes)
    seed = int(arguments["seed"])
    params = params_answer(call_own(ctx, "init_params", sizes, seed=seed), shapes,
                           f"init_params({sizes}, seed={seed})")
    losses = []
    for _ in range(int(arguments["epochs"])):
        loss, cache = own_loss(ctx, params, X, Y, hidden)
        losses.append(loss)
        grads = call_own(ctx, "backward", params, cache, Y, loss="cce")
        params = params_answer(ctx.call("sgd_step", params, grads, lr), shapes, "sgd_step(params, grads, lr)")
    losses.append(own_loss(ctx, params, X, Y, hidden)[0])
    return params, losses


def replay_problem(params: Params, losses: np.ndarray, replayed_params: Params, replayed: Sequence[float],
                   rtol: float) -> str | None:
    """What train's answer does not share with the replay, or None.

    Each epoch's loss may be that of the parameters the epoch started from (the loop's running
    mean, full batch) or of those it ended with (evaluated after the epoch)."""
    epochs = len(replayed) - 1
    if losses.shape != (epochs,):
        return f"train returned {losses.shape[0]} losses for {epochs} epochs"
    if relative_error(flat(params), flat(replayed_params)) > rtol:
        return ("the parameters it returned are not those that its own init_params, forward, backward "
                "and sgd_step reach")
    if not (losses_match(losses, replayed[:-1], rtol) or losses_match(losses, replayed[1:], rtol)):
        return "the losses it reported are not the losses of the parameters it had (forward's output, mean cce)"
    return None


def losses_match(losses: np.ndarray, expected: Sequence[float], rtol: float) -> bool:
    return bool(np.all(np.isfinite(losses)) and np.allclose(losses, np.asarray(expected, dtype=np.float64),
                                                            rtol=rtol, atol=1e-12))


@register(STEM, "train.replay", needs=("train", "sgd_step"),
          hint="train must start from init_params(layer_sizes, seed=seed) and loop over forward, backward and "
               "sgd_step, recording each epoch's mean loss of the parameters it has.")
def train_replay(ctx: CheckContext) -> Verdict:
    """A few full-batch epochs of train against the same epochs replayed with the student's own
    init_params, forward, backward and sgd_step (one call each, every loss computed here)."""
    s = ctx.settings
    rng = ctx.rng
    data = ctx.fixture("train_data")
    rows = rng.permutation(len(data["X_train"]))[:int(s["replay_rows"])]
    X, Y = data["X_train"][rows], data["Y_train"][rows]
    arguments = {**train_arguments(s), "epochs": int(s["replay_epochs"]), "batch_size": len(rows),
                 "seed": int(rng.integers(0, 2**31))}
    value = ctx.call("train", X, Y, timeout=float(s["train_time_budget_s"]), **arguments)
    params, losses = train_result(value, {**s, "train_layer_sizes": arguments["layer_sizes"]})
    replayed_params, replayed = replay_training(ctx, X, Y, arguments)
    problem = replay_problem(params, losses, replayed_params, replayed, float(s["replay_rtol"]))
    if problem is None:
        return ok()
    return fail(f"train(..., epochs={arguments['epochs']}, batch_size={len(rows)} (the whole set)) does not do "
                f"what its own parts do: {problem}. Training points count only for a loop of init_params, "
                "forward, backward and sgd_step whose losses are those of its parameters.")
