"""Public checks of exercise 2 against correct and broken 2-2-1 networks and hand answers."""
from __future__ import annotations

import math

import numpy as np
import pytest

import grader.checks.ex2_hand_calculation as ex2
from grader.checks.base import REGISTRY
from grader.personal_case import personal_case
from grader.rubric import load_rubric
from reference import hand_network as ref
from tests.grader.checks.conftest import load_solution

STEM = ex2.STEM
PUBLIC = sorted(name for name, item in load_rubric(STEM).tests.items() if item.visibility == "visible")
STUDENT = "s001"


def as_literals(answers: dict) -> dict:
    """A chain as a student writes it: plain numbers and nested lists."""
    return {key: np.asarray(value).tolist() for key, value in answers.items()}


def hand_answers_for(student_id: str) -> dict:
    return as_literals(ref.forward_backward_221_rounded(*personal_case(student_id)))


def _sigmoid(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t)) if t >= 0 else math.exp(t) / (1.0 + math.exp(t))


def forward_backward_loops(x, V, w, y):
    """The same network with scalar loops and the unsimplified BCE derivative."""
    z = [sum(x[i] * V[i][j] for i in range(2)) for j in range(2)]
    h = [_sigmoid(t) for t in z]
    z_out = sum(w[j] * h[j] for j in range(2))
    y_hat = _sigmoid(z_out)
    loss = -math.log(y_hat) if y == 1 else -math.log(1.0 - y_hat)
    dloss_dyhat = -y / y_hat + (1 - y) / (1 - y_hat)
    delta_out = dloss_dyhat * y_hat * (1 - y_hat)
    delta_hidden = [delta_out * w[j] * h[j] * (1 - h[j]) for j in range(2)]
    return {"z": z, "h": h, "z_out": z_out, "y_hat": y_hat, "loss": loss, "delta_out": delta_out,
            "grad_w": [delta_out * h[j] for j in range(2)], "delta_hidden": delta_hidden,
            "grad_V": [[delta_hidden[j] * x[i] for j in range(2)] for i in range(2)]}


REFERENCE = {"forward_backward_221": ref.forward_backward_221, "HAND_ANSWERS": hand_answers_for(STUDENT)}
ALTERNATIVE = {"forward_backward_221": forward_backward_loops,
               "HAND_ANSWERS": as_literals(ref.forward_backward_221(*personal_case(STUDENT)))}


def correct_namespaces():
    params = [pytest.param(REFERENCE, STUDENT, id="reference"), pytest.param(ALTERNATIVE, STUDENT, id="alternative")]
    solution = load_solution(STEM)
    if solution is not None:
        params.append(pytest.param(solution, "solutions", id="solution"))
    return params


# ---------------------------------------------------------------- broken networks

def variant(**changes):
    """forward_backward_221 with some keys recomputed from the exact answers `a` and the case."""
    def run(x, V, w, y):
        answers = ref.forward_backward_221(x, V, w, y)
        for key, change in changes.items():
            answers[key] = change(answers, np.asarray(x), np.asarray(V), np.asarray(w), y)
        return answers
    return run


def returns_lecture(printed: bool):
    def run(x, V, w, y):
        return dict(ref.LECTURE_PRINTED) if printed else ref.forward_backward_221(*ref.LECTURE_CASE)
    return run


def flipped_sign(x, V, w, y):
    a = ref.forward_backward_221(x, V, w, y)
    return {**a, **{key: -np.asarray(a[key]) for key in ("delta_out", "grad_w", "delta_hidden", "grad_V")}}


def ref_sigmoid_grad(t):
    s = 1.0 / (1.0 + np.exp(-np.asarray(t)))
    return s * (1.0 - s)


def log2_loss(a, x, V, w, y):
    return a["loss"] / math.log(2)


