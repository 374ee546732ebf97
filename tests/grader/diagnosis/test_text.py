"""Feedback sentences: one per code, worded per exercise where needed, never showing numbers."""
from __future__ import annotations

import re

import pytest

from grader.diagnosis.codes import CODES
from grader.diagnosis.scale import Factor, ScaleMatch
from grader.diagnosis.text import BY_EXERCISE, GENERAL, mistake_text, scale_phrase, with_mistake_text
from grader.submission.exercises import EXERCISES


def test_every_code_has_a_general_sentence_and_nothing_else_does():
    assert set(GENERAL) == set(CODES)
    assert set(BY_EXERCISE) <= set(EXERCISES)
    for wording in BY_EXERCISE.values():
        assert set(wording) <= set(CODES)


@pytest.mark.parametrize("exercise", [None, *EXERCISES])
@pytest.mark.parametrize("code", CODES)
def test_a_sentence_is_plain_and_ends_a_sentence(code, exercise):
    text = mistake_text(code, exercise)
    assert text[0].isalpha() and text.endswith(".")  # it may open with a name: "relu'(z) is ..."
    assert 20 < len(text) < 330
    # Only the lecture's small constants appear (1/B, 2 (Y_hat - Y), 1000, eps ...), never data.
    assert all(n in ("0", "1", "2", "3", "1000") for n in re.findall(r"\d+(?:\.\d+)?", text)), text


def test_an_exercise_wording_replaces_the_general_one():
    assert mistake_text("sign_flipped", "ex6_gradient_descent") != mistake_text("sign_flipped")
    assert "uphill" in mistake_text("sign_flipped", "ex6_gradient_descent")
    assert mistake_text("recursion_limit", "ex6_gradient_descent") == GENERAL["recursion_limit"]


def test_an_unknown_code_has_no_sentence():
    with pytest.raises(ValueError, match="not a diagnosis code"):
        mistake_text("off_by_one")


def test_with_mistake_text_appends_only_for_a_code():
    assert with_mistake_text("dW is wrong.", None) == "dW is wrong."
    assert with_mistake_text("dW is wrong.", "transposed") == f"dW is wrong. {GENERAL['transposed']}"


@pytest.mark.parametrize("plural, expected", [
    (False, "dW[0] is 1/B = 1/4 times the right value."),
    (True, "dW[0], db[0] are 1/B = 1/4 times the right values."),
])
def test_scale_phrase_names_the_factor_in_words(plural, expected):
    match = ScaleMatch(Factor(0.25, "batch_mean_twice", "1/B = 1/4"), 0.2500001)
    assert scale_phrase("dW[0], db[0]" if plural else "dW[0]", match, plural=plural) == expected
