"""Hidden checks of exercise 2: random cases, purity, and HAND_ANSWERS against the personal case."""
from __future__ import annotations

import re

import numpy as np
import pytest

import grader.checks.hidden.ex2_hand_calculation as hidden
from grader.personal_case import personal_case
from grader.rubric import load_rubric
from reference import hand_network as ref
from tests.grader.checks.test_ex2_hand_calculation import (
    REFERENCE, STUDENT, as_literals, correct_namespaces, flipped_sign, hand_answers_for, returns_lecture, variant,
)

STEM = hidden.STEM
HIDDEN = sorted(name for name, item in load_rubric(STEM).tests.items() if item.visibility == "hidden")


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("namespace, student", correct_namespaces())
def test_correct_implementations_pass_every_hidden_check(namespace, student, seed, run_check):
    outcomes = {name: run_check(STEM, name, namespace, seed=seed, student_id=student) for name in HIDDEN}
    assert {name: o.feedback for name, o in outcomes.items() if o.status != "passed"} == {}


def test_exact_hand_answers_to_three_decimals_score_full_marks(run_check):
    exact = ref.forward_backward_221(*personal_case(STUDENT))
    answers = {key: np.round(np.asarray(value), 3).tolist() for key, value in exact.items()}
    assert run_check(STEM, "HAND_ANSWERS.personal_case", {"HAND_ANSWERS": answers}, student_id=STUDENT).status == "passed"


def _update_in_place(x, V, w, y):
    answers = ref.forward_backward_221(x, V, w, y)
    V -= 0.1 * answers["grad_V"]  # a gradient step taken inside the function
    return answers


BROKEN = [
    ("the slides' numbers for any input", returns_lecture(True), "forward_backward_221.random", "hardcoded_answer"),
    ("y - y_hat", flipped_sign, "forward_backward_221.random", "sign_flipped"),
    ("grad_V transposed", variant(grad_V=lambda a, *_: a["grad_V"].T), "forward_backward_221.random", "transposed"),
    ("rounds every step", ref.forward_backward_221_rounded, "forward_backward_221.random", None),
    ("updates V in place", _update_in_place, "forward_backward_221.no_mutation", "mutates_input"),
]


@pytest.mark.parametrize("label, function, name, diagnosis", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_network_fails_with_diagnosis(label, function, name, diagnosis, run_check):
    outcome = run_check(STEM, name, {**REFERENCE, "forward_backward_221": function})
    assert outcome.status == "failed", outcome.feedback
    assert outcome.diagnosis == diagnosis, outcome.feedback
    assert not re.search(r"\d\.\d{4,}", outcome.feedback), outcome.feedback


def test_random_cases_give_partial_credit_by_values_right(run_check):
    outcome = run_check(STEM, "forward_backward_221.random",
                        {"forward_backward_221": variant(loss=lambda a, *_: -np.log(a["y_hat"]))})
    # The loss ignoring y is right only for the cases with y = 1: half of the loss values.
    assert outcome.verdict.fraction == pytest.approx((4 * 9 - 2) / 36)
    assert "y = 0" in outcome.feedback


def _flip(answers, keys):
    return {k: (-np.asarray(v)).tolist() if k in keys else v for k, v in answers.items()}


def _carried(student):
    """h worked wrongly by hand (+0.01), everything after it consistent with that h."""
    x, V, w, y = personal_case(student)
    rounded = ref.forward_backward_221_rounded(x, V, w, y)
    h = rounded["h"] + 0.01
    z_out = ref.round_half_up(h @ w)
    y_hat = ref.round_half_up(float(ref.sigmoid(z_out)))
    back = ref.backward_221_rounded(x, w, h, y_hat, y)
    return as_literals({**rounded, "h": h, "z_out": z_out, "y_hat": y_hat, **back})


@pytest.mark.parametrize("label, answers, fraction, diagnosis", [
    ("the slides' numbers", as_literals(dict(ref.LECTURE_PRINTED)), None, "hardcoded_answer"),
    ("one key wrong", {**hand_answers_for(STUDENT), "z_out": 0.0}, 8 / 9, None),
    ("gradients with the opposite sign",
     _flip(hand_answers_for(STUDENT), ("delta_out", "grad_w", "delta_hidden", "grad_V")), 5 / 9, "sign_flipped"),
    ("grad_V transposed", {**hand_answers_for(STUDENT), "grad_V": np.array(hand_answers_for(STUDENT)["grad_V"]).T.tolist()},
     8 / 9, "transposed"),
    ("h wrong, the rest carried forward", _carried(STUDENT), 6 / 9, None),
])
def test_hand_answers_for_the_personal_case(label, answers, fraction, diagnosis, run_check):
    outcome = run_check(STEM, "HAND_ANSWERS.personal_case", {"HAND_ANSWERS": answers}, student_id=STUDENT)
    assert outcome.status == "failed"
    assert outcome.diagnosis == diagnosis, outcome.feedback
    if fraction is not None:
        assert outcome.verdict.fraction == pytest.approx(fraction), outcome.feedback
    assert not re.search(r"\d\.\d{4,}", outcome.feedback), outcome.feedback


def test_the_case_comes_from_the_grading_id_not_the_submission(run_check):
    other = hand_answers_for("s002")
    assert personal_case("s002")[0].tolist() != personal_case(STUDENT)[0].tolist() or \
        personal_case("s002")[1].tolist() != personal_case(STUDENT)[1].tolist()
    namespace = {"HAND_ANSWERS": other, "STUDENT_ID": "s002"}
    assert run_check(STEM, "HAND_ANSWERS.personal_case", namespace, student_id=STUDENT).status == "failed"
    assert run_check(STEM, "HAND_ANSWERS.personal_case", namespace, student_id="s002").status == "passed"


def test_without_a_student_id_the_hand_answers_cannot_pass(run_check):
    outcome = run_check(STEM, "HAND_ANSWERS.personal_case", {"HAND_ANSWERS": hand_answers_for(STUDENT)}, student_id="")
    assert outcome.status == "failed" and "student id" in outcome.feedback


def test_carry_forward_can_be_switched_off(run_check):
    settings = {**load_rubric(STEM).settings, "carry_forward": False}
    outcome = run_check(STEM, "HAND_ANSWERS.personal_case", {"HAND_ANSWERS": _carried(STUDENT)},
                        student_id=STUDENT, settings=settings)
    assert outcome.verdict.fraction < 6 / 9
