"""The mistake suite: deliberately broken submissions, graded for real, must carry the right diagnosis.

Each broken submission (tests/grader/mistakes/catalog.py) is the course's solutions with one
known mistake put into one exercise; the real pipeline grades that exercise in the sandbox. It
must lose points, a failed test must carry the mistake's code, no test may carry another code
(unless the catalog allows it), and every test outside the touched functions must still pass.
Correct code written differently must get full marks and no diagnosis at all.
"""
from __future__ import annotations

import ast
import re
from collections import Counter

import pytest

from grader.authoring.check_groups import CHECK_GROUPS, group_of
from grader.diagnosis.codes import CODES, DA6401_A1_CODES
from grader.submission.exercises import EXERCISES
from grader.worker.sandbox import SandboxConfig, choose_sandbox
from tests.grader.mistakes.catalog import CORRECT, MISTAKES, UNNAMED, Mutation
from tests.grader.mistakes.submissions import (
    PatchError, apply_patch, grade_all, mutated_source, replace_definition, solution_source, to_notebook,
)

BY_ID: dict[str, Mutation] = {m.id: m for m in MISTAKES + UNNAMED + CORRECT}


@pytest.fixture(scope="session")
def graded(request: pytest.FixtureRequest) -> dict:
    """Every catalog entry this session's tests ask for, graded once, two at a time."""
    wanted = {item.callspec.params["mutation_id"] for item in request.session.items
              if hasattr(item, "callspec") and "mutation_id" in item.callspec.params}
    return grade_all([BY_ID[key] for key in sorted(wanted)], jobs=2)


# ---------------------------------------------------------------- the catalog itself

def test_ids_are_unique():
    assert len(BY_ID) == len(MISTAKES) + len(UNNAMED) + len(CORRECT)


def test_every_code_has_a_broken_submission_and_the_common_ones_several():
    counts = Counter(m.expected for m in MISTAKES)
    assert set(counts) == set(CODES) - set(DA6401_A1_CODES)  # da6401-a1's have their own catalogue
    assert len(MISTAKES) >= 40
    for code in ("sign_flipped", "batch_sum_not_mean", "gradient_overwritten", "softmax_wrong_axis",
                 "derivative_of_wrong_input", "activation_instead_of_derivative", "mutates_input"):
        assert counts[code] >= 3, code


def test_every_exercise_is_broken_and_some_as_notebooks():
    assert {m.exercise for m in MISTAKES} == set(EXERCISES)
    assert {m.exercise for m in MISTAKES if m.notebook} == set(EXERCISES)
    assert {m.exercise for m in CORRECT} == set(EXERCISES)
    assert all(m.expected is None for m in UNNAMED + CORRECT)


def test_touched_groups_are_check_groups():
    for m in MISTAKES + UNNAMED:
        assert m.touches and set(m.touches) <= set(CHECK_GROUPS[m.exercise]), m.id
        assert set(m.allowed) <= set(CODES), m.id


@pytest.mark.parametrize("mutation", MISTAKES + UNNAMED + CORRECT, ids=lambda m: m.id)
def test_each_mutation_applies_to_the_current_solution(mutation):
    source = mutated_source(mutation)  # raises PatchError when a patch no longer matches once
    if mutation.touches:
        assert source != solution_source(mutation.exercise)


def test_a_patch_must_match_exactly_once():
    with pytest.raises(PatchError, match="0 times"):
        apply_patch("a = 1\n", "b = 2", "c = 3", "here")
    with pytest.raises(PatchError, match="2 times"):
        apply_patch("a = 1\na = 1\n", "a = 1", "a = 2", "here")
    assert apply_patch("a = 1\nb = 2\n", "b = 2", "b = 3", "here") == "a = 1\nb = 3\n"


def test_a_definition_is_replaced_whole_by_name():
    source = "import math\n\n\ndef f(x):\n    return x\n\n\ndef g(x):\n    return f(x)\n"
    replaced = replace_definition(source, "def f(x):\n    y = x\n    return -y\n", "here")
    namespace: dict = {}
    exec(compile(replaced, "<replaced>", "exec"), namespace)
    assert namespace["g"](2) == -2
    with pytest.raises(PatchError, match="no top-level"):
        replace_definition(source, "def h():\n    pass\n", "here")


