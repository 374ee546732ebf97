"""Calling the student's `forward` and `backward` on MLP cases, and reading their answers.

A reader raises `AnswerError` (see `grader.checks.lib.answers`) when an answer has the wrong
form, so a check reads answers as if they were right. Calls that do not depend on each other
are sent together (`CheckContext.call_all`); their answers are read, and errors raised, in the
order one-at-a-time calls would give them.
"""
from __future__ import annotations

from typing import Any, Iterator, Optional

import numpy as np

from grader.checks.base import CheckContext, fail
from grader.checks.compare import describe, to_array
from grader.checks.lib.answers import AnswerError
from grader.checks.lib.mlp_cases import MLPCase, Params, tensor_name, wire_params


def forward_call(case: MLPCase, params: Optional[Params] = None) -> tuple[str, tuple, dict]:
    """The student's forward on `case` (at `params`, if given), as one of `CheckContext.call_all`'s calls."""
    params = case.params if params is None else params
    return "forward", (wire_params(params), case.X.copy()), {"hidden": case.hidden, "output": case.output}


def backward_call(case: MLPCase, cache: Any) -> tuple[str, tuple, dict]:
    """The student's backward on `case` with the cache its forward returned, as a `call_all` call."""
    return "backward", (wire_params(case.params), cache, case.Y.copy()), {"loss": case.loss}


def read_forward(value: Any, case: MLPCase) -> tuple[np.ndarray, Any]:
    """(Y_hat, cache) from forward's answer for `case`; raises AnswerError when it is not that."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise AnswerError(fail(f"forward should return a pair (Y_hat, cache), but it returned {describe(value)}."))
    Y_hat = to_array(value[0])
    shape = (case.batch, case.sizes[-1])
    if Y_hat is None:
        raise AnswerError(fail(f"forward's Y_hat should be an array of shape {shape}, "
                               f"but it is {describe(value[0])}."))
    if Y_hat.shape != shape:
        raise AnswerError(fail(f"forward's Y_hat has shape {Y_hat.shape}; for X of shape {case.X.shape} and "
                               f"{case.sizes[-1]} outputs it should be {shape} (one row per example)."))
    return Y_hat, value[1]


def read_grads(value: Any, depth: int) -> list[np.ndarray]:
    """backward's answer as the flat list [dW_1, db_1, ...] of arrays (shapes unchecked); raises
    AnswerError when it is not one (dW, db) pair of arrays per layer."""
    if not isinstance(value, (list, tuple)):
        raise AnswerError(fail(f"backward should return a list of (dW, db) pairs, one per layer, "
                               f"but it returned {describe(value)}."))
    if len(value) != depth:
        raise AnswerError(fail(f"backward returned {len(value)} item(s) for a network of {depth} layer(s); "
                               "it should return one (dW, db) pair per layer."))
    tensors = []
    for layer, pair in enumerate(value):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise AnswerError(fail(f"item {layer} of backward's list should be a pair (dW, db), "
                                   f"but it is {describe(pair)}."))
        for index, part in enumerate(pair):
            array = to_array(part)
            if array is None:
                raise AnswerError(fail(f"{tensor_name(2 * layer + index)} should be an array, "
                                       f"but it is {describe(part)}."))
            tensors.append(array)
    return tensors


def student_forward(ctx: CheckContext, case: MLPCase, params: Optional[Params] = None) -> tuple[np.ndarray, Any]:
    """(Y_hat, cache) from the student's forward on `case` (at `params`, if given)."""
    name, args, kwargs = forward_call(case, params)
    return read_forward(ctx.call(name, *args, **kwargs), case)


def student_forwards(ctx: CheckContext, cases: list[MLPCase]) -> Iterator[tuple[np.ndarray, Any]]:
    """`student_forward` for each case, the calls sent together; each answer is read (and an
    error raised) only when the loop reaches it, as if the calls had been made one at a time."""
    for outcome, case in zip(ctx.call_all([forward_call(case) for case in cases]), cases):
        yield read_forward(outcome.get(), case)


def student_gradients(ctx: CheckContext, case: MLPCase) -> tuple[np.ndarray, list[np.ndarray]]:
    """Forward then backward with the student's code, the cache passed back as forward returned it:
    (Y_hat, [dW_1, db_1, ...]), the gradients arrays of unchecked shapes."""
    return next(students_gradients(ctx, [case]))


def students_gradients(ctx: CheckContext, cases: list[MLPCase]) -> Iterator[tuple[np.ndarray, list[np.ndarray]]]:
    """`student_gradients` for each case: every forward sent together, then the backwards of the
    cases before the first forward that failed (a check stops there). Answers and errors come in
    the order one-at-a-time calls would give them."""
    forwards = ctx.call_all([forward_call(case) for case in cases])
    read: list[tuple[np.ndarray, Any]] = []
    unusable: Optional[AnswerError] = None  # the first forward answer that cannot be used
    for outcome, case in zip(forwards, cases):
        if outcome.error is not None:
            break
        try:
            read.append(read_forward(outcome.value, case))
        except AnswerError as exc:
            unusable = exc
            break
    backwards = ctx.call_all([backward_call(case, cache) for case, (_, cache) in zip(cases, read)])
    for index, case in enumerate(cases):
        if index == len(read) and unusable is not None:
            raise unusable
        if index >= len(read):
            forwards[index].get()  # raises the forward's error here
        Y_hat, _ = read[index]
        yield Y_hat, read_grads(backwards[index].get(), case.depth)
