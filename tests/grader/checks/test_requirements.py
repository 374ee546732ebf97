"""The rubric's `requires`, applied to a graded result as one pure step."""
from __future__ import annotations

from grader.checks.requirements import apply_requirements
from grader.results import ExerciseResult, SubmissionResult, TestResult
from grader.rubric import parse_rubric

RUBRIC = parse_rubric("""
exercise = "ex9_demo"
[tests]
"f.values" = { points = 2 }
"f.no_mutation" = { points = 1, visibility = "hidden", requires = ["f.values"] }
"f.shape" = { points = 1, requires = ["f.no_mutation"] }
"f.hidden_values" = { points = 1, visibility = "hidden" }
"f.robust" = { points = 1, visibility = "hidden", requires = ["f.hidden_values", "ex8_other:g.values"] }
""", source="demo.toml")
OTHER = parse_rubric('exercise = "ex8_other"\n[tests]\n"g.values" = { points = 1 }\n', source="other.toml")
RUBRICS = {"ex9_demo": RUBRIC, "ex8_other": OTHER}


def passed(name: str, points: float = 1.0, feedback: str = "") -> TestResult:
    return TestResult(name, points, points, "passed", feedback=feedback)


def result_of(*exercises: ExerciseResult) -> SubmissionResult:
    return SubmissionResult("s001", "path", "sha", exercises=list(exercises))


def by_name(result: SubmissionResult) -> dict[str, TestResult]:
    return {t.name: t for e in result.exercises for t in e.tests}


def test_a_property_of_a_wrong_function_earns_nothing_and_says_what_must_pass_first():
    values = TestResult("f.values", 0.5, 2.0, "failed", feedback="f(z) is wrong.")
    result = result_of(ExerciseResult("ex9_demo", "f.py", [values, passed("f.no_mutation", feedback="kept")]))
    gated = by_name(apply_requirements(result, RUBRICS))["f.no_mutation"]
    assert (gated.status, gated.score, gated.max_score) == ("failed", 0.0, 1.0)
    assert gated.feedback == ("No points until f.values passes: this test counts only for code that "
                              "computes the right values. kept")
    assert by_name(result)["f.no_mutation"].status == "passed"  # the input is left unchanged


def test_gating_is_transitive_and_leaves_earned_points_alone():
    result = result_of(ExerciseResult("ex9_demo", "f.py", [
        TestResult("f.values", 0.0, 2.0, "error"), passed("f.no_mutation"), passed("f.shape")]))
    tests = by_name(apply_requirements(result, RUBRICS))
    assert tests["f.values"].status == "error"
    assert tests["f.no_mutation"].status == tests["f.shape"].status == "failed"
    assert "f.no_mutation passes" in tests["f.shape"].feedback

    honest = result_of(ExerciseResult("ex9_demo", "f.py", [passed("f.values", 2.0), passed("f.no_mutation"),
                                                            passed("f.shape")]))
    assert apply_requirements(honest, RUBRICS).score == honest.score == 4.0


def test_required_tests_of_other_exercises_gate_and_absent_ones_do_not():
    mine = ExerciseResult("ex9_demo", "f.py", [passed("f.values", 2.0), passed("f.robust"), passed("f.hidden_values")])
    failing_other = ExerciseResult("ex8_other", "g.py", [TestResult("g.values", 0.0, 1.0, "missing")])
    tests = by_name(apply_requirements(result_of(mine, failing_other), RUBRICS))
    assert tests["f.robust"].status == "failed" and "ex8_other:g.values" in tests["f.robust"].feedback
    # a self-check without the other exercise or the hidden tests: nothing to gate on
    self_check = result_of(ExerciseResult("ex9_demo", "f.py", [passed("f.values", 2.0), passed("f.shape")]))
    assert apply_requirements(self_check, RUBRICS).score == 3.0
