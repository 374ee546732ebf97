"""Answer dicts of the 2-2-1 network against accepted chains: partial credit and named mistakes."""
from __future__ import annotations

import numpy as np
import pytest

from grader.checks.lib.answers import AnswerError
from grader.checks.lib.hand_chain import GRADIENT_KEYS, KEYS, STEM, answer_dict, chain_diagnosis, judge_chain
from grader.rubric import load_rubric
from reference import hand_network as ref

CASE = (np.array([0.2, 0.9]), np.array([[0.3, -0.6], [-0.4, 0.8]]), np.array([-1.2, 0.7]), 0)
EXACT = ref.forward_backward_221(*CASE)
SETTINGS = load_rubric(STEM).settings


def test_a_chain_is_right_when_every_key_is_and_earns_the_keys_right_otherwise():
    assert judge_chain(dict(EXACT), [(EXACT, 1e-6, 1e-9)], "forward_backward_221").passed
    two_wrong = {**EXACT, "z": EXACT["z"] + 1.0, "loss": EXACT["loss"] + 1.0}
    verdict = judge_chain(two_wrong, [(EXACT, 1e-6, 1e-9)], "forward_backward_221")
    assert not verdict.passed and verdict.fraction == pytest.approx((len(KEYS) - 2) / len(KEYS))
    assert "7 of 9 keys right" in verdict.feedback and "z is wrong" in verdict.feedback


def test_every_gradient_negated_is_named_sign_flipped():
    flipped = {**EXACT, **{key: -np.asarray(EXACT[key]) for key in GRADIENT_KEYS}}
    assert chain_diagnosis(flipped, [EXACT], None, SETTINGS) == "sign_flipped"
    assert chain_diagnosis(dict(EXACT), [EXACT], None, SETTINGS) is None


def test_grad_v_transposed_is_named():
    assert chain_diagnosis({**EXACT, "grad_V": np.asarray(EXACT["grad_V"]).T}, [EXACT], None, SETTINGS) == "transposed"


def test_an_answer_that_is_not_a_dict_raises_answer_error():
    with pytest.raises(AnswerError, match="should be a dict with keys z, h"):
        answer_dict([1, 2], "forward_backward_221(x, V, w, y)")
