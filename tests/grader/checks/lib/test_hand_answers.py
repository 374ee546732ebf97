"""HAND_ANSWERS as the source writes them: literal numbers only, unchanged by code afterwards."""
from __future__ import annotations

from grader.checks.base import CheckContext
from grader.checks.lib.hand_answers import hand_written_verdict, same_answers, written_answers
from grader.checks.lib.hand_chain import STEM


def context(cells):
    return CheckContext(exercise=STEM, transport=None, source_cells=cells)


def test_numbers_written_out_are_read_from_the_source():
    assert written_answers(["HAND_ANSWERS = {'z': [0.1, -0.2], 'loss': 0.5}"]) == ({"z": [0.1, -0.2], "loss": 0.5}, "")
    written, why = written_answers(["HAND_ANSWERS = {'z': [0.1 * 2, 0.2]}"])
    assert written is None and "not numbers written out" in why


def test_hand_written_verdict_fails_computed_or_changed_answers_only():
    given = {"z": [0.1, -0.2]}
    assert hand_written_verdict(context(("HAND_ANSWERS = {'z': [0.1, -0.2]}",)), given) is None
    changed = hand_written_verdict(context(("HAND_ANSWERS = {'z': [0.1, -0.2]}",)), {"z": [0.3, -0.2]})
    assert changed is not None and "changed by code" in changed.feedback
    computed = hand_written_verdict(context(("import math\nHAND_ANSWERS = {'z': [math.pi, 0.0]}",)), given)
    assert computed is not None and "Write the numbers you worked by hand" in computed.feedback
    assert hand_written_verdict(context(None), given) is None  # no source to read: nothing to say


def test_same_answers_compares_every_number():
    assert same_answers({"z": [0.1, 0.2]}, {"z": (0.1, 0.2)})
    assert not same_answers({"z": [0.1, 0.2]}, {"z": [0.1, 0.2], "h": 0.5})
