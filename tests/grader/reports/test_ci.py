import pytest

from grader.errors import BadSubmissionError
from grader.ci_check import run_ci_check
from grader.reports.ci import outcome_lines, score_percent
from grader.reports.formats import ReportError
from tests.grader.reports.sample_batch import cleo, dev


@pytest.mark.parametrize("kwargs, message", [
    ({"fail_under": 101.0}, "percentage from 0 to 100"),
    ({"exercises": ["ex9_nothing"]}, "unknown exercise"),
    ({"formats": ["gradebook"]}, "needs --gradebook"),
])
def test_bad_requests_fail_before_grading(tmp_path, kwargs, message):
    with pytest.raises(ReportError, match=message):
        run_ci_check(tmp_path, out_dir=tmp_path / "r", **kwargs)


def test_a_folder_of_several_students_is_refused(tmp_path):
    for student in ("a", "b"):
        (tmp_path / student).mkdir()
        (tmp_path / student / "ex1_activations_losses.py").write_text("x = 1\n")
    with pytest.raises(ReportError, match="holds 2 submissions"):
        run_ci_check(tmp_path, out_dir=tmp_path / "r")
    with pytest.raises(BadSubmissionError):
        run_ci_check(tmp_path / "a" / "missing.py", out_dir=tmp_path / "r")


def test_the_console_summary_lists_failures_with_hints_and_no_hidden_text():
    lines = outcome_lines(cleo())
    assert "ex1_activations_losses (ex1_activations_losses.ipynb): 1/3 checks passed, 0.5/2 points" in lines
    assert "  [failed] mse_grad.values - mse_grad is -1 times the right value." in lines
    assert "         hint: Use y_hat - y." in lines
    assert not any("SECRET" in line for line in lines)
    assert outcome_lines(dev()) == ["problem: Grading crashed: grading stopped for this submission: RuntimeError: boom"]


@pytest.mark.parametrize("result, percent", [(cleo(), 100 * cleo().score / cleo().max_score), (dev(), 0.0)])
def test_score_percent(result, percent):
    assert score_percent(result) == pytest.approx(percent)
