"""The student's `NeuralNetwork` API as the checks call it, and its answers read into the reference's terms.

A network is built by the probe (`NeuralNetwork(argparse.Namespace(**options))`) and stays in
the worker as a handle; its Layout is read once from `get_weights()`. Answers come back as plain
data with their dtype kept, so single precision is seen here. Readers raise AnswerError with the
failing Verdict when an answer cannot be used.

Gradients: `backward(y_true, y_pred)` returns `(grad_Ws, grad_bs)` with index 0 = the OUTPUT
layer, each shaped like its parameter as get_weights stores it; here they become the flat list
[dW0, db0, dW1, ...], input layer first, in the reference's orientation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np

from grader.assignments.da6401_a1.checks.lib.cases import Case
from grader.assignments.da6401_a1.checks.lib.layout import Layout, bias_shapes, is_single, read_layout, weight_keys
from grader.assignments.da6401_a1.checks.lib.parts import LAYER_GRADS, LOGITS_MOVED, NETWORK
from grader.checks.base import CheckContext, fail
from grader.checks.compare import describe, to_array
from grader.checks.lib.answers import AnswerError, answer_array


@dataclass(frozen=True)
class Network:
    """A student network in the worker, its storage, and the options it was built from."""

    handle: dict
    layout: Layout
    options: dict


@dataclass(frozen=True)
class Logits:
    """forward's answer: as float64 here, whether it came in single precision, and as sent (for backward)."""

    values: np.ndarray
    single: bool
    raw: Any


@dataclass(frozen=True)
class Gradients:
    """backward's answer, flat [dW0, db0, ...], input layer first, reference orientation.

    `slip`: the layout mistake the lists had to be rearranged for to fit the parameters'
    shapes (`layer_order_reversed`, `transposed`), or None.
    """

    tensors: list[np.ndarray]
    single: bool
    slip: Optional[str] = None


def build(ctx: CheckContext, options: dict, stem: str) -> Network:
    """NeuralNetwork(Namespace(**options)) in the worker, with the Layout its get_weights shows."""
    sizes = (options["input_size"], *options["hidden_size"], options["output_size"])
    handle = ctx.call(NETWORK, options)
    return Network(handle, read_layout(ctx.method(handle, "get_weights"), sizes, stem), options)


def load(ctx: CheckContext, net: Network, params: Sequence[np.ndarray]) -> None:
    """set_weights with flat reference tensors, in the network's own storage."""
    ctx.method(net.handle, "set_weights", net.layout.to_student(params))


def network_for(ctx: CheckContext, case: Case, stem: str, **changes: Any) -> Network:
    """A network built for `case` (options changed by `changes`), loaded with the case's weights."""
    net = build(ctx, case.options(**changes), stem)
    load(ctx, net, case.params)
    return net


def read_logits(value: Any, batch: int, classes: int) -> Logits:
    """forward's answer as (B, C) float64 logits; raises AnswerError for anything else."""
    if isinstance(value, np.ndarray) and value.shape == (classes, batch) and batch != classes:
        raise AnswerError(fail(f"forward(X) returned shape {value.shape}: one row per example is expected, "
                               f"({batch}, {classes}) for a batch of {batch}."))
    return Logits(answer_array(value, "forward(X)", shape=(batch, classes)), is_single(value), value)


def forward(ctx: CheckContext, net: Network, X: np.ndarray) -> Logits:
    return read_logits(ctx.method(net.handle, "forward", X), X.shape[0], net.layout.sizes[-1])


def backward(ctx: CheckContext, net: Network, y_true: Any, y_pred: Any) -> Any:
    return ctx.method(net.handle, "backward", y_true, y_pred)


def _arrays(values: Sequence[Any], what: str) -> list[np.ndarray]:
    arrays = []
    for index, value in enumerate(values):
        array = to_array(value)
        if array is None:
            raise AnswerError(fail(f"{what}[{index}] should be a numpy array, but it is {describe(value)}."))
        arrays.append(array)
    return arrays


def _fits(Ws: Sequence[np.ndarray], bs: Sequence[np.ndarray], layout: Layout, transpose: bool = False) -> bool:
    """True when each W (transposed first, if asked) has its parameter's stored shape and each b n entries."""
    return all((W.T if transpose else W).shape == layout.weight_shape(layer)
               and b.shape in bias_shapes(layout.sizes[layer + 1])
               for layer, (W, b) in enumerate(zip(Ws, bs)))


