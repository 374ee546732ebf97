"""Exercise 6's answers (parameter lists, one gradient-descent step, a training run's result)
and how each is judged, for its public and hidden checks.

The lecture's update rule moves against the gradient: W <- W - lr * dL/dW, b <- b - lr * dL/db.
A parameter list is [(W, b), ...], one pair per layer, in the order of the layers.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.compare import compare_arrays, describe, relative_error, to_array
from grader.checks.lib.answers import AnswerError, answer_array
from grader.checks.lib.evidence import scale_code
from grader.diagnosis.layout import reversed_layers
from grader.diagnosis.scale import SIGN
from grader.diagnosis.text import mistake_text

STEM = "ex6_gradient_descent"
Params = list[tuple[np.ndarray, np.ndarray]]


# ---------------------------------------------------------------- parameter lists

def params_answer(value: Any, shapes: Sequence[tuple[tuple[int, ...], tuple[int, ...]]], what: str) -> Params:
    """`value` as [(W, b), ...] with the given shapes and finite entries; raises AnswerError otherwise."""
    if not isinstance(value, (list, tuple)):
        raise AnswerError(fail(f"{what} should be a list of (W, b) pairs, but it is {describe(value)}."))
    if len(value) != len(shapes):
        raise AnswerError(fail(f"{what} has {len(value)} layers; it should have {len(shapes)}, one (W, b) per layer."))
    params = []
    for index, (layer, (w_shape, b_shape)) in enumerate(zip(value, shapes)):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise AnswerError(fail(f"{what}[{index}] should be a pair (W, b), but it is {describe(layer)}."))
        params.append((answer_array(layer[0], f"{what}[{index}] W", shape=w_shape),
                       answer_array(layer[1], f"{what}[{index}] b", shape=b_shape)))
    return params


def shapes_of(params: Params) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """[(W's shape, b's shape), ...] of a parameter list."""
    return [(W.shape, b.shape) for W, b in params]


def layer_shapes(sizes: Sequence[int]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """The shapes of the parameters of a network of layer sizes `sizes`: W (m, n), b (n,)."""
    return [((m, n), (n,)) for m, n in zip(sizes[:-1], sizes[1:])]


def flat(params: Params) -> np.ndarray:
    """Every parameter in one vector, layer by layer (W then b)."""
    return np.concatenate([np.concatenate([W.ravel(), b.ravel()]) for W, b in params])


# ---------------------------------------------------------------- sgd_step

def judge_sgd_step(ctx: CheckContext, got: Any, params: Params, grads: Params, lr: float, expected: Params) -> Verdict:
    """The returned params against the expected step, layer by layer; a step uphill is named."""
    s = ctx.settings
    what = "sgd_step(params, grads, lr)"
    try:
        new = params_answer(got, shapes_of(expected), what)
    except AnswerError as exc:
        return reversed_verdict(got, expected, s) or exc.verdict
    for index, ((W, b), (W_exp, b_exp)) in enumerate(zip(new, expected)):
        for got_array, exp_array, name in ((W, W_exp, "W"), (b, b_exp, "b")):
            verdict = compare_arrays(got_array, exp_array, what=f"layer {index} {name}", rtol=s["rtol"], atol=s["atol"])
            if not verdict.passed:
                return reversed_verdict(got, expected, s) or sgd_diagnosis(verdict, new, params, grads, lr,
                                                                           s["diagnosis_tol"])
    return ok()


def reversed_verdict(got: Any, expected: Params, settings: Mapping[str, Any]) -> Verdict | None:
    """A failed verdict naming layer_order_reversed when the layers are right but last first."""
    if not isinstance(got, (list, tuple)) or len(got) < 2:
        return None
    try:
        flipped = params_answer(reversed_layers(list(got), per_layer=1), shapes_of(expected), "reversed")
    except AnswerError:
        return None
    if relative_error(flat(flipped), flat(expected)) > settings["diagnosis_tol"]:
        return None
    return fail(f"sgd_step returned the right layers in the wrong order. {mistake_text('layer_order_reversed', STEM)}",
                diagnosis="layer_order_reversed")


def sgd_diagnosis(verdict: Verdict, new: Params, params: Params, grads: Params, lr: float, tol: float) -> Verdict:
    """Name a step taken with the wrong sign (uphill); otherwise say what the rule is."""
    step = flat(new) - flat(params)
    code = scale_code(step, -lr * flat(grads), [SIGN], tol)
    feedback = f"{verdict.feedback} The step is W - lr * dW and b - lr * db."
    if code:
        feedback += f" {mistake_text(code, STEM)}"
    elif relative_error(flat(new), flat(params)) <= tol:
        feedback += " The parameters did not change."
    return fail(feedback, diagnosis=code)


# ---------------------------------------------------------------- train

def train_arguments(settings: Mapping[str, Any]) -> dict:
    """train's keyword arguments, as the rubric's settings give them."""
    return {"layer_sizes": list(settings["train_layer_sizes"]), "hidden": settings["train_hidden"],
            "epochs": int(settings["train_epochs"]), "lr": float(settings["train_lr"]),
            "batch_size": int(settings["train_batch_size"]), "seed": int(settings["train_seed"])}


def train_result(value: Any, settings: Mapping[str, Any]) -> tuple[Params, np.ndarray]:
    """(params, losses) from train's answer, params checked against the layer sizes."""
    alone = isinstance(value, (list, tuple)) and len(value) > 0 and is_layer(value[0])
    if not isinstance(value, (list, tuple)) or len(value) != 2 or alone:
        raise AnswerError(fail(f"train should return a pair (params, losses), but it returned {describe(value)}"
                               f"{' that looks like params alone' if alone else ''}."))
    params = params_answer(value[0], layer_shapes(settings["train_layer_sizes"]), "train's params")
    losses = to_array(value[1])
    if losses is None or losses.ndim != 1:
        raise AnswerError(fail(f"train's losses should be a list of numbers, one per epoch, "
                               f"but they are {describe(value[1])}."))
    return params, losses


