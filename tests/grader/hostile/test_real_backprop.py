"""Backpropagation and training must really be done: graded end to end in the sandbox.

- ex3's directional gradient checks need a non-degenerate case: a constant forward with a
  zero backward (both slopes 0) earns nothing, nor do the shape and purity points of functions
  that compute nothing;
- a `backward` written as finite differences of the student's own forward loses every point
  that describes backward's values, named in feedback; honest code (the solution, and the
  catalogue's loops over examples and units) is never flagged, even with the CPUs busy;
- `train` earns points only when its own init_params, forward, backward and sgd_step did the
  learning and its losses are those of its parameters: a least-squares fit with made-up losses
  and no exercise 3 gets nothing, and invented losses on an honest loop get nothing either.
"""
from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.grader.hostile.submissions import (
    EX3,
    EX6,
    append_code,
    exercises_of,
    full_marks,
    grade_folder,
    grading_options,
    results_by_name,
    solved_folder,
)
from tests.grader.hostile.test_no_free_points import CONSTANT_STUBS
from tests.grader.mistakes.catalog import EX3_DIFFERENT, EX3_DIFFERENT_BACKWARD

CONSTANT_EX3 = CONSTANT_STUBS[EX3]  # every function of exercise 3 returns zeros

# The points of backward that describe its values (the rest follow them through `requires`).
BACKWARD_VALUE_TESTS = ("backward.lecture", "backward.values", "backward.gradcheck.identity",
                        "backward.gradcheck.sigmoid", "backward.gradcheck.tanh", "backward.gradcheck.relu",
                        "backward.reference.identity", "backward.reference.sigmoid", "backward.reference.tanh",
                        "backward.reference.relu", "backward.gradcheck.random", "backward.gradcheck.large")
TRAINING_TESTS = ("train.fixture_data", "train.accuracy")


def only(folder: Path, *stems: str) -> Path:
    """`folder` with every exercise file but those of `stems` removed."""
    for path in folder.iterdir():
        if path.stem not in stems:
            path.unlink()
    return folder


