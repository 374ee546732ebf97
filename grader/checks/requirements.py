"""Points that follow other points: the rubric's `requires`, applied to a whole graded result.

A property of a function (its shape, its range, that it leaves its input alone) says nothing
when the function computes nothing: a stub returning zeros never modifies its input. So a test
whose rubric entry says `requires = ["sigmoid.values"]` earns its points only when every test
it names passed; otherwise it becomes "failed" with score 0, its feedback saying which tests
must pass first.

One pure step over the merged result (every exercise, visible and hidden phases), run after
grading. A required test absent from the result (a hidden test in a self-check, an exercise
not graded) does not gate: the self-check cannot know it, so rubrics should have a visible
test require only visible ones.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Mapping

from grader.results import SubmissionResult, TestResult
from grader.rubric import Requirement, Rubric, resolve_requirement


def _earned(test: TestResult) -> bool:
    return test.status == "passed" or test.score > 0


def _gated(test: TestResult, exercise: str, unmet: list[Requirement]) -> TestResult:
    names = ", ".join(r.test if r.exercise == exercise else r.label for r in unmet)
    verb = "passes" if len(unmet) == 1 else "pass"
    note = f"No points until {names} {verb}: this test counts only for code that computes the right values."
    return replace(test, status="failed", score=0.0,
                   feedback=f"{note} {test.feedback}".strip())


def apply_requirements(result: SubmissionResult, rubrics: Mapping[str, Rubric]) -> SubmissionResult:
    """`result` with every test whose required tests did not all pass set to failed, score 0.

    Gating is transitive (a test that loses its points this way no longer counts as passed for
    the tests that require it). `result` itself is left unchanged.
    """
    tests: dict[Requirement, TestResult] = {
        Requirement(exercise.name, test.name): test for exercise in result.exercises for test in exercise.tests}
    requires: dict[Requirement, list[Requirement]] = {}
    for key in tests:
        rubric = rubrics.get(key.exercise)
        item = rubric.tests.get(key.test) if rubric is not None else None
        if item is not None and item.requires:
            requires[key] = [resolve_requirement(entry, key.exercise) for entry in item.requires]
    changed = True
    while changed:  # each round gates at least one more test, so this ends
        changed = False
        for key, needed in requires.items():
            unmet = [r for r in needed if r in tests and tests[r].status != "passed"]
            if unmet and _earned(tests[key]):
                tests[key] = _gated(tests[key], key.exercise, unmet)
                changed = True
    exercises = [replace(exercise, tests=[tests[Requirement(exercise.name, t.name)] for t in exercise.tests],
                         cell_errors=list(exercise.cell_errors))
                 for exercise in result.exercises]
    return replace(result, exercises=exercises, errors=list(result.errors), warnings=list(result.warnings))

