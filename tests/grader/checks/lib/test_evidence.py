"""Evidence finders name a mistake from one answer; `explain` puts the first found on the verdict."""
from __future__ import annotations

import numpy as np

from grader.checks.base import fail, ok
from grader.checks.lib.evidence import explain, nonfinite_code, scale_code
from grader.diagnosis.scale import SIGN, batch_factors

RIGHT = np.array([[0.5, -1.0], [2.0, 0.25]])


def test_scale_code_names_a_known_factor_and_nothing_else():
    assert scale_code(-RIGHT, RIGHT, [SIGN], 1e-6) == "sign_flipped"
    assert scale_code(RIGHT / 4, RIGHT, batch_factors(4), 1e-6) == "batch_mean_twice"
    assert scale_code(RIGHT * 3, RIGHT, [SIGN, *batch_factors(4)], 1e-6) is None
    assert scale_code(RIGHT + 0.1, RIGHT, [SIGN], 1e-6) is None


def test_nonfinite_code_only_for_inf_or_nan():
    assert nonfinite_code(np.array([1.0, np.inf]), "log_of_zero") == "log_of_zero"
    assert nonfinite_code(RIGHT, "log_of_zero") is None
    assert nonfinite_code("not numbers", "log_of_zero") is None


def test_explain_takes_the_first_finding_and_asks_no_further():
    asked = []

    def finder(code):
        def find():
            asked.append(code)
            return code
        return find

    verdict = explain(fail("wrong."), finder(None), finder("sign_flipped"), finder("transposed"),
                      exercise="ex1_activations_losses")
    assert verdict.diagnosis == "sign_flipped" and verdict.feedback.startswith("wrong. ")
    assert asked == [None, "sign_flipped"]
    assert explain(ok(), finder("transposed"), exercise="ex1_activations_losses") == ok()
    assert asked == [None, "sign_flipped"]  # a passing verdict asks nothing