BROKEN = [
    ("the slides' numbers for any input", returns_lecture(True), "forward_backward_221.other_case", "hardcoded_answer"),
    ("the lecture's exact chain for any input", returns_lecture(False), "forward_backward_221.other_case",
     "hardcoded_answer"),
    ("y - y_hat", flipped_sign, "forward_backward_221.other_case", "sign_flipped"),
    ("y - y_hat (gradcheck)", flipped_sign, "forward_backward_221.gradcheck", "sign_flipped"),
    ("grad_V transposed", variant(grad_V=lambda a, *_: a["grad_V"].T), "forward_backward_221.other_case", "transposed"),
    ("grad_V transposed (gradcheck)", variant(grad_V=lambda a, *_: a["grad_V"].T), "forward_backward_221.gradcheck",
     "transposed"),
    ("no sigmoid' in delta_hidden", variant(delta_hidden=lambda a, x, V, w, y: a["delta_out"] * w),
     "forward_backward_221.other_case", "missing_activation_derivative"),
    ("h where sigma' belongs", variant(delta_hidden=lambda a, x, V, w, y: a["delta_out"] * w * a["h"],
                                       grad_V=lambda a, x, V, w, y: np.outer(x, a["delta_out"] * w * a["h"])),
     "forward_backward_221.lecture_case", "activation_instead_of_derivative"),
    ("sigma'(h) for sigma'(z)",
     variant(delta_hidden=lambda a, x, V, w, y: a["delta_out"] * w * ref_sigmoid_grad(a["h"])),
     "forward_backward_221.other_case", "derivative_of_wrong_input"),
    ("loss in log2", variant(loss=log2_loss), "forward_backward_221.other_case", "log_base_2"),
    ("loss in log2 (gradcheck)", variant(loss=log2_loss), "forward_backward_221.gradcheck", "log_base_2"),
    ("loss ignores y", variant(loss=lambda a, *_: -math.log(a["y_hat"])), "forward_backward_221.other_case", None),
    ("grad_w from z instead of h", variant(grad_w=lambda a, *_: a["delta_out"] * a["z"]),
     "forward_backward_221.lecture_case", None),
    ("returns a list", lambda x, V, w, y: list(ref.forward_backward_221(x, V, w, y).values()),
     "forward_backward_221.lecture_case", None),
]


@pytest.mark.parametrize("namespace, student", correct_namespaces())
def test_correct_implementations_pass_every_public_check(namespace, student, run_check):
    outcomes = {name: run_check(STEM, name, namespace, student_id=student) for name in PUBLIC}
    assert {name: o.feedback for name, o in outcomes.items() if o.status != "passed"} == {}
    assert all(o.diagnosis is None for o in outcomes.values())


def test_a_function_that_rounds_like_the_slides_passes_the_lecture_case(run_check):
    outcome = run_check(STEM, "forward_backward_221.lecture_case",
                        {"forward_backward_221": lambda x, V, w, y: dict(ref.LECTURE_PRINTED)})
    assert outcome.status == "passed"
    rounded = run_check(STEM, "forward_backward_221.lecture_case",
                        {"forward_backward_221": ref.forward_backward_221_rounded})
    assert rounded.status == "passed"


