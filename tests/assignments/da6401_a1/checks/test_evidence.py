"""What a wrong forward or backward answer is diagnosed as, from the answer alone."""
from __future__ import annotations

import numpy as np
import pytest

from grader.assignments.da6401_a1.checks.lib.calls import Gradients
from grader.assignments.da6401_a1.checks.lib.cases import draw_case
from grader.assignments.da6401_a1.checks.lib.forward_evidence import forward_problem, forward_slip, forward_variants
from grader.assignments.da6401_a1.checks.lib.gradient_evidence import gradient_variants, judge_gradients
from grader.assignments.da6401_a1.reference.losses import softmax

SIZES = (784, 7, 5, 10)
SETTINGS = {"rtol": 1e-7, "diagnosis_rtol": 1e-4, "mse_scale_credit": 0.5}


def case(loss: str = "cross_entropy", activation: str = "tanh", batch: int = 6):
    return draw_case(np.random.default_rng(11), SIZES, activation, loss, batch=batch)


def judged(tensors, c, **kwargs):
    return judge_gradients(Gradients(list(tensors), kwargs.pop("single", False), kwargs.pop("slip", None)),
                           c.reference_gradients(), c, SETTINGS, what="backward", stem="a1_gradients", rtol=1e-7,
                           **kwargs)


@pytest.mark.parametrize("loss", ["cross_entropy", "mean_squared_error"])
def test_right_gradients_pass_and_rounding_does_not_count(loss):
    c = case(loss)
    assert judged(c.reference_gradients(), c).passed
    assert judged([g * (1 + 1e-12) for g in c.reference_gradients()], c).passed


@pytest.mark.parametrize("factor, code, credit", [
    (-1.0, "sign_flipped", None), (1 / 6, "batch_mean_twice", None), (6.0, "batch_sum_not_mean", None),
])
def test_a_known_factor_on_every_tensor_is_named(factor, code, credit):
    c = case()
    verdict = judged([factor * g for g in c.reference_gradients()], c)
    assert (verdict.passed, verdict.diagnosis, verdict.fraction) == (False, code, credit)


@pytest.mark.parametrize("factor", [10.0, 5.0])
def test_mse_summed_over_classes_earns_partial_credit(factor):
    c = case("mean_squared_error")
    verdict = judged([factor * g for g in c.reference_gradients()], c)
    assert (verdict.diagnosis, verdict.credit) == ("mse_grad_scale_classes", 0.5)
    assert judged([10.0 * g for g in case().reference_gradients()], case()).diagnosis is None  # not for CE


@pytest.mark.parametrize("loss", ["cross_entropy", "mean_squared_error"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_every_variant_is_named_as_itself(loss, activation):
    c = case(loss, activation)
    variants = gradient_variants(c)
    assert {code for code, _ in variants} >= {"missing_activation_derivative"}
    if loss == "mean_squared_error":
        assert {"mse_with_ce_delta", "mse_missing_softmax_jacobian"} <= {code for code, _ in variants}
    for code, tensors in variants:
        if code == "derivative_of_wrong_input" and activation == "relu":
            continue  # relu'(relu(z)) = relu'(z): the same numbers as the right answer's
        assert judged(tensors, c).diagnosis == code


def test_a_layout_slip_single_precision_and_a_wrong_forward_come_first():
    c = case()
    right = c.reference_gradients()
    assert judged(right, c, slip="transposed").diagnosis == "transposed"
    assert judged(right, c, single=True).diagnosis == "float32_precision"  # even when within the tolerance
    wrong = judged([2 * g for g in right], c, forward_wrong=("activation_applied_twice", "forward is wrong"))
    assert wrong.diagnosis == "activation_applied_twice" and "forward is wrong" in wrong.feedback


def test_a_dead_layer_rounding_to_zero_is_not_an_error():
    c = case()
    right = c.reference_gradients()
    zeroed = [g if i < 2 else np.zeros_like(g) for i, g in enumerate(right)]
    noisy = [g if i < 2 else g + 1e-16 for i, g in enumerate(zeroed)]
    assert judge_gradients(Gradients(noisy, False), zeroed, c, SETTINGS, what="", stem="a1_gradients",
                           rtol=1e-7).passed


def test_forward_slips_are_recognised_and_right_logits_are_not_a_problem():
    c = case(activation="sigmoid")
    assert forward_problem(c.reference_logits(), c, SETTINGS) is None
    found = {(code, words.split(";")[0]) for code, words, _ in forward_variants(c)}
    assert ("activation_applied_twice", "a hidden activation is applied twice") in found
    for code, words, logits in forward_variants(c):
        assert forward_slip(logits, c, 1e-4) == (code, words)
    assert "probabilities" in forward_slip(softmax(c.reference_logits()), c, 1e-4)[1]