def is_layer(value: Any) -> bool:
    """A (W, b) pair with a 2-D W: what params[0] looks like, so `value` is a layer, not a params list."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return False
    W = to_array(value[0])
    return W is not None and W.ndim == 2


def losses_problem(losses: np.ndarray, settings: Mapping[str, Any]) -> str | None:
    """What is wrong with the per-epoch losses, or None: one finite value per epoch, going down overall."""
    epochs = int(settings["train_epochs"])
    if losses.shape != (epochs,):
        return f"losses has {losses.shape[0]} values; it should have one per epoch ({epochs})"
    if not np.all(np.isfinite(losses)):
        return "losses contains inf or nan: training diverged"
    if not losses[-1] <= settings["train_max_loss_ratio"] * losses[0]:
        return (f"the last epoch's loss is {losses[-1] / losses[0]:.2f} times the first; it should be at most "
                f"{settings['train_max_loss_ratio']:g} times")
    return None


def judge_training(losses: np.ndarray, accuracy: float, settings: Mapping[str, Any], where: str) -> Verdict:
    """Credit: a share for sensible per-epoch losses, the rest for reaching the accuracy target."""
    share = float(settings["train_losses_share"])
    target = float(settings["train_accuracy_target"])
    problem = losses_problem(losses, settings)
    reached = accuracy >= target
    if problem is None and reached:
        return ok(f"Held-out accuracy {accuracy:.1%} on {where}.")
    parts = []
    if not reached:
        parts.append(f"held-out accuracy on {where} is {accuracy:.1%}; it should reach {target:.0%}")
    if problem:
        parts.append(problem)
    credit = (share if problem is None else 0.0) + ((1.0 - share) if reached else 0.0)
    return fail("Training did not succeed: " + "; ".join(parts) + ".", fraction=credit)

