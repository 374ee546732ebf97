"""reference.hand_network: the lecture's worked examples, number by number."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.gradcheck import numerical_gradient
from reference.hand_network import (LECTURE_CASE, LECTURE_PRINTED, PYTORCH_SNIPPET_CASE, backward_221_rounded,
                                    forward_backward_221, forward_backward_221_rounded, round_half_up,
                                    sigmoid_trace, squared_error_trace)

# Every number the lecture prints for its 2-2-1 network: (key, index, printed value).
LECTURE_NUMBERS = [
    ("z", 0, 0.75), ("z", 1, 0.75),
    ("h", 0, 0.679), ("h", 1, 0.679),
    ("z_out", (), 1.358),
    ("y_hat", (), 0.796),
    ("loss", (), 0.228),
    ("delta_out", (), -0.204),
    ("grad_w", 0, -0.139), ("grad_w", 1, -0.139),
    ("delta_hidden", 0, -0.044), ("delta_hidden", 1, -0.044),
    ("grad_V", (0, 0), -0.022), ("grad_V", (0, 1), -0.022),
    ("grad_V", (1, 0), -0.044), ("grad_V", (1, 1), -0.044),
]
FORWARD_KEYS = ("z", "h", "z_out")
BACKWARD_KEYS = ("loss", "delta_out", "grad_w", "delta_hidden", "grad_V")
# The lecture rounds y_hat = sigmoid(1.358) = 0.79543 (exactly 0.79549) up to 0.796; rounding each
# step honestly gives 0.795, and the values after it move by one unit of the third decimal:
# loss = -ln 0.795 = 0.22941 -> 0.229; delta_out = 0.795 - 1 = -0.205; grad_w = -0.205 * 0.679
# = -0.1392 -> -0.139; sigma' = 0.679 * 0.321 = 0.21796 -> 0.218; delta_hidden = -0.205 * 0.218
# = -0.04469 -> -0.045; grad_V = -0.045 * (0.5, 1.0) = (-0.0225 -> -0.023, -0.045).
ROUNDED_CHAIN_AFTER_Y_HAT = {
    "y_hat": 0.795, "loss": 0.229, "delta_out": -0.205, "grad_w": [-0.139, -0.139],
    "delta_hidden": [-0.045, -0.045], "grad_V": [[-0.023, -0.023], [-0.045, -0.045]],
}
# The exact chain is within 5e-4 of the printed numbers except where the lecture's rounding
# of y_hat carries on: y_hat 0.79549 and delta_out -0.20451 (5.1e-4), loss 0.2288,
# delta_hidden and grad_V[1] -0.04456.
EXACT_FARTHER_THAN_5E4 = {("y_hat", ()), ("delta_out", ()), ("loss", ()), ("delta_hidden", 0),
                          ("delta_hidden", 1), ("grad_V", (1, 0)), ("grad_V", (1, 1))}


def value_at(result: dict, key: str, index) -> float:
    return float(np.asarray(result[key])[index])


# ---------------------------------------------------------------- the 2-2-1 network

@pytest.mark.parametrize("key,index,printed", LECTURE_NUMBERS)
def test_rounded_chain_is_within_one_unit_of_the_lecture(key, index, printed):
    rounded = forward_backward_221_rounded(*LECTURE_CASE)
    assert value_at(rounded, key, index) == pytest.approx(printed, abs=1e-3 + 1e-12)


@pytest.mark.parametrize("key,index,printed", [row for row in LECTURE_NUMBERS if row[0] in FORWARD_KEYS])
def test_rounded_forward_pass_equals_the_lecture(key, index, printed):
    assert value_at(forward_backward_221_rounded(*LECTURE_CASE), key, index) == pytest.approx(printed, abs=1e-12)


@pytest.mark.parametrize("key,index,printed", [row for row in LECTURE_NUMBERS if row[0] in BACKWARD_KEYS])
def test_backward_from_the_lecture_y_hat_equals_the_lecture(key, index, printed):
    backward = backward_221_rounded(LECTURE_CASE.x, LECTURE_CASE.w, [0.679, 0.679], 0.796, LECTURE_CASE.y)
    assert value_at(backward, key, index) == pytest.approx(printed, abs=1e-12)


@pytest.mark.parametrize("key,index,printed", LECTURE_NUMBERS)
def test_lecture_printed_holds_the_lectures_numbers(key, index, printed):
    assert value_at(LECTURE_PRINTED, key, index) == printed


def test_lecture_printed_has_the_result_keys_and_is_read_only():
    assert list(LECTURE_PRINTED) == list(forward_backward_221(*LECTURE_CASE))
    with pytest.raises(ValueError):
        LECTURE_PRINTED["grad_V"][0, 0] = 0.0
    with pytest.raises(TypeError):
        LECTURE_PRINTED["loss"] = 0.0  # type: ignore[index]


@pytest.mark.parametrize("key", sorted(ROUNDED_CHAIN_AFTER_Y_HAT))
def test_rounded_chain_after_y_hat(key):
    rounded = forward_backward_221_rounded(*LECTURE_CASE)
    np.testing.assert_allclose(rounded[key], ROUNDED_CHAIN_AFTER_Y_HAT[key], atol=1e-12)


# A second case worked by hand, chosen so that ties and the rounding of sigma' matter:
# x = (0.5, 0.6), v11 = 0.5, v12 = 0.9, v21 = -0.9, v22 = -0.7, w = (-1.4, -1.5), y = 1.
# z = (0.25 - 0.54, 0.45 - 0.42) = (-0.29, 0.03); h = (sigmoid(-0.29) = 0.42800, sigmoid(0.03) = 0.50750)
# -> (0.428, 0.507); z_out = -0.5992 - 0.7605 = -1.3597 -> -1.360; y_hat = sigmoid(-1.36) = 0.20428
# -> 0.204; loss = -ln 0.204 = 1.5896 -> 1.590; delta_out = -0.796; grad_w = -0.796 h =
# (-0.34069, -0.40357) -> (-0.341, -0.404); sigma' = (0.244816, 0.249951) -> (0.245, 0.250);
# delta_hidden = -0.796 w sigma' = (0.273028, 0.2985) -> (0.273, 0.299) (unrounded sigma' would give
# 0.29844 -> 0.298); grad_V = x_i delta_j = (0.1365, 0.1495; 0.1638, 0.1794) -> (0.137, 0.150; 0.164, 0.179).
WORKED_CASE = (np.array([0.5, 0.6]), np.array([[0.5, 0.9], [-0.9, -0.7]]), np.array([-1.4, -1.5]), 1)
WORKED_CASE_ROUNDED = {
    "z": [-0.29, 0.03], "h": [0.428, 0.507], "z_out": -1.36, "y_hat": 0.204, "loss": 1.59,
    "delta_out": -0.796, "grad_w": [-0.341, -0.404], "delta_hidden": [0.273, 0.299],
    "grad_V": [[0.137, 0.150], [0.164, 0.179]],
}


@pytest.mark.parametrize("key", sorted(WORKED_CASE_ROUNDED))
def test_rounded_chain_of_a_second_worked_case(key):
    rounded = forward_backward_221_rounded(*WORKED_CASE)
    np.testing.assert_allclose(rounded[key], WORKED_CASE_ROUNDED[key], atol=1e-12)


@pytest.mark.parametrize("key,index,printed", LECTURE_NUMBERS)
def test_exact_chain_is_close_to_the_lecture(key, index, printed):
    exact = value_at(forward_backward_221(*LECTURE_CASE), key, index)
    tolerance = 1e-3 if (key, index) in EXACT_FARTHER_THAN_5E4 else 5e-4
    assert exact == pytest.approx(printed, abs=tolerance)


@pytest.mark.parametrize("key,index,unrounded", [
    ("loss", (), 0.2288), ("delta_hidden", 0, -0.0446), ("delta_hidden", 1, -0.0446),
])
def test_exact_chain_gives_the_contracts_unrounded_values(key, index, unrounded):
    assert value_at(forward_backward_221(*LECTURE_CASE), key, index) == pytest.approx(unrounded, abs=5e-5)


def test_result_keys_shapes_and_types():
    for result in (forward_backward_221(*LECTURE_CASE), forward_backward_221_rounded(*LECTURE_CASE)):
        assert list(result) == ["z", "h", "z_out", "y_hat", "loss", "delta_out", "grad_w",
                                "delta_hidden", "grad_V"]
        for key, shape in [("z", (2,)), ("h", (2,)), ("grad_w", (2,)), ("delta_hidden", (2,)), ("grad_V", (2, 2))]:
            assert result[key].shape == shape and result[key].dtype == np.float64
        for key in ("z_out", "y_hat", "loss", "delta_out"):
            assert type(result[key]) is float


def bce_of_network(x, V, w, y) -> float:
    y_hat = 1.0 / (1.0 + np.exp(-(1.0 / (1.0 + np.exp(-(x @ V)))) @ w))
    return float(-(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), y=st.sampled_from([0, 1]))
def test_gradients_match_central_differences_of_the_loss(seed, y):
    rng = np.random.default_rng(seed)
    x, V, w = rng.uniform(-2, 2, 2), rng.uniform(-2, 2, (2, 2)), rng.uniform(-2, 2, 2)
    result = forward_backward_221(x, V, w, y)
    assert result["loss"] == pytest.approx(bce_of_network(x, V, w, y), rel=1e-10)
    np.testing.assert_allclose(result["grad_V"], numerical_gradient(lambda V_: bce_of_network(x, V_, w, y), V),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(result["grad_w"], numerical_gradient(lambda w_: bce_of_network(x, V, w_, y), w),
                               rtol=1e-6, atol=1e-9)
    # The lecture's index order: grad_V[i, j] = dL/dv_ij = delta_j * x_i (row = input, column = hidden unit).
    np.testing.assert_allclose(result["grad_V"], np.outer(x, result["delta_hidden"]), rtol=1e-12)


def test_exact_chain_stays_finite_for_a_confident_wrong_prediction():
    result = forward_backward_221(np.array([1.0, 1.0]), np.full((2, 2), 50.0), np.array([40.0, 40.0]), 0)
    assert result["loss"] == pytest.approx(80.0, rel=1e-9)  # -log(1 - sigmoid(80)) = 80 + log(1 + e^-80)
    assert result["delta_out"] == pytest.approx(1.0)


def test_inputs_are_not_changed_and_the_case_is_read_only():
    x, V, w = np.array([0.3, 0.7]), np.array([[0.1, -0.4], [0.2, 0.9]]), np.array([1.2, -0.6])
    before = [a.copy() for a in (x, V, w)]
    forward_backward_221(x, V, w, 1)
    forward_backward_221_rounded(x, V, w, 1)
    for after, original in zip((x, V, w), before):
        np.testing.assert_array_equal(after, original)
    with pytest.raises(ValueError):
        LECTURE_CASE.V[0, 0] = 2.0


@pytest.mark.parametrize("x,V,w,y,match", [
    ([0.5, 1.0], [[0.5, 0.5]], [1.0, 1.0], 1, "expected x"),
    ([0.5, 1.0], [[0.5, 0.5], [0.5, 0.5]], [1.0], 1, "expected x"),
    ([[0.5, 1.0]], [[0.5, 0.5], [0.5, 0.5]], [1.0, 1.0], 1, "expected x"),
    ([0.5, 1.0], [[0.5, 0.5], [0.5, 0.5]], [1.0, 1.0], 2, "0 or 1"),
])
def test_bad_cases_are_rejected(x, V, w, y, match):
    for function in (forward_backward_221, forward_backward_221_rounded):
        with pytest.raises(ValueError, match=match):
            function(np.array(x), np.array(V), np.array(w), y)


def test_backward_rounded_rejects_impossible_predictions():
    with pytest.raises(ValueError, match="y_hat"):
        backward_221_rounded(LECTURE_CASE.x, LECTURE_CASE.w, [0.5, 0.5], 1.0, 1)


# ---------------------------------------------------------------- rounding as by hand

@pytest.mark.parametrize("value,decimals,expected", [
    (0.3395, 3, 0.340),      # a tie: np.round gives 0.339
    (-0.0225, 3, -0.023),    # ties go away from zero
    (0.0445, 3, 0.045),
    (0.79543, 3, 0.795),
    (0.2294, 3, 0.229),
    (2.5, 0, 3.0),           # np.round gives 2.0
    (0.5 * 0.679, 3, 0.340),  # binary 0.33949999999999997
])
def test_round_half_up(value, decimals, expected):
    assert round_half_up(value, decimals) == expected


def test_round_half_up_keeps_array_shapes_and_non_finite_values():
    rounded = round_half_up(np.array([[0.12345, -0.98765], [np.inf, np.nan]]), 2)
    assert rounded.shape == (2, 2)
    np.testing.assert_array_equal(rounded[0], [0.12, -0.99])
    assert rounded[1, 0] == np.inf and np.isnan(rounded[1, 1])


# ---------------------------------------------------------------- the autograd traces

@settings(max_examples=60, deadline=None)
@given(w=st.floats(-5, 5), x=st.floats(-5, 5), b=st.floats(-5, 5))
def test_sigmoid_trace_follows_the_five_steps(w, x, b):
    t = sigmoid_trace(w, x, b)
    assert t["z1"] == w * x
    assert t["z2"] == t["z1"] + b
    assert t["z3"] == -t["z2"]
    assert t["z4"] == pytest.approx(math.exp(t["z3"]), rel=1e-15)
    assert t["L"] == pytest.approx(1.0 / (1.0 + math.exp(-(w * x + b))), rel=1e-14)
    L, z4 = t["L"], t["z4"]
    assert t["dL_dz4"] == pytest.approx(-L ** 2, rel=1e-14)
    assert t["dL_dz3"] == pytest.approx(-L ** 2 * z4, rel=1e-14)
    assert t["dL_dz2"] == pytest.approx(L ** 2 * z4, rel=1e-14)
    assert t["dL_db"] == pytest.approx(L ** 2 * z4, rel=1e-14)
    assert t["dL_dw"] == pytest.approx(L ** 2 * z4 * x, rel=1e-14, abs=1e-300)
    # L^2 z4 = L (1 - L): the trace agrees with sigma'(z) = sigma (1 - sigma).
    assert t["dL_db"] == pytest.approx(L * (1 - L), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("w,x,b", [(2.0, 1.0, 0.5), (-1.5, 0.3, 0.2), (0.7, -2.0, -1.0)])
def test_sigmoid_trace_gradients_match_central_differences(w, x, b):
    t = sigmoid_trace(w, x, b)
    numeric_w = numerical_gradient(lambda v: sigmoid_trace(float(v[0]), x, b)["L"], np.array([w]))
    numeric_b = numerical_gradient(lambda v: sigmoid_trace(w, x, float(v[0]))["L"], np.array([b]))
    assert t["dL_dw"] == pytest.approx(numeric_w[0], rel=1e-7)
    assert t["dL_db"] == pytest.approx(numeric_b[0], rel=1e-7)


@settings(max_examples=60, deadline=None)
@given(w=st.floats(-5, 5), x=st.floats(-5, 5), b=st.floats(-5, 5), y=st.floats(-5, 5))
def test_squared_error_trace_follows_the_steps(w, x, b, y):
    t = squared_error_trace(w, x, b, y)
    z3 = w * x + b - y
    assert (t["z1"], t["z2"], t["z3"]) == (w * x, w * x + b, z3)
    assert t["L"] == z3 ** 2
    for key in ("dL_dz3", "dL_dz2", "dL_dz1", "dL_db"):
        assert t[key] == 2 * z3
    assert t["dL_dw"] == 2 * z3 * x


def test_squared_error_trace_gradients_match_central_differences():
    w, x, b, y = 0.8, -1.3, 0.4, 0.25
    numeric_w = numerical_gradient(lambda v: squared_error_trace(float(v[0]), x, b, y)["L"], np.array([w]))
    numeric_b = numerical_gradient(lambda v: squared_error_trace(w, x, float(v[0]), y)["L"], np.array([b]))
    assert squared_error_trace(w, x, b, y)["dL_dw"] == pytest.approx(numeric_w[0], rel=1e-8)
    assert squared_error_trace(w, x, b, y)["dL_db"] == pytest.approx(numeric_b[0], rel=1e-8)


@pytest.mark.parametrize("key,value", [("z2", 2.5), ("L", 6.25), ("dL_dw", 5.0)])
def test_pytorch_snippet_gives_w_grad_five(key, value):
    # x = 1, w = 2, b = 0.5: z = 2.5, loss = z^2 = 6.25, w.grad = 2 z x = 5.0.
    assert squared_error_trace(**PYTORCH_SNIPPET_CASE)[key] == value
