"""Mistaken variants: each makes exactly one known mistake, and a match names it."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from grader.diagnosis import variants
from reference import activations, hand_network, mlp

Z = np.array([[0.3, -1.2, 2.0], [1.5, 0.1, -0.7]])


def test_matching_variant_names_the_first_match_and_skips_the_right_answer():
    right = np.tanh(Z)
    found = [("activation_instead_of_derivative", right.copy()), ("derivative_of_wrong_input", 1 - Z ** 2)]
    assert variants.matching_variant(1 - Z ** 2, found, 1e-9, right=right) == "derivative_of_wrong_input"
    assert variants.matching_variant(right, found, 1e-9, right=right) is None
    assert variants.matching_variant(1 - Z ** 2 + 1e-3, found, 1e-9) is None
    assert variants.matching_variant("text", found, 1e-9) is None


def test_matching_variant_needs_inf_and_nan_in_the_same_places():
    got = np.array([1.0, np.nan, np.inf])
    assert variants.matching_variant(got, [("softmax_wrong_axis", np.array([1.0, np.nan, np.inf]))], 1e-9) \
        == "softmax_wrong_axis"
    assert variants.matching_variant(got, [("softmax_wrong_axis", np.array([1.0, np.nan, -np.inf]))], 1e-9) is None
    assert variants.matching_variant(got, [("softmax_wrong_axis", np.array([1.0, 2.0, np.inf]))], 1e-9) is None
    all_nan = np.full(3, np.nan)
    assert variants.matching_variant(all_nan, [("softmax_wrong_axis", all_nan)], 1e-9) is None


@pytest.mark.parametrize("name, slip, code", [
    ("relu_grad", lambda z: np.ones_like(z), "relu_derivative_constant"),
    ("relu_grad", activations.relu, "activation_instead_of_derivative"),
    ("sigmoid_grad", lambda z: z * (1 - z), "derivative_of_wrong_input"),
    ("sigmoid_grad", lambda z: activations.sigmoid_grad(activations.sigmoid(z)), "derivative_of_wrong_input"),
    ("sigmoid_grad", activations.sigmoid, "activation_instead_of_derivative"),
    ("tanh_grad", lambda z: 1 - z ** 2, "derivative_of_wrong_input"),
    ("tanh_grad", np.tanh, "activation_instead_of_derivative"),
    ("tanh_grad", lambda z: -activations.tanh_grad(z), None),  # a sign is scale evidence, not a variant
])
def test_derivative_variants(name, slip, code):
    right = getattr(activations, name)(Z)
    assert variants.matching_variant(slip(Z), variants.derivative_variants(name, Z), 1e-9, right=right) == code


def test_softmax_variants_are_each_wrong_and_cover_the_axis_slips():
    right = activations.softmax(Z)
    found = variants.softmax_variants(Z)
    assert all(code == "softmax_wrong_axis" and not np.allclose(v, right) for code, v in found)
    axis0 = np.exp(Z - Z.max(axis=-1, keepdims=True))
    axis0 = axis0 / axis0.sum(axis=0, keepdims=True)  # the row's maximum, the column's sum
    whole = np.exp(Z) / np.exp(Z).sum()
    for slip in (axis0, whole):
        assert variants.matching_variant(slip, found, 1e-9, right=right) == "softmax_wrong_axis"
    assert variants.softmax_variants(Z[0]) == []  # a single row has no other axis


@pytest.mark.parametrize("op", ["sigmoid", "tanh", "relu"])
def test_local_derivative_variants_differ_from_the_derivative(op):
    x = np.array([-1.3, 0.4, 2.2])
    right = getattr(activations, f"{op}_grad")(x)
    found = variants.local_derivative_variants(op, x)
    assert found and {code for code, _ in found} <= {"derivative_of_wrong_input", "activation_instead_of_derivative",
                                                     "missing_activation_derivative", "relu_derivative_constant"}
    assert all(not np.allclose(v, right) for _, v in found)
    assert variants.local_derivative_variants("exp", x) == []


def test_cross_entropy_variants_are_the_loss_with_the_axis_slipped():
    y = np.eye(3)[[0, 2]]
    found = dict((round(float(v), 12), code) for code, v in variants.cross_entropy_variants(Z, y))
    p0 = np.exp(Z - Z.max(axis=0)) / np.exp(Z - Z.max(axis=0)).sum(axis=0)
    assert round(float(-np.sum(y * np.log(p0)) / 2), 12) in found
    assert variants.cross_entropy_variants(Z[0], y[0]) == []


def test_hand_backward_variants_change_only_sigma_prime():
    x, V, w, y = hand_network.LECTURE_CASE
    chain = hand_network.forward_backward_221(x, V, w, y)
    found = dict(variants.hand_backward_variants(x, w, chain))
    missing = found["missing_activation_derivative"]
    assert np.allclose(missing["delta_hidden"], chain["delta_out"] * np.asarray(w))
    assert np.allclose(missing["grad_V"], np.outer(x, missing["delta_hidden"]))
    assert np.allclose(found["activation_instead_of_derivative"]["delta_hidden"],
                       chain["delta_out"] * np.asarray(w) * chain["h"])


def random_case(rng, hidden, output, loss, depth=3):
    sizes = [int(n) for n in rng.choice(np.arange(2, 8), size=depth + 1, replace=False)]
    params = [(rng.normal(size=(a, b)) / math.sqrt(a), rng.normal(size=b)) for a, b in zip(sizes[:-1], sizes[1:])]
    X = rng.normal(size=(5, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], 5)] if loss == "cce" else rng.normal(size=(5, sizes[-1]))
    return params, X, Y


def test_reference_is_available_in_the_instructors_tree_only(monkeypatch):
    assert variants.reference_available()
    monkeypatch.setitem(__import__("sys").modules, "reference", None)  # as in the student release
    assert not variants.reference_available()


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["sigmoid", "tanh", "relu"]))
def test_mlp_backward_variants_keep_the_output_layer_and_change_the_hidden_ones(seed, hidden):
    params, X, Y = random_case(np.random.default_rng(seed), hidden, "softmax", "cce")
    _, cache = mlp.forward(params, X, hidden=hidden, output="softmax")
    right = [t for pair in mlp.backward(params, cache, Y, loss="cce") for t in pair]
    found = variants.mlp_backward_variants(params, X, Y, hidden, "softmax", "cce")
    assert found
    for code, grads in found:
        assert np.allclose(grads[-2], right[-2]) and np.allclose(grads[-1], right[-1]), code
        assert not all(np.allclose(a, b) for a, b in zip(grads, right)), code
    if hidden == "relu":
        assert found[0][0] == "relu_derivative_constant"


def test_mlp_backward_variants_of_identity_units_or_one_layer_are_none():
    rng = np.random.default_rng(1)
    params, X, Y = random_case(rng, "identity", "softmax", "cce")
    assert [code for code, _ in variants.mlp_backward_variants(params, X, Y, "identity", "softmax", "cce")] \
        == ["activation_instead_of_derivative"]  # identity(Z) = Z stands in for 1
    params, X, Y = random_case(rng, "tanh", "softmax", "cce", depth=1)
    assert variants.mlp_backward_variants(params, X, Y, "tanh", "softmax", "cce") == []


def test_mlp_forward_variants():
    params, X, _ = random_case(np.random.default_rng(2), "tanh", "softmax", "cce")
    right, cache = mlp.forward(params, X, hidden="tanh", output="softmax")
    found = variants.mlp_forward_variants(params, X, "tanh", "softmax")
    codes = [code for code, _ in found]
    assert codes.count("activation_applied_twice") == 3 and "softmax_wrong_axis" in codes
    twice = activations.softmax(np.tanh(cache.pre_activations[-1]))
    assert variants.matching_variant(twice, found, 1e-9, right=right) == "activation_applied_twice"
    assert all(not np.allclose(v, right) for _, v in found)


def test_matching_gradients_needs_every_tensor():
    a, b = [np.ones(2), np.zeros(3)], [np.ones(2), np.ones(3)]
    assert variants.matching_gradients(a, [("x", b), ("y", a)], 1e-9) == "y"
    assert variants.matching_gradients(a[:1], [("y", a)], 1e-9) is None
