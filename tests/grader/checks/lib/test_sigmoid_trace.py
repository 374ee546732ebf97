"""sigmoid_trace's ten numbers: read, judged, and the lecture's numbers for another input named."""
from __future__ import annotations

import pytest

from grader.checks.lib.answers import AnswerError
from grader.checks.lib.sigmoid_trace import LECTURE_TRACE_INPUT, judge_trace, read_trace
from reference.scalar_engine import sigmoid_trace

RIGHT = sigmoid_trace(0.5, -1.5, 0.25)
LECTURE = sigmoid_trace(*LECTURE_TRACE_INPUT)


def test_read_trace_wants_every_key_as_a_number():
    assert read_trace(dict(RIGHT)) == RIGHT
    with pytest.raises(AnswerError, match="lacks the key"):
        read_trace({"z1": 1.0})
    with pytest.raises(AnswerError, match="'L' should be a number"):
        read_trace({**RIGHT, "L": "one"})


def test_judge_trace_passes_the_right_numbers_and_names_known_mistakes():
    assert judge_trace(RIGHT, RIGHT, LECTURE, 1e-9, "", reveal=True).passed
    flipped = {k: -v if k.startswith("dL_") else v for k, v in RIGHT.items()}
    assert judge_trace(flipped, RIGHT, LECTURE, 1e-9, "", reveal=True).diagnosis == "sign_flipped"
    hardcoded = judge_trace(dict(LECTURE), RIGHT, LECTURE, 1e-9, "(0.5, -1.5, 0.25)", reveal=False)
    assert hardcoded.diagnosis == "hardcoded_answer" and "the right value" not in hardcoded.feedback
