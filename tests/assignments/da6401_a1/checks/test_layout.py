"""Reading a student's storage from get_weights() shapes, and converting tensors both ways."""
from __future__ import annotations

import numpy as np
import pytest

from grader.assignments.da6401_a1.checks.lib.cases import draw_case
from grader.assignments.da6401_a1.checks.lib.layout import Layout, read_layout
from grader.checks.lib.answers import AnswerError

SIZES = (784, 7, 5, 10)
CASE = draw_case(np.random.default_rng(0), SIZES, "tanh")


def stored(transposed: tuple[bool, ...], bias_shape: str = "flat") -> dict:
    """get_weights() of a network that stores the case's parameters that way."""
    shapes = {"flat": lambda n: (n,), "row": lambda n: (1, n), "column": lambda n: (n, 1)}[bias_shape]
    layout = Layout(SIZES, transposed, tuple(shapes(n) for n in SIZES[1:]))
    return layout.to_student(CASE.params)


@pytest.mark.parametrize("transposed", [(False, False, False), (True, True, True), (False, True, False)])
@pytest.mark.parametrize("bias_shape", ["flat", "row", "column"])
def test_the_layout_is_read_from_the_shapes_and_converts_back(transposed, bias_shape):
    weights = stored(transposed, bias_shape)
    layout = read_layout(weights, SIZES, "a1_forward")
    assert layout.transposed == transposed and not layout.single
    keys = [f"{k}{layer}" for layer in range(3) for k in "Wb"]
    for index, key in enumerate(keys):
        np.testing.assert_array_equal(layout.to_reference(index, weights[key]), CASE.params[index])
    for index, entry in [(0, (3, 6)), (2, (6, 4)), (4, (4, 9)), (3, (2,))]:  # a flat index finds the same entry
        assert weights[keys[index]].reshape(-1)[layout.flat_index(index, entry)] == CASE.params[index][entry]


def test_single_precision_weights_are_noticed():
    weights = {key: value.astype(np.float32) for key, value in stored((False,) * 3).items()}
    assert read_layout(weights, SIZES, "a1_forward").single


def test_layers_listed_from_the_output_are_named():
    weights = stored((False,) * 3)
    reversed_keys = {"W0": weights["W2"], "b0": weights["b2"], "W1": weights["W1"], "b1": weights["b1"],
                     "W2": weights["W0"], "b2": weights["b0"]}
    with pytest.raises(AnswerError) as raised:
        read_layout(reversed_keys, SIZES, "a1_forward")
    assert raised.value.verdict.diagnosis == "layer_order_reversed"


@pytest.mark.parametrize("change, words", [
    (lambda w: {k: v for k, v in w.items() if k != "b1"}, "lacks b1"),
    (lambda w: {**w, "W1": np.zeros((6, 5))}, "should be (7, 5) or (5, 7)"),
    (lambda w: {**w, "b0": np.zeros((7, 2))}, "should be (7,), (1, 7) or (7, 1)"),
    (lambda w: list(w.values()), "should return a dict"),
])
def test_what_cannot_be_read_says_why(change, words):
    with pytest.raises(AnswerError) as raised:
        read_layout(change(stored((False,) * 3)), SIZES, "a1_forward")
    assert words in raised.value.verdict.feedback and raised.value.verdict.diagnosis is None
