import json

import pytest

from grader.reports.gradescope import gradescope_results, render_test_output, write_gradescope
from grader.reports.options import ReportOptions
from grader.reports.redaction import view_test
from grader.reports.wording import explain_diagnosis
from tests.grader.reports.sample_batch import SECRET, ada, cleo, dev, hostile, sample_batch
from tests.grader.reports.schemas import assert_gradescope_schema


@pytest.mark.parametrize("result", sample_batch(), ids=lambda r: r.student[:6])
def test_every_sample_is_valid_gradescope_json(result):
    assert_gradescope_schema(gradescope_results(result))
    assert_gradescope_schema(gradescope_results(result, show_hidden=True))


def test_scores_and_statuses_come_from_the_report():
    result = cleo()
    data = gradescope_results(result)
    assert data["score"] == result.score
    assert sum(t["score"] for t in data["tests"]) == pytest.approx(result.score)
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(result.max_score)
    assert data["execution_time"] == 12.25
    assert data["extra_data"]["seed"] == 7 and data["extra_data"]["sandbox"] == "bwrap"
    flat = [(ex, t) for ex in result.exercises for t in ex.tests]
    assert len(data["tests"]) == len(flat)
    for entry, (ex, test) in zip(data["tests"], flat):
        assert entry["name"] == f"{ex.name}: {test.name}"
        assert entry["status"] == ("passed" if test.status == "passed" else "failed")
        assert entry["visibility"] == ("after_published" if test.visibility == "hidden" else "visible")
        assert entry["tags"] == [ex.name]


def test_numbers_are_exercise_dot_test():
    numbers = [t["number"] for t in gradescope_results(cleo())["tests"]]
    assert numbers[:4] == ["1.1", "1.2", "1.3", "2.1"]
    assert len(set(numbers)) == len(numbers)


def test_failed_output_has_feedback_status_diagnosis_and_hint():
    output = {t["name"]: t["output"] for t in gradescope_results(cleo())["tests"]}
    sign = output["ex1_activations_losses: mse_grad.values"]
    assert "Wrong answer" in sign and "mse\\_grad is -1 times" in sign and "Use y\\_hat - y." in sign
    assert "`sign_flipped`" in sign
    assert explain_diagnosis("sign_flipped", "ex1_activations_losses").split(":")[0] in sign
    timeout = output["ex4_autograd_scalar: Value.deep_graph"]
    assert "Took too long" in timeout and "explicit stack" in timeout
    assert output["ex1_activations_losses: sigmoid.values"] == ""


def test_hidden_tests_say_nothing_in_the_students_view_and_everything_for_the_instructor():
    student = json.dumps(gradescope_results(cleo()))
    instructor = json.dumps(gradescope_results(cleo(), show_hidden=True))
    assert SECRET not in student
    assert SECRET in instructor
    assert "3 hidden checks also ran" in gradescope_results(cleo())["output"]


def test_problems_and_warnings_are_in_the_top_output():
    result = cleo()
    output = gradescope_results(result)["output"]
    assert f"**Score: {result.score:g} / {result.max_score:g}**" in output
    assert "ran out of time" in output and "ex6\\_gradient\\_descent" in output
    assert "graded the .ipynb" in output
    assert "grading crashed" in gradescope_results(dev())["output"]


def test_student_text_cannot_inject_markup():
    data = gradescope_results(hostile())
    output = data["tests"][0]["output"]
    assert "<script>" not in output and "\\<script\\>" in output
    assert "\\[x\\](javascript:1)" in output


def test_redacted_output_is_the_note_only():
    view = view_test(cleo().exercises[0].tests[2], show_hidden=False)
    assert view.redacted and render_test_output(view).startswith("Hidden check")


def test_files_per_student_and_results_json_for_one(tmp_path):
    written = write_gradescope([ada(), cleo()], tmp_path, ReportOptions())
    assert sorted(p.name for p in written) == ["ada.json", "cleo.json"]
    assert not (tmp_path / "results.json").exists()
    assert json.loads((tmp_path / "gradescope" / "cleo.json").read_text())["score"] == cleo().score
    write_gradescope([ada()], tmp_path / "one", ReportOptions())
    assert json.loads((tmp_path / "one" / "results.json").read_text()) == gradescope_results(ada())
