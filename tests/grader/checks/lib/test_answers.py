"""The failure convention: readers raise AnswerError, `register` turns it into the check's verdict."""
from __future__ import annotations

import numpy as np
import pytest

from grader.checks.base import REGISTRY, CheckContext, fail, ok
from grader.checks.lib.answers import AnswerError, answer_array, answer_scalar, register, verdict_of, with_mistake

EXERCISE = "lib_answers_test"


@pytest.fixture
def registry():
    yield REGISTRY.setdefault(EXERCISE, {})
    REGISTRY.pop(EXERCISE, None)


def test_a_registered_check_reports_an_answer_error_as_its_verdict(registry):
    @register(EXERCISE, "reads.answer", needs=("f",), hint="return an array")
    def reads(ctx):
        answer_array("not numbers", "f(x)")
        return ok()

    verdict = registry["reads.answer"].run(CheckContext(exercise=EXERCISE, transport=None))
    assert not verdict.passed and verdict.feedback == "f(x) should be a numpy array, but it is a str."
    assert registry["reads.answer"].needs == ("f",) and registry["reads.answer"].hint == "return an array"
    assert registry["reads.answer"].run.__module__ == __name__  # the check's own module, for rubric tooling


@pytest.mark.parametrize("value, shape, words", [
    ([1.0, 2.0], (3,), "has shape (2,); it should have shape (3,)"),
    ([1.0, np.nan], None, "contains inf or nan"),
    ({"a": 1}, None, "should be a numpy array"),
])
def test_answer_array_says_what_is_wrong(value, shape, words):
    with pytest.raises(AnswerError) as raised:
        answer_array(value, "f(x)", shape=shape)
    assert words in raised.value.verdict.feedback and not raised.value.verdict.passed


def test_answer_array_and_scalar_give_float64_values_when_right():
    assert answer_array([[1, 2]], "f(x)", shape=(1, 2)).dtype == np.float64
    assert answer_scalar(np.array([2.5]), "L") == 2.5
    with pytest.raises(AnswerError, match="should be a single number"):
        answer_scalar([1.0, 2.0], "L")


def test_verdict_of_turns_a_raised_answer_error_into_a_failed_verdict():
    def unusable():
        raise AnswerError(fail("unusable"))

    assert verdict_of(unusable).feedback == "unusable"
    assert verdict_of(ok).passed


def test_with_mistake_appends_the_exercises_sentence_only_with_a_code():
    named = with_mistake("dW is wrong.", "sign_flipped", "ex3_mlp_backprop")
    assert named.diagnosis == "sign_flipped" and named.feedback.startswith("dW is wrong. ")
    assert len(named.feedback) > len("dW is wrong. ")
    assert with_mistake("dW is wrong.", None, "ex3_mlp_backprop") == fail("dW is wrong.")