def write(folder: Path, stem: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.py").write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return folder


# ---------------------------------------------------------------- constant stubs

def test_constant_forward_and_zero_backward_earn_nothing(tmp_path: Path) -> None:
    folder = write(tmp_path / "s101", EX3, CONSTANT_EX3)
    result = grade_folder(folder, grading_options(exercises=(EX3,), timeout=5.0))
    exercise = exercises_of(result)[EX3]
    tests = results_by_name(exercise)
    assert exercise.score == 0.0, [(t.name, t.score) for t in exercise.tests if t.score]
    # Both slopes are 0 along every direction: no evidence, so no pass (not just gated).
    for name in ("backward.gradcheck.random", "backward.gradcheck.large"):
        assert tests[name].status == "failed"
        assert "does not change when the parameters move" in tests[name].feedback, tests[name].feedback


# ---------------------------------------------------------------- finite differences instead of backprop

FINITE_DIFFERENCES = '''
_forward_of_the_solution = forward


def forward(params, X, hidden="sigmoid", output="softmax"):
    Y_hat, _ = _forward_of_the_solution(params, X, hidden=hidden, output=output)
    return Y_hat, {"X": np.array(X, dtype=np.float64), "hidden": hidden, "output": output}


def _mean_loss(Y_hat, Y, loss):
    if loss == "mse":
        return np.mean((Y_hat - Y) ** 2)
    if loss == "bce":
        return -np.mean(Y * np.log(Y_hat) + (1 - Y) * np.log(1 - Y_hat))
    return -np.sum(Y * np.log(Y_hat)) / Y_hat.shape[0]


def backward(params, cache, Y, loss="cce"):
    """Central differences of this module's own forward, one parameter at a time."""
    Y = np.asarray(Y, dtype=np.float64)
    step = 1e-5
    work = [(np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)) for W, b in params]

    def loss_at():
        return _mean_loss(forward(work, cache["X"], cache["hidden"], cache["output"])[0], Y, loss)

    grads = []
    for W, b in work:
        layer = []
        for array in (W, b):
            grad = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                kept = array[index]
                array[index] = kept + step
                up = loss_at()
                array[index] = kept - step
                down = loss_at()
                array[index] = kept
                grad[index] = (up - down) / (2 * step)
            layer.append(grad)
        grads.append(tuple(layer))
    return grads
'''


def test_finite_difference_backward_loses_the_value_points(tmp_path: Path) -> None:
    folder = only(solved_folder(tmp_path, "s102"), EX3)
    append_code(folder, EX3, FINITE_DIFFERENCES)
    result = grade_folder(folder, grading_options(exercises=(EX3,), timeout=30.0, exercise_budget=300.0))
    tests = results_by_name(exercises_of(result)[EX3])
    verdict = tests["backward.backpropagation"]
    assert verdict.status == "failed"
    assert verdict.feedback.startswith("backward calls forward per parameter: this is numerical "
                                       "differentiation, not backpropagation"), verdict.feedback
    assert all(tests[name].score == 0.0 for name in BACKWARD_VALUE_TESTS), [
        (name, tests[name].score) for name in BACKWARD_VALUE_TESTS if tests[name].score]
    # forward and init_params are the solution's: their points stay.
    assert all(t.score == t.max_score for t in tests.values()
               if t.name.startswith(("forward.", "init_params.")))


HONEST = {
    "solution": (),
    "loops over examples and units": (EX3_DIFFERENT, EX3_DIFFERENT_BACKWARD),
}


@pytest.mark.parametrize("definitions", list(HONEST.values()), ids=list(HONEST))
def test_honest_backprop_is_never_flagged_even_under_load(tmp_path: Path, definitions: tuple[str, ...]) -> None:
    folder = only(solved_folder(tmp_path, "s103"), EX3)
    for definition in definitions:
        append_code(folder, EX3, definition)
    stress = shutil.which("stress-ng")
    load = subprocess.Popen([stress, "--cpu", "2", "--timeout", "40s", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if stress else None
    try:
        result = grade_folder(folder, grading_options(exercises=(EX3,)))
    finally:
        if load is not None:
            load.terminate()
            load.wait(timeout=10)
    verdict = results_by_name(exercises_of(result)[EX3])["backward.backpropagation"]
    assert verdict.status == "passed", verdict.feedback


# ---------------------------------------------------------------- training with the student's own parts

LEAST_SQUARES_TRAIN = '''
import numpy as np


def sgd_step(params, grads, lr):
    return [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(params, grads)]


def train(X, Y, layer_sizes, hidden="tanh", epochs=300, lr=0.3, batch_size=32, seed=0):
    """A linear least-squares fit through a nearly linear tanh layer; losses made up."""
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    d, h, c = layer_sizes
    scale = 1e-3
    W1 = np.zeros((d, h))
    W1[:, :d] = scale * np.eye(d)
    design = np.hstack([X, np.ones((len(X), 1))])
    fit, *_ = np.linalg.lstsq(design, Y, rcond=None)
    W2 = np.zeros((h, c))
    W2[:d] = fit[:d] / scale
    return [(W1, np.zeros(h)), (W2, fit[d])], list(np.linspace(1.0, 0.1, epochs))
'''

INVENTED_LOSSES = '''
_train_of_the_solution = train


def train(X, Y, layer_sizes, hidden="tanh", epochs=300, lr=0.3, batch_size=32, seed=0):
    params, _ = _train_of_the_solution(X, Y, layer_sizes, hidden, epochs, lr, batch_size, seed)
    return params, list(np.linspace(1.0, 0.1, epochs))
'''


def test_least_squares_with_made_up_losses_and_no_exercise_3_gets_no_training_points(tmp_path: Path) -> None:
    folder = write(tmp_path / "s104", EX6, LEAST_SQUARES_TRAIN)
    result = grade_folder(folder, grading_options())
    tests = results_by_name(exercises_of(result)[EX6])
    assert all(tests[name].score == 0.0 for name in TRAINING_TESTS), [
        (name, tests[name].feedback) for name in TRAINING_TESTS]
    # the sgd_step it wrote is right, and keeps its points
    assert tests["sgd_step.values"].score == tests["sgd_step.values"].max_score


def test_invented_losses_on_an_honest_loop_get_no_training_points(tmp_path: Path) -> None:
    folder = only(solved_folder(tmp_path, "s105"), EX3, EX6)
    append_code(folder, EX6, INVENTED_LOSSES)
    result = grade_folder(folder, grading_options(exercises=(EX3, EX6)))
    exercises = exercises_of(result)
    tests = results_by_name(exercises[EX6])
    assert tests["train.replay"].status == "failed"
    assert "not the losses of the parameters it had" in tests["train.replay"].feedback, tests["train.replay"].feedback
    assert all(tests[name].score == 0.0 for name in TRAINING_TESTS)
    assert full_marks(exercises[EX3])


def test_the_solutions_pass_the_new_checks(tmp_path: Path) -> None:
    folder = only(solved_folder(tmp_path, "s106"), EX3, EX6)
    result = grade_folder(folder, grading_options(exercises=(EX3, EX6)))
    exercises = exercises_of(result)
    assert full_marks(exercises[EX3]) and full_marks(exercises[EX6]), [
        (t.name, t.feedback) for e in result.exercises for t in e.tests if t.status != "passed"]
    assert results_by_name(exercises[EX3])["backward.backpropagation"].status == "passed"
    assert results_by_name(exercises[EX6])["train.replay"].status == "passed"