@pytest.mark.parametrize("label, function, name, diagnosis", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_network_fails_with_diagnosis(label, function, name, diagnosis, run_check):
    outcome = run_check(STEM, name, {**REFERENCE, "forward_backward_221": function})
    assert outcome.status == "failed", outcome.feedback
    assert outcome.diagnosis == diagnosis, outcome.feedback


def test_partial_credit_counts_the_keys_right(run_check):
    outcome = run_check(STEM, "forward_backward_221.other_case",
                        {"forward_backward_221": variant(loss=lambda a, *_: -math.log(a["y_hat"]))})
    assert outcome.verdict.fraction == pytest.approx(8 / 9)
    assert "loss is wrong" in outcome.feedback and ex2.FORMULA["loss"] in outcome.feedback

    def without_grad_V(x, V, w, y):
        answers = ref.forward_backward_221(x, V, w, y)
        del answers["grad_V"]
        return answers

    missing = run_check(STEM, "forward_backward_221.lecture_case", {"forward_backward_221": without_grad_V})
    assert missing.verdict.fraction == pytest.approx(8 / 9) and "grad_V is missing" in missing.feedback


# ---------------------------------------------------------------- HAND_ANSWERS, public form check

@pytest.mark.parametrize("answers, fraction", [
    ({k: v for k, v in hand_answers_for(STUDENT).items() if k != "loss"}, 8 / 9),
    ({**hand_answers_for(STUDENT), "grad_V": [0.1, 0.2]}, 8 / 9),
    ({**hand_answers_for(STUDENT), "z": "0.75", "h": None}, 7 / 9),
    ({**hand_answers_for(STUDENT), "loss": float("nan")}, 8 / 9),
])
def test_incomplete_hand_answers_fail_the_form_check(answers, fraction, run_check):
    outcome = run_check(STEM, "HAND_ANSWERS.complete", {**REFERENCE, "HAND_ANSWERS": answers})
    assert outcome.status == "failed"
    assert outcome.verdict.fraction == pytest.approx(fraction)


def test_hand_answers_not_a_dict_or_absent(run_check):
    assert run_check(STEM, "HAND_ANSWERS.complete", {**REFERENCE, "HAND_ANSWERS": [1, 2]}).status == "failed"
    assert run_check(STEM, "HAND_ANSWERS.complete", {"forward_backward_221": ref.forward_backward_221}).status == "missing"


def test_scalars_may_be_one_element_lists(run_check):
    worked = hand_answers_for(STUDENT)
    answers = {**worked, "loss": [worked["loss"]], "z_out": np.array([worked["z_out"]])}
    assert run_check(STEM, "HAND_ANSWERS.complete", {**REFERENCE, "HAND_ANSWERS": answers}).status == "passed"


def test_a_complete_sheet_of_placeholders_is_not_worked_through(run_check):
    zeros = {key: np.zeros(shape).tolist() if shape else 0.0 for key, shape in ex2.SHAPES.items()}
    outcome = run_check(STEM, "HAND_ANSWERS.complete", {**REFERENCE, "HAND_ANSWERS": zeros})
    assert outcome.status == "failed" and "h is not sigma(z)" in outcome.feedback
    # rounding at each step, or working from exact values, stays within the allowance
    worked = hand_answers_for(STUDENT)
    for key in ("h", "y_hat"):
        nudged = {**worked, key: (np.asarray(worked[key]) + 4e-4).tolist()}
        assert run_check(STEM, "HAND_ANSWERS.complete", {**REFERENCE, "HAND_ANSWERS": nudged}).status == "passed"


@pytest.mark.parametrize("source, problem", [
    ("HAND_ANSWERS = {'z': [0.1, -0.2], 'loss': 0.5}", None),
    ("HAND_ANSWERS = {'z': [0.1, -0.2]}\nHAND_ANSWERS = {'z': [round(0.123, 2), 0.0]}", "not numbers written out"),
    ("HAND_ANSWERS = dict(z=[0.1, 0.2])", "not written as a dict"),
    ("HAND_ANSWERS = {'z': [0.1, -0.2]}\nHAND_ANSWERS |= {'z': [0.3, 0.4]}", "computed"),
    ("HAND_ANSWERS, other = {'z': [0.1]}, 1", "computed"),
    ("x = 1", "not assigned at the top level"),
    ("HAND_ANSWERS = {'z': [True, 0.2]}", "not numbers written out"),
    ("HAND_ANSWERS = {'z': [1 + 2, 0.2]}", "not numbers written out"),
])
def test_written_answers_accept_only_literal_numbers(source, problem):
    written, why = ex2.written_answers([source])
    if problem is None:
        assert written == {"z": [0.1, -0.2], "loss": 0.5} and why == ""
    else:
        assert written is None and problem in why


def test_notebook_cells_are_read_one_at_a_time():
    cells = ["HAND_ANSWERS = {'z': [0.1, 0.2]}", "def broken(:", "HAND_ANSWERS = {'z': [0.3, 0.4]}"]
    assert ex2.written_answers(cells) == ({"z": [0.3, 0.4]}, "")


# ---------------------------------------------------------------- fixtures and rubric

def test_lecture_fixture_holds_the_slides_numbers():
    data = ex2.build_lecture()
    assert data["printed"]["y_hat"] == 0.796 and data["printed"]["loss"] == 0.228
    np.testing.assert_allclose(data["exact"]["z"], [0.75, 0.75])
    assert data["case"]["y"] == 1


def test_rubric_and_registered_checks_name_the_same_tests():
    import grader.checks.hidden.ex2_hand_calculation  # noqa: F401 - registers the hidden checks
    rubric = load_rubric(STEM)
    assert set(rubric.tests) == set(REGISTRY[STEM])
    assert all(name.split(".", 1)[0] in ("forward_backward_221", "HAND_ANSWERS") for name in rubric.tests)
    assert rubric.max_score == pytest.approx(15.0)
