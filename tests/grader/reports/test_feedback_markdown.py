import dataclasses

import pytest

from grader.reports.feedback_markdown import render_markdown, write_markdown
from grader.reports.feedback_model import feedback_view
from grader.reports.options import ReportOptions
from grader.reports.wording import explain_diagnosis
from tests.grader.reports.sample_batch import SECRET, ada, ben, cleo, dev, hostile

mistune = pytest.importorskip("mistune")


def markdown(result, **kwargs) -> str:
    return render_markdown(feedback_view(result, **kwargs))


def test_scores_per_exercise_in_the_overview():
    text = markdown(cleo())
    result = cleo()
    assert f"**Score: {result.score:g} / {result.max_score:g}**" in text
    for ex in result.exercises:
        passed = sum(t.status == "passed" for t in ex.tests)
        assert f"| {ex.name} | {ex.score:g} / {ex.max_score:g} | {passed} / {len(ex.tests)} |" in text


def test_each_failed_visible_check_has_feedback_diagnosis_and_hint():
    text = markdown(cleo())
    assert "### ✗ `mse_grad.values`: wrong answer (0 / 1 points)" in text
    assert "mse\\_grad is -1 times the right value." in text
    assert "**Likely mistake** (`sign_flipped`)" in text
    assert "**Hint:** Use y\\_hat - y." in text
    assert "### ✗ `Value.deep_graph`: took too long" in text


def test_the_diagnosis_sentence_is_not_repeated_when_the_feedback_already_says_it():
    result = cleo()
    tests = result.exercises[0].tests
    sentence = explain_diagnosis(tests[1].diagnosis, result.exercises[0].name)
    tests[1] = dataclasses.replace(tests[1], feedback=f"mse_grad is -1 times the right value. {sentence}")
    assert markdown(result).count(sentence.split(":")[0]) == 1


def test_hidden_checks_by_name_and_points_only():
    text = markdown(cleo())
    assert SECRET not in text
    assert "Hidden checks: 0 of 1 passed, 0 / 2 points. Their details are not shared." in text
    assert "- `backward.random`: 0 / 2" in text
    assert "softmax_unstable" not in text  # a hidden test's diagnosis is hidden too


def test_the_instructor_sees_hidden_checks_in_full():
    text = markdown(cleo(), show_hidden=True)
    assert SECRET in text and "*(a hidden check)*" in text and "Hidden checks:" not in text


def test_passed_checks_are_listed_and_full_marks_has_no_failures():
    text = markdown(ada())
    assert "✗" not in text and "Passed: `ex1.values`" in text


def test_cell_errors_problems_and_warnings_are_shown():
    assert "Cell 12 raised NotImplementedError while loading" in markdown(ben())
    assert "## Problems while grading" in markdown(dev()) and "boom" in markdown(dev())
    notes = markdown(cleo())
    assert "## Notes" in notes and "The code ran out of time: train took longer than 120 s" in notes


def test_an_absent_exercise_says_how_to_name_the_file():
    result = cleo()
    result.exercises[1].source = None
    assert "Not found in the submission: name the file `ex2_hand_calculation.ipynb`" in markdown(result)


def test_student_text_cannot_inject_html():
    html = mistune.html(markdown(hostile()))
    assert "<script>" not in html and "<img" not in html and "<b>" not in html


def test_one_file_per_student(tmp_path):
    written = write_markdown([ada(), cleo()], tmp_path, ReportOptions())
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["feedback/ada.md", "feedback/cleo.md"]
    assert SECRET not in written[1].read_text("utf-8")
    write_markdown([cleo()], tmp_path, ReportOptions(show_hidden=True))
    assert SECRET in written[1].read_text("utf-8")
