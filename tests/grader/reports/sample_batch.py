"""A small class of results, built in code, shaped like the grader's real reports.

ada has full marks, ben's notebooks are the unsolved release (every check raises), cleo has a
bit of everything (diagnosed failures, partial credit, a timeout, a missing name, a blocked
import, hidden failures), dev's grading crashed, and the last student has a hostile id and
feedback full of markup and control characters. Every hidden test's feedback and hint carry
SECRET, so a test can prove that no student-facing file leaks them.
"""
from __future__ import annotations

from grader.results import ExerciseResult, GradingError, SubmissionResult, TestResult
from grader.submission.exercises import EXERCISES

SECRET = "SECRET-hidden-input-0.1234"
HOSTILE_ID = '=HYPERLINK("x","y")<b>'
NASTY_FEEDBACK = "y_hat * (1 - y) <script>alert(1)</script> [x](javascript:1) & \x1b[31mred\x1b[0m \x00 end"


def passed(name: str, points: float, visibility: str = "visible") -> TestResult:
    return TestResult(name, points, points, "passed", visibility)


def hidden_failure(name: str, points: float, status: str = "failed", diagnosis=None) -> TestResult:
    return TestResult(name, 0.0, points, status, "hidden", f"expected 0.5 at x = {SECRET}", diagnosis,
                      f"hint about {SECRET}")


def exercise(name: str, tests: list[TestResult], source: str = "", cell_errors=None) -> ExerciseResult:
    return ExerciseResult(name, source or f"{name}.ipynb", tests, list(cell_errors or []))


def ada() -> SubmissionResult:
    exercises = [exercise(name, [passed(f"{name.split('_')[0]}.values", 2.0),
                                 passed(f"{name.split('_')[0]}.random", 1.0, "hidden")])
                 for name in EXERCISES]
    return SubmissionResult("ada", "class/ada", "a" * 64, exercises, seed=7, sandbox="bwrap", duration_s=2.5,
                            grader_version="0.1.0")


def ben() -> SubmissionResult:
    exercises = [exercise(name, [TestResult(f"{name.split('_')[0]}.values", 0.0, 2.0, "error", "visible",
                                            "NotImplementedError", None, "Compute it from z."),
                                 TestResult(f"{name.split('_')[0]}.random", 0.0, 1.0, "error", "hidden",
                                            f"NotImplementedError {SECRET}", None, SECRET)],
                          cell_errors=[{"index": 12, "kind": "error", "type": "NotImplementedError",
                                        "message": "NotImplementedError"}])
                 for name in EXERCISES]
    return SubmissionResult("ben", "class/ben", "b" * 64, exercises, seed=7, sandbox="bwrap", duration_s=0.8,
                            grader_version="0.1.0")


def cleo() -> SubmissionResult:
    ex1, ex2, ex3, ex4, ex5, ex6 = EXERCISES
    exercises = [
        exercise(ex1, [passed("sigmoid.values", 0.5),
                       TestResult("mse_grad.values", 0.0, 1.0, "failed", "visible",
                                  "mse_grad is -1 times the right value.", "sign_flipped", "Use y_hat - y."),
                       hidden_failure("softmax.stable", 0.5, diagnosis="softmax_unstable")]),
        exercise(ex2, [TestResult("HAND_ANSWERS.values", 1.5, 3.0, "failed", "visible",
                                  "4 of 8 answers are right.", None, "Round to 3 decimals.")]),
        exercise(ex3, [TestResult("backward.gradcheck", 0.0, 4.0, "failed", "visible",
                                  "dW[0] is 1/B of the right value.", "batch_mean_twice", "Average once."),
                       hidden_failure("backward.random", 2.0, diagnosis="batch_mean_twice")]),
        exercise(ex4, [TestResult("Value.deep_graph", 0.0, 1.0, "timeout", "visible", "backward took over 10 s.",
                                  "recursion_limit", "Use an explicit stack.")]),
        exercise(ex5, [TestResult("Tensor.attributes", 0.0, 1.0, "missing", "visible",
                                  "Tensor is not defined.", None, "Define class Tensor.")]),
        exercise(ex6, [TestResult("train.accuracy", 0.0, 3.0, "blocked", "visible",
                                  "import of torch is blocked.", None, "Use numpy only."),
                       hidden_failure("train.random", 1.0, status="error")]),
    ]
    return SubmissionResult("cleo", "class/cleo", "c" * 64, exercises,
                            [GradingError("timeout", "train took longer than 120 s", ex6)],
                            seed=7, sandbox="bwrap", duration_s=12.25, grader_version="0.1.0",
                            warnings=["ex1_activations_losses: graded the .ipynb and ignored the .py"])


def dev() -> SubmissionResult:
    return SubmissionResult("dev", "class/dev", "", [],
                            [GradingError("crash", "grading stopped for this submission: RuntimeError: boom")],
                            seed=7, sandbox="none", grader_version="0.1.0")


def hostile() -> SubmissionResult:
    ex1 = EXERCISES[0]
    tests = [TestResult("sigmoid.values", 0.0, 1.0, "error", "visible", NASTY_FEEDBACK, None, "<b>bold</b>"),
             passed("relu.values", 1.0)]
    return SubmissionResult(HOSTILE_ID, "class/x", "d" * 64, [exercise(ex1, tests, source="<img src=x>.ipynb")],
                            [GradingError("crash", "worker said \x07 \x1b[0m", ex1)], seed=7, sandbox="bwrap",
                            duration_s=0.5, grader_version="0.1.0")


def sample_batch() -> list[SubmissionResult]:
    return [ada(), ben(), cleo(), dev(), hostile()]
