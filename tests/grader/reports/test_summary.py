from grader.reports.summary import summarize, summary_table
from grader.results import ExerciseResult, GradingError, SubmissionResult, TestResult


def student(name: str, score: float, diagnosis=None, errors=()):
    tests = [TestResult("a.values", score, 2.0, "passed" if score == 2.0 else "failed", diagnosis=diagnosis)]
    return SubmissionResult(student=name, path=name, sha256="", exercises=[ExerciseResult("ex1_activations_losses", "f", tests)],
                            errors=[GradingError(k, "m") for k in errors])


def test_summary_statistics_and_pass_rates_are_derived_from_the_results():
    results = [student("b", 2.0), student("a", 0.0, "sign_flipped", ["timeout"]), student("c", 1.0, "sign_flipped")]
    data = summarize(results, grader_version="v", seed=3, sandbox="bwrap")
    assert [s["student"] for s in data["students"]] == ["a", "b", "c"]
    assert data["statistics"] == {"mean": 1.0, "median": 1.0, "min": 0.0, "max": 2.0}
    assert data["pass_rate"] == {"ex1_activations_losses/a.values": round(1 / 3, 4)}
    assert data["diagnoses"] == {"sign_flipped": 2}
    assert data["students"][0]["errors"] == ["timeout"]


def test_table_has_a_row_per_student_and_the_totals():
    table = summary_table([student("bob", 2.0), student("al", 0.0, errors=["crash", "crash"])])
    lines = table.splitlines()
    assert lines[0].split() == ["student", "ex1", "total", "errors"]
    assert lines[2].split() == ["al", "0/2", "0/2", "crash", "x2"]
    assert lines[3].split() == ["bob", "2/2", "2/2"]


def test_empty_batch():
    assert summary_table([]) == "No submissions graded."
    assert summarize([], grader_version="v", seed=0, sandbox="none")["statistics"]["mean"] is None
