"""The diagnosis codes: the contract's twenty, the added ones, and nothing else in the checks."""
from __future__ import annotations

import pytest

from grader.diagnosis.codes import ADDED_CODES, CODES, CONTRACT_CODES, known_code


def test_the_contract_has_twenty_codes_and_none_is_lost():
    assert len(CONTRACT_CODES) == 20
    assert len(set(CODES)) == len(CODES) == len(CONTRACT_CODES) + len(ADDED_CODES)
    assert CODES[:20] == CONTRACT_CODES  # codes are added after, never renamed or moved


@pytest.mark.parametrize("code", [None, *CODES])
def test_known_codes_pass_through(code):
    assert known_code(code) == code


@pytest.mark.parametrize("code", ["sign", "Sign_flipped", "", "batch_mean"])
def test_an_unknown_code_is_an_error_that_says_where_codes_live(code):
    with pytest.raises(ValueError, match="codes.py"):
        known_code(code)
