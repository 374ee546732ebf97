"""Reading a saved model's tensors as a network: the names students give them, the orientation
and bias shapes the shapes show, and what is said when they do not make a network."""
from __future__ import annotations

import numpy as np
import pytest

from grader.assignments.da6401_a1.checks.lib.saved_weights import (
    ModelError, architecture_words, layer_tensors, read_network,
)

RNG = np.random.default_rng(0)
SIZES = (784, 32, 16, 10)
Ws = [RNG.standard_normal((a, b)) for a, b in zip(SIZES[:-1], SIZES[1:])]
bs = [RNG.standard_normal(b) for b in SIZES[1:]]


def skeleton(transposed: bool = False, bias_shape=lambda n: (n,)) -> dict:
    found = {}
    for layer, (W, b) in enumerate(zip(Ws, bs)):
        found[f"W{layer}"] = W.T if transposed else W
        found[f"b{layer}"] = b.reshape(bias_shape(len(b)))
    return found


@pytest.mark.parametrize("flat", [
    skeleton(),
    {f"{k}{layer + 1}": v for layer in range(3) for k, v in (("W", Ws[layer]), ("b", bs[layer]))},
    {f"{k}_{layer}": v for layer in range(3) for k, v in (("weights", Ws[layer]), ("bias", bs[layer]))},
    {**{f"weights/{i}": W for i, W in enumerate(Ws)}, **{f"biases/{i}": b for i, b in enumerate(bs)}},
    {f"{layer}/{slot}": t for layer in range(3) for slot, t in enumerate((Ws[layer], bs[layer]))},
    {str(i): t for i, t in enumerate(t for pair in zip(Ws, bs) for t in pair)},
    {**skeleton(), "epoch": np.array([3.0]), "hidden_size": np.array([32.0, 16.0])},
], ids=["W0", "W1-based", "weights_0", "weights-list", "pairs", "flat-list", "extra-entries"])
def test_every_way_of_naming_the_tensors_gives_the_same_network(flat):
    network = read_network(flat)
    assert network.sizes == SIZES and not network.transposed
    for got, want in zip(network.weights + network.biases, Ws + bs):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("bias_shape", [lambda n: (n,), lambda n: (1, n), lambda n: (n, 1)])
def test_weights_stored_n_out_by_n_in_and_any_bias_shape_are_read_back(bias_shape):
    network = read_network(skeleton(transposed=True, bias_shape=bias_shape))
    assert network.sizes == SIZES and network.transposed
    np.testing.assert_array_equal(network.weights[1], Ws[1])
    assert all(b.shape == (n,) for b, n in zip(network.biases, SIZES[1:]))


def test_a_square_layer_takes_the_orientation_of_the_others():
    square = [RNG.standard_normal((784, 20)), RNG.standard_normal((20, 20)), RNG.standard_normal((20, 10))]
    flat = {**{f"W{i}": W.T for i, W in enumerate(square)}, **{f"b{i}": np.zeros(W.shape[1]) for i, W in enumerate(square)}}
    network = read_network(flat)
    assert network.transposed and network.sizes == (784, 20, 20, 10)
    np.testing.assert_array_equal(network.weights[1], square[1])  # transposed back like its neighbours


@pytest.mark.parametrize("flat, words", [
    ({"layer_a": Ws[0]}, "named layer_a; the skeleton's get_weights() names them W0, b0"),
    ({"W0": Ws[0], "W1": Ws[1], "W2": Ws[2], "b0": bs[0], "b1": bs[1]}, "3 weight matrices and 2 biases"),
    ({"W0": Ws[0], "W2": Ws[2], "b0": bs[0], "b2": bs[2]}, "numbered 0, 2"),
    ({"W0": Ws[1], "b0": bs[1]}, "W0 has shape (32, 16), but layer 0 takes the 784 pixels"),
    ({"W0": Ws[0], "W1": Ws[2], "b0": bs[0], "b1": bs[2]}, "layer 1 takes the 32 outputs of layer 0"),
    ({**skeleton(), "b1": np.zeros(5)}, "b1 has shape (5,); layer 1 has 16 units"),
])
def test_tensors_that_do_not_make_a_network_are_named(flat, words):
    with pytest.raises(ModelError, match=None) as raised:
        read_network(flat)
    assert words in str(raised.value)


def test_the_tensors_come_back_as_stored_in_layer_order():
    got_W, got_b = layer_tensors(skeleton(transposed=True))
    assert [W.shape for W in got_W] == [(32, 784), (16, 32), (10, 16)] and len(got_b) == 3


def test_architectures_are_worded_for_feedback():
    assert architecture_words((784, 32, 32, 10)) == "784-32-32-10 (2 hidden layers of 32)"
    assert architecture_words((784, 64, 10)) == "784-64-10 (1 hidden layer of 64)"
    assert architecture_words((784, 64, 32, 10)) == "784-64-32-10 (2 hidden layers of 64, 32)"
    assert architecture_words((784, 10)) == "784-10 (no hidden layer)"


def test_non_finite_weights_are_seen():
    flat = skeleton()
    flat["W1"] = flat["W1"].copy()
    flat["W1"][0, 0] = np.nan
    assert not read_network(flat).finite and read_network(skeleton()).finite
