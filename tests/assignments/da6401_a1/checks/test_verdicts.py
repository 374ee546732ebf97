"""Several cases scored as one test."""
from __future__ import annotations

import pytest

from grader.assignments.da6401_a1.checks.lib.verdicts import case_verdicts, combine, mistaken
from grader.checks.base import fail, ok
from grader.errors import StudentCodeError


def test_the_credit_is_the_mean_and_the_feedback_the_first_named_failure():
    verdict = combine([ok(), fail("wrong"), fail("scaled", "mse_grad_scale_classes", 0.5), ok()])
    assert (verdict.passed, verdict.diagnosis, verdict.credit) == (False, "mse_grad_scale_classes", 0.625)
    assert verdict.feedback.startswith("scaled") and "(2 of 4 cases wrong.)" in verdict.feedback
    assert combine([ok(), ok()]).passed


def test_a_case_that_raises_fails_alone_and_all_raising_is_an_error():
    def run(case: int):
        if case:
            raise StudentCodeError("error", "ValueError: no")
        return ok()

    verdict = case_verdicts(run, [0, 1], str)
    assert verdict.credit == 0.5 and "On 1, your code raised ValueError: no" in verdict.feedback
    with pytest.raises(StudentCodeError):
        case_verdicts(run, [1, 1], str)
    with pytest.raises(StudentCodeError):  # a timeout stops the test
        case_verdicts(lambda case: (_ for _ in ()).throw(StudentCodeError("timeout", "slow")), [0, 1], str)


def test_a_named_mistake_says_it_in_the_parts_words():
    verdict = mistaken("backward is off.", "layer_order_reversed", "a1_gradients", 0.25)
    assert "OUTPUT layer first" in verdict.feedback and verdict.credit == 0.25
    assert mistaken("off.", None, "a1_gradients").feedback == "off."