def test_a_module_becomes_one_cell_per_definition():
    source = solution_source("ex4_autograd_scalar")
    cells = [cell.source for cell in to_notebook(source).cells]
    definitions = [n for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert len(cells) == len(definitions) + 1
    namespace: dict = {}
    for cell in cells:
        exec(compile(cell, "<cell>", "exec"), namespace)
    assert namespace["sigmoid_trace"](2.0, 1.0, 0.5)["L"] > 0.9


# ---------------------------------------------------------------- grading them

def codes_of(exercise) -> set[str]:
    return {t.diagnosis for t in exercise.tests if t.diagnosis}


# What hidden feedback may show in numbers: norm-relative errors (1.23e-02), a measured accuracy
# (43.3%) and a measured or allowed ratio of losses ("1.00 times", "at most 0.8 times").
SHOWN_NUMBERS = re.compile(r"\d\.\d\de[+-]\d\d|\d+(?:\.\d+)?%|\d+(?:\.\d+)? times")


def check_hidden_feedback_shows_no_values(exercise) -> None:
    """A hidden test's feedback names functions, tensors and formulas, never an input or expected value."""
    for test in exercise.tests:
        if test.visibility == "hidden" and test.status != "passed":
            rest = SHOWN_NUMBERS.sub("", test.feedback)
            assert not re.search(r"\d\.\d", rest), (test.name, test.feedback)


def check_sandbox_and_errors(result) -> None:
    assert result.sandbox == choose_sandbox(SandboxConfig())
    assert not [e for e in result.errors if e.kind == "crash"], result.errors  # no check broke
    assert {t.diagnosis for e in result.exercises for t in e.tests if t.diagnosis} <= set(CODES)


@pytest.mark.parametrize("mutation_id", [m.id for m in MISTAKES])
def test_a_single_mistake_loses_points_and_is_named(graded, mutation_id):
    mutation = BY_ID[mutation_id]
    result = graded[mutation_id]
    check_sandbox_and_errors(result)
    (exercise,) = result.exercises
    check_hidden_feedback_shows_no_values(exercise)
    assert exercise.score < exercise.max_score
    found = codes_of(exercise)
    assert mutation.expected in found, [(t.name, t.status, t.diagnosis, t.feedback) for t in exercise.tests
                                        if t.status != "passed"]
    assert found <= {mutation.expected, *mutation.allowed}, found
    for test in exercise.tests:
        if group_of(mutation.exercise, test.name) not in mutation.touches:
            assert test.status == "passed", (test.name, test.feedback)
        if test.diagnosis:
            assert test.status == "failed" and test.feedback, test.name


@pytest.mark.parametrize("mutation_id", [m.id for m in UNNAMED])
def test_a_mistake_no_code_names_loses_points_without_a_diagnosis(graded, mutation_id):
    mutation = BY_ID[mutation_id]
    result = graded[mutation_id]
    check_sandbox_and_errors(result)
    (exercise,) = result.exercises
    check_hidden_feedback_shows_no_values(exercise)
    assert exercise.score < exercise.max_score
    assert codes_of(exercise) == set(), [(t.name, t.diagnosis) for t in exercise.tests if t.diagnosis]
    for test in exercise.tests:
        if group_of(mutation.exercise, test.name) not in mutation.touches:
            assert test.status == "passed", (test.name, test.feedback)


@pytest.mark.parametrize("mutation_id", [m.id for m in CORRECT])
def test_correct_code_written_differently_gets_full_marks_and_no_diagnosis(graded, mutation_id):
    result = graded[mutation_id]
    check_sandbox_and_errors(result)
    (exercise,) = result.exercises
    assert [(t.name, t.feedback) for t in exercise.tests if t.status != "passed"] == []
    assert exercise.score == exercise.max_score
    assert codes_of(exercise) == set()
