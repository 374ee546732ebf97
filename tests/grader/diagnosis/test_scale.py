"""Scale evidence: a known factor names a mistake only when the answer is exactly that factor times the right one."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from grader.diagnosis.scale import (
    LN2, SIGN, Factor, batch_factors, common_code, log2_factors, loss_gradient_factors, match_ratio, match_scale,
    mlp_gradient_factors, mse_delta_factors,
)

RIGHT = np.array([[0.3, -1.2, 0.7], [2.0, -0.4, 0.9]])

# (factor applied to the right answer, factors searched, code expected)
TABLE = [
    (-1.0, [SIGN], "sign_flipped"),
    (1 / 6, batch_factors(6), "batch_mean_twice"),
    (6.0, batch_factors(6), "batch_sum_not_mean"),
    (1 / LN2, log2_factors(), "log_base_2"),
    (LN2, log2_factors(), "log_base_2"),
    (1.5, mse_delta_factors(3, 4), "mse_with_ce_delta"),
    (0.5, mse_delta_factors(3, 4), "mse_with_ce_delta"),
    (6.0, mse_delta_factors(3, 4), "mse_with_ce_delta"),
    (1.0, mlp_gradient_factors(4, 3, "cce"), None),  # the right answer names nothing
    (0.5, batch_factors(6), None),
    (-1.001, [SIGN], None),
    (6.0, [*batch_factors(6), Factor(6.0, "mse_with_ce_delta", "B n_L/2")], None),  # two codes: neither
]


@pytest.mark.parametrize("factor, factors, code", TABLE)
def test_match_scale_table(factor, factors, code):
    match = match_scale(factor * RIGHT, RIGHT, factors, 1e-4)
    assert (match.code if match else None) == code
    if match:
        assert math.isclose(match.measured, factor, rel_tol=1e-9)


def test_a_scale_needs_the_same_direction():
    got = -RIGHT.copy()
    got[0, 0] += 0.5  # still mostly -1 times, but not exactly
    assert match_scale(got, RIGHT, [SIGN], 1e-4) is None


@pytest.mark.parametrize("got, expected", [
    (np.ones(3), np.ones(4)),  # shapes differ
    (np.array([np.nan, 1.0]), np.array([1.0, 1.0])),
    (np.zeros(3), np.ones(3)),
    (np.ones(3), np.zeros(3)),
    ("text", np.ones(3)),
])
def test_unusable_answers_name_nothing(got, expected):
    assert match_scale(got, expected, [SIGN, *batch_factors(3)], 1e-4) is None


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)),
              elements=st.floats(-10, 10, allow_nan=False).filter(lambda v: abs(v) > 1e-3)),
       st.integers(2, 40), st.sampled_from(["mean_twice", "sum", "sign"]))
def test_any_array_scaled_by_a_known_factor_is_named(right, batch, which):
    factor = {"mean_twice": 1.0 / batch, "sum": float(batch), "sign": -1.0}[which]
    code = {"mean_twice": "batch_mean_twice", "sum": "batch_sum_not_mean", "sign": "sign_flipped"}[which]
    assert match_scale(factor * right, right, [SIGN, *batch_factors(batch)], 1e-6).code == code
    # A small extra error anywhere breaks the match.
    got = factor * right
    got.flat[0] += 1e-2 * max(1.0, abs(got.flat[0]))
    assert match_scale(got, right, [SIGN, *batch_factors(batch)], 1e-6) is None


def test_batch_of_one_has_no_batch_factors():
    assert batch_factors(1) == []
    assert [f.label for f in batch_factors(5, "N")] == ["1/N = 1/5", "N = 5"]


def test_mse_factors_leave_out_a_factor_of_one():
    assert [f.value for f in mse_delta_factors(2, 1)] == [0.5]
    assert sorted(f.value for f in mse_delta_factors(4, 3)) == [0.5, 2.0, 6.0]


def test_loss_gradient_factors_per_function():
    codes = {name: {f.code for f in loss_gradient_factors(name, 6)} for name in ("mse_grad", "bce_grad", "cce_grad")}
    assert codes["mse_grad"] == {"sign_flipped", "batch_mean_twice", "batch_sum_not_mean", "mse_with_ce_delta"}
    assert "log_base_2" in codes["bce_grad"] and "log_base_2" in codes["cce_grad"]
    assert "mse_with_ce_delta" not in codes["cce_grad"]


@pytest.mark.parametrize("ratio, code", [(-1.0, "sign_flipped"), (0.2, "batch_mean_twice"), (5.0, "batch_sum_not_mean"),
                                         (5.0001, None), (math.inf, None), (math.nan, None)])
def test_match_ratio(ratio, code):
    found = match_ratio(ratio, [SIGN, *batch_factors(5)], 1e-5)
    assert (found.code if found else None) == code


@pytest.mark.parametrize("codes, common", [([], None), (["a"], "a"), (["a", "a"], "a"), (["a", None], None),
                                           ([None, None], None), (["a", "b"], None)])
def test_common_code(codes, common):
    assert common_code(codes) == common
