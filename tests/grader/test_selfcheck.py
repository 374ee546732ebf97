"""`check(...)` in a notebook's test cell: the same verdicts, printed, and an AssertionError on failure."""
import runpy
from pathlib import Path

import pytest

from grader.selfcheck import check

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
EX1 = "ex1_activations_losses"


@pytest.fixture(scope="module")
def solved():
    return runpy.run_path(str(SOLUTIONS / f"{EX1}.py"))


def test_a_passing_group_prints_each_check_and_returns_nothing(solved, capsys):
    assert check(EX1, "sigmoid", dict(solved)) is None  # nbgrader would read a returned value as a score
    out = capsys.readouterr().out
    assert "[ok  ] sigmoid." in out and "checks of sigmoid passed" in out


def test_a_failing_group_raises_and_names_what_failed(solved, capsys):
    broken = dict(solved, sigmoid=lambda z: 1.0 - solved["sigmoid"](z))  # sigma(-z): the sign of z flipped
    with pytest.raises(AssertionError, match=r"checks of sigmoid failed: sigmoid\."):
        check(EX1, "sigmoid", broken)
    assert "[FAIL] sigmoid." in capsys.readouterr().out


def test_hidden_checks_run_only_when_asked(solved, capsys):
    check(EX1, "softmax", dict(solved))
    public = capsys.readouterr().out.count("softmax.")
    check(EX1, "softmax", dict(solved), hidden=True)
    assert capsys.readouterr().out.count("softmax.") > public


def test_an_unknown_group_is_a_clear_error(solved):
    with pytest.raises(LookupError, match="no checks named 'softmaxx'"):
        check(EX1, "softmaxx", dict(solved))