def _first_misfit(Ws: Sequence[np.ndarray], bs: Sequence[np.ndarray], layout: Layout) -> str:
    depth = layout.depth
    for layer, (W, b) in enumerate(zip(Ws, bs)):
        if W.shape != layout.weight_shape(layer):
            return (f"grad_Ws[{depth - 1 - layer}] has shape {W.shape}; index {depth - 1 - layer} is W{layer}'s "
                    f"gradient (index 0 = the output layer), shape {layout.weight_shape(layer)} as get_weights "
                    "stores W{layer}.")
        if b.shape not in bias_shapes(layout.sizes[layer + 1]):
            return (f"grad_bs[{depth - 1 - layer}] has shape {b.shape}; it is b{layer}'s gradient, "
                    f"{layout.sizes[layer + 1]} entries.")
    return "the gradients do not have the parameters' shapes."


def read_gradients(value: Any, layout: Layout, what: str = "backward") -> Gradients:
    """(grad_Ws, grad_bs), output layer first, as flat reference tensors; raises AnswerError when unusable.

    Lists that fit only in the other order, or with every dW transposed, are rearranged and
    the slip recorded (all sizes differ, so shapes alone show it); the values are judged after.
    """
    depth = layout.depth
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(isinstance(v, (list, tuple)) for v in value):
        raise AnswerError(fail(f"{what} should return (grad_Ws, grad_bs), two lists, but it returned "
                               f"{describe(value)}."))
    if len(value[0]) != depth or len(value[1]) != depth:
        raise AnswerError(fail(f"{what} returned {len(value[0])} weight and {len(value[1])} bias gradients; "
                               f"this network has {depth} layers."))
    single = any(is_single(v) for part in value for v in part)
    grad_Ws, grad_bs = _arrays(value[0], "grad_Ws"), _arrays(value[1], "grad_bs")
    contract = (grad_Ws[::-1], grad_bs[::-1])
    if _fits(*contract, layout):
        Ws, bs, slip = contract[0], contract[1], None
    elif _fits(grad_Ws, grad_bs, layout):
        Ws, bs, slip = grad_Ws, grad_bs, "layer_order_reversed"
    elif _fits(*contract, layout, transpose=True):
        Ws, bs, slip = [W.T for W in contract[0]], contract[1], "transposed"
    else:
        raise AnswerError(fail(f"{what}: {_first_misfit(*contract, layout)}"))
    tensors = [layout.to_reference(index, tensor) for index, tensor in
               enumerate(t for pair in zip(Ws, bs) for t in pair)]
    for index, tensor in enumerate(tensors):
        if not np.all(np.isfinite(tensor)):
            layer = index // 2
            raise AnswerError(fail(f"{what}: the gradient of {'W' if index % 2 == 0 else 'b'}{layer} "
                                   "holds inf or nan."))
    return Gradients(tensors, single, slip)


def student_params(ctx: CheckContext, net: Network, stem: str) -> tuple[list[np.ndarray], bool]:
    """get_weights() as flat reference tensors, and whether they are single precision."""
    weights = ctx.method(net.handle, "get_weights")
    layout = read_layout(weights, net.layout.sizes, stem)
    if layout.transposed != net.layout.transposed or layout.bias_shapes != net.layout.bias_shapes:
        raise AnswerError(fail(f"get_weights() changed how it stores the parameters ({net.layout.storage_words()} "
                               f"before, {layout.storage_words()} now)."))
    return ([layout.to_reference(index, to_array(weights[key])) for index, key in enumerate(weight_keys(layout.depth))],
            layout.single)


def layer_grads(ctx: CheckContext, net: Network) -> Optional[list]:
    """[[grad_W, grad_b], ...] of the network's layer objects in its own order, or None without them."""
    return ctx.call(LAYER_GRADS, net.handle)


def logits_moved(ctx: CheckContext, net: Network, X: np.ndarray, moves: list, timeout: Optional[float] = None
                 ) -> list[Logits]:
    """forward(X) under each move of some weights (see the probe's `_logits_moved`), read as logits."""
    answers = ctx.call(LOGITS_MOVED, net.handle, X, moves, timeout=timeout)
    if not isinstance(answers, list) or len(answers) != len(moves):
        raise AnswerError(fail("forward did not give one answer per set of weights while the grader moved "
                               "single weights (set_weights, then forward)."))
    return [read_logits(answer, X.shape[0], net.layout.sizes[-1]) for answer in answers]
