import pytest

from grader.reports.redaction import view_test
from grader.reports.wording import ERROR_WORDS, STATUS_WORDS, error_words, explain_diagnosis, status_words
from grader.results import ERROR_KINDS, STATUSES, TestResult


def test_every_status_and_error_kind_has_words():
    assert set(STATUS_WORDS) == set(STATUSES) and set(ERROR_WORDS) == set(ERROR_KINDS)
    assert status_words("new_status") == "new_status" and error_words("new_kind") == "new_kind"


def test_diagnoses_are_explained_by_the_checks_own_sentences():
    from grader.diagnosis.codes import CODES
    from grader.diagnosis.text import mistake_text

    for code in CODES:
        assert explain_diagnosis(code) == mistake_text(code)
    assert explain_diagnosis(None) == "" and explain_diagnosis("from_a_newer_grader") == "from_a_newer_grader"


def hidden(**kwargs) -> TestResult:
    return TestResult("backward.random", 1.0, 4.0, "failed", "hidden", "at x = 0.123", "sign_flipped", "hint", **kwargs)


def test_a_hidden_test_keeps_only_name_status_and_points_for_students():
    view = view_test(hidden(), show_hidden=False)
    assert (view.name, view.status, view.score, view.max_score, view.hidden, view.redacted) == \
        ("backward.random", "failed", 1.0, 4.0, True, True)
    assert view.feedback == view.diagnosis == view.explanation == view.hint == ""


def test_the_instructor_sees_a_hidden_test_in_full():
    view = view_test(hidden(), show_hidden=True, exercise="ex3_mlp_backprop")
    assert not view.redacted and view.hidden and view.feedback == "at x = 0.123" and view.hint == "hint"
    assert view.explanation == explain_diagnosis("sign_flipped", "ex3_mlp_backprop")


def test_the_sentence_is_not_repeated_when_the_feedback_has_it():
    sentence = explain_diagnosis("sign_flipped")
    test = TestResult("a.b", 0.0, 1.0, "failed", "visible", f"dW is wrong. {sentence}", "sign_flipped")
    assert view_test(test, show_hidden=False).explanation == ""


@pytest.mark.parametrize("status, score, words", [
    ("failed", 0.0, "wrong answer"), ("failed", 0.5, "partly right"), ("passed", 1.0, "passed"),
    ("timeout", 0.0, "took too long"), ("error", 0.0, "your code raised an exception"),
])
def test_status_words(status, score, words):
    assert view_test(TestResult("a", score, 1.0, status), show_hidden=False).status_text == words


@pytest.mark.parametrize("cell, note", [
    ({"index": 12, "message": "NotImplementedError"},
     "Cell 12 raised NotImplementedError while loading; the cells after it still ran."),
    ({"line": 7, "message": "line 7: NameError: name 'x' is not defined"},
     "line 7: NameError: name 'x' is not defined while loading; the rest of the file still ran."),
])
def test_cell_errors_in_words(cell, note):
    from grader.reports.feedback_model import cell_note

    assert cell_note(cell) == note
