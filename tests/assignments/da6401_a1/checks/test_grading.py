"""Every catalogue variant graded by da6401-a1's checks, in-process, as the worker would stage it.

Each mistake must lose the points of exactly the tests listed for it, each carrying the code
listed (None: no code); every other test keeps full marks with no diagnosis. Every correct
variant and the solution get full marks with no diagnosis, when grading and in a self-check.
A variant is graded once per session (about half a second each).
"""
from __future__ import annotations

import math
import sys
from typing import Optional

import pytest

from grader.assignments.da6401_a1.checks.lib.parts import STEMS
from grader.assignments.da6401_a1.inside import PROBE
from grader.diagnosis.codes import CODES
from tests.assignments.da6401_a1.catalogue import CORRECT, MISTAKES, VARIANTS, Variant
from tests.assignments.da6401_a1.checks.harness import Graded, checks, grade, rubric, stage
from tests.assignments.da6401_a1.checks.variants import EXTRA

SOLUTION = Variant("solution", None, ())
BY_NAME = {variant.name: variant for variant in [SOLUTION, *VARIANTS, *EXTRA]}

FORWARD = ("a1_forward:forward.sigmoid", "a1_forward:forward.tanh", "a1_forward:forward.random")
ROUNDTRIP = "a1_forward:forward.weights_roundtrip"
GRADIENT_VALUES = tuple(f"a1_gradients:backward.{name}" for name in (
    "cross_entropy", "mean_squared_error", "one_hot", "gradcheck", "random", "gradcheck.random"))
MSE_VALUES = tuple(name for name in GRADIENT_VALUES if not name.endswith("cross_entropy"))
GATED = ("a1_gradients:backward.layer_grads", "a1_gradients:backward.second_call")  # need the first backward right
OPTIMIZERS = tuple(f"a1_optimizers:optimizer.{rule}" for rule in
                   ("sgd", "momentum", "nag", "rmsprop", "adam", "nadam", "random"))


def losing(tests: tuple[str, ...], code: Optional[str]) -> dict[str, Optional[str]]:
    return {name: code for name in tests}


# variant -> {test that loses points: the diagnosis it carries}
LOSES: dict[str, dict[str, Optional[str]]] = {
    "batch_mean_twice": {**losing(GRADIENT_VALUES, "batch_mean_twice"), **losing(GATED, None)},
    "layer_order_reversed": {**losing(GRADIENT_VALUES, "layer_order_reversed"), **losing(GATED, None)},
    # its own update_weights cannot add the transposed gradients to W: the optimizer tests error
    "transposed": {**losing(GRADIENT_VALUES, "transposed"), **losing(GATED, None), **losing(OPTIMIZERS, None)},
    # relu(relu(z)) = relu(z): the relu forward case cannot show it
    "activation_applied_twice": {**losing(FORWARD, "activation_applied_twice"), ROUNDTRIP: None,
                                 **losing(GRADIENT_VALUES, "activation_applied_twice"), **losing(GATED, None)},
    "mse_with_ce_delta": losing(MSE_VALUES, "mse_with_ce_delta"),
    "mse_grad_scale_classes": losing(MSE_VALUES, "mse_grad_scale_classes"),
    "mse_missing_softmax_jacobian": losing(MSE_VALUES, "mse_missing_softmax_jacobian"),
    "expects_probabilities": {**losing(GRADIENT_VALUES, "expects_probabilities"), **losing(GATED, None)},
    "labels_int_only": losing(("a1_gradients:backward.one_hot", "a1_gradients:backward.gradcheck",
                               "a1_gradients:backward.random", "a1_gradients:backward.gradcheck.random"),
                              "labels_int_only"),
    "arguments_swapped": {**losing(GRADIENT_VALUES, "arguments_swapped"), **losing(GATED, None)},
    # its own train applies stale gradients: NAG, judged through train, shows it too
    "stale_state_gradient_accumulates": {"a1_gradients:backward.second_call": "stale_state",
                                         "a1_optimizers:optimizer.nag": None, "a1_optimizers:optimizer.random": None},
    "stale_state_first_inputs_kept": {"a1_gradients:backward.second_call": "stale_state",
                                      "a1_optimizers:optimizer.nag": None, "a1_optimizers:optimizer.random": None},
    "float32_precision": {**losing(GRADIENT_VALUES, "float32_precision"), **losing(GATED, None)},
    # only the cross-entropy delta is flipped
    "sign_flipped": {**losing(tuple(n for n in GRADIENT_VALUES if "mean_squared" not in n), "sign_flipped"),
                     **losing(GATED, None)},
    "missing_activation_derivative": {**losing(GRADIENT_VALUES, "missing_activation_derivative"),
                                      **losing(GATED, None)},
    "nag_is_momentum": losing(("a1_optimizers:optimizer.nag", "a1_optimizers:optimizer.random"), "nag_is_momentum"),
    "nag_is_sgd": losing(("a1_optimizers:optimizer.nag", "a1_optimizers:optimizer.random"), "nag_is_sgd"),
    # its NAG inherits the averaged velocity, and looks ahead by beta v without the learning rate: no known rule
    "momentum_ema": {"a1_optimizers:optimizer.momentum": "momentum_ema", "a1_optimizers:optimizer.nag": None,
                     "a1_optimizers:optimizer.random": "momentum_ema"},
    "adam_step_per_layer": losing(("a1_optimizers:optimizer.adam", "a1_optimizers:optimizer.nadam",
                                   "a1_optimizers:optimizer.random"), "adam_step_per_layer"),
    # its NAdam still corrects the g term: m and v raw beside a corrected g is a no_bias_correction candidate too
    "no_bias_correction": losing(("a1_optimizers:optimizer.adam", "a1_optimizers:optimizer.nadam",
                                  "a1_optimizers:optimizer.random"), "no_bias_correction"),
    "weight_decay_ignored": losing(OPTIMIZERS, "weight_decay_ignored"),
    "weight_decay_on_biases": losing(OPTIMIZERS, "weight_decay_ignored"),
}
PARTIAL = {  # (variant, test) -> the credit it keeps: a consistent MSE convention, not the course's
    ("mse_grad_scale_classes", "a1_gradients:backward.mean_squared_error"): 0.5,
}

_GRADED: dict[tuple[str, bool], Graded] = {}


def graded(name: str, tmp_path_factory: pytest.TempPathFactory, grading: bool = True) -> Graded:
    """The variant's grade, computed once per session."""
    key = (name, grading)
    if key not in _GRADED:
        folder = stage(BY_NAME[name], tmp_path_factory.mktemp(name) / "staged")
        _GRADED[key] = grade(folder, grading=grading)
    return _GRADED[key]


def full_marks(result: Graded) -> list[str]:
    """Tests that lost points or carry a diagnosis, with why."""
    return [f"{name}: {test.status} {test.score}/{test.max_score} [{test.diagnosis}] {test.feedback[:300]}"
            for name, test in result.tests().items() if test.score < test.max_score or test.diagnosis]


def test_every_catalogue_mistake_has_its_expectation():
    assert set(LOSES) == {variant.name for variant in MISTAKES}
    for name, expected in LOSES.items():
        assert BY_NAME[name].diagnosis_code in expected.values(), name
        assert set(expected.values()) <= set(CODES) | {None}


def test_the_rubrics_total_the_spec_and_each_test_has_a_check():
    totals = {stem: rubric(stem).max_score for stem in STEMS}
    assert totals == {"a1_forward": 10.0, "a1_gradients": 10.0, "a1_optimizers": 9.0}
    for stem in STEMS:
        parsed, found = checks(stem)
        assert [c.name for c in found] == list(parsed.tests)
        assert all(c.needs == ("NeuralNetwork",) for c in found)
        visible = {name for name, item in parsed.tests.items() if item.visibility == "visible"}
        for name, item in parsed.tests.items():  # a visible test requires only visible ones
            assert item.visibility == "hidden" or set(item.requires) <= visible


@pytest.mark.parametrize("grading", [True, False], ids=["grading", "self-check"])
@pytest.mark.parametrize("name", ["solution", *[variant.name for variant in CORRECT]])
def test_correct_code_gets_full_marks_and_no_diagnosis(name, grading, tmp_path_factory):
    result = graded(name, tmp_path_factory, grading)
    assert full_marks(result) == []
    assert result.score == 29.0 and result.events == []


@pytest.mark.parametrize("name", sorted(LOSES))
def test_each_mistake_loses_exactly_its_tests_and_is_named(name, tmp_path_factory):
    tests = graded(name, tmp_path_factory).tests()
    expected = LOSES[name]
    for test_name, test in tests.items():
        if test_name in expected:
            assert test.score < test.max_score, f"{test_name} kept its points"
            assert test.diagnosis == expected[test_name], f"{test_name}: {test.diagnosis} ({test.feedback[:300]})"
        else:
            assert (test.score, test.diagnosis) == (test.max_score, None), f"{test_name}: {test.feedback[:300]}"
    for (variant, test_name), credit in PARTIAL.items():
        if variant == name:
            assert math.isclose(tests[test_name].score, credit * tests[test_name].max_score)


def test_mse_of_a_consistent_convention_keeps_part_of_every_mse_test(tmp_path_factory):
    tests = graded("mse_grad_scale_classes", tmp_path_factory).tests()
    for name in MSE_VALUES:
        assert 0 < tests[name].score < tests[name].max_score
    assert "course's mean_squared_error averages over all B x C entries" in tests[MSE_VALUES[0]].feedback


def test_the_feedback_says_the_mistake_in_the_parts_own_words(tmp_path_factory):
    reversed_order = graded("layer_order_reversed", tmp_path_factory).tests()
    assert "OUTPUT layer first" in reversed_order["a1_gradients:backward.cross_entropy"].feedback
    swapped = graded("arguments_swapped", tmp_path_factory).tests()
    assert "backward takes (y_true, y_pred)" in swapped["a1_gradients:backward.cross_entropy"].feedback
    float32 = graded("float32_precision", tmp_path_factory).tests()
    assert "single precision" in float32["a1_gradients:backward.cross_entropy"].feedback
    hidden = graded("batch_mean_twice", tmp_path_factory).tests()["a1_gradients:backward.random"]
    assert hidden.visibility == "hidden" and "1/B" in hidden.feedback


# ---------------------------------------------------------------- beyond the catalogue

@pytest.mark.parametrize("name, words", [
    ("softmax_in_forward", "forward returns probabilities"),
    ("output_layer_activated", "the output layer applies"),
])
def test_a_forward_slip_without_a_code_is_named_in_the_feedback(name, words, tmp_path_factory):
    result = graded(name, tmp_path_factory)
    tests = result.tests()
    for test_name in ("a1_forward:forward.sigmoid", "a1_forward:forward.tanh", "a1_forward:forward.relu"):
        assert tests[test_name].score == 0 and tests[test_name].diagnosis is None
        assert words in tests[test_name].feedback
    assert words in tests["a1_gradients:backward.cross_entropy"].feedback  # why backward cannot be right
    assert result.parts["a1_optimizers"].score == 9.0  # the optimizers use the student's own gradients


@pytest.mark.parametrize("name, code", [("set_weights_transposes", "transposed"),
                                        ("weight_keys_output_first", "layer_order_reversed")])
def test_weights_loaded_another_way_are_named_in_the_forward_tests(name, code, tmp_path_factory):
    result = graded(name, tmp_path_factory)
    tests = result.tests()
    for test_name in (*FORWARD, "a1_forward:forward.relu"):
        assert tests[test_name].score == 0 and tests[test_name].diagnosis == code, tests[test_name].feedback
    assert result.score == 0.0


@pytest.mark.parametrize("name, event", [("class_renamed", None), ("syntax_error", "syntax")])
def test_a_repository_whose_network_cannot_be_imported_is_missing_everywhere(name, event, tmp_path_factory):
    result = graded(name, tmp_path_factory)
    assert {test.status for test in result.tests().values()} == {"missing"}
    for part in result.parts.values():
        assert part.cell_errors and "line" in part.cell_errors[0]["message"]
    assert [e.kind for e in result.events] == ([event] * len(STEMS) if event else [])


def test_weight_decay_added_by_backward_instead_of_the_optimizer_is_accepted_with_a_note(tmp_path_factory):
    result = graded("decay_in_backward", tmp_path_factory)
    assert full_marks(result) == []
    sgd = result.tests()["a1_optimizers:optimizer.sgd"]
    assert "include weight_decay * W" in sgd.feedback


def test_a_look_ahead_nag_without_train_is_judged_on_update_weights_alone(tmp_path_factory):
    tests = graded("train_missing", tmp_path_factory).tests()
    nag = tests["a1_optimizers:optimizer.nag"]
    assert nag.diagnosis == "nag_is_momentum" and "train(X, y, 1, batch_size) raised" in nag.feedback
    assert [name for name, test in tests.items() if test.score < test.max_score] == [
        "a1_optimizers:optimizer.nag", "a1_optimizers:optimizer.random"]


def test_a_constant_network_scores_nothing(tmp_path_factory):
    """Mutation: a network whose logits and gradients are zero and whose update does nothing fails every check."""
    result = graded("constant_network", tmp_path_factory)
    assert result.score == 0.0
    assert {test.status for test in result.tests().values()} == {"failed"}
    gradcheck = result.tests()["a1_gradients:backward.gradcheck"]
    assert "does not change when single weights move" in gradcheck.feedback


def test_the_staged_probe_leaves_nothing_of_the_student_behind(tmp_path_factory):
    graded("solution", tmp_path_factory)
    assert "ann" not in sys.modules and not any(name in sys.modules for name in STEMS)
    assert not [p for p in sys.path if "staged" in p]
    assert not any(type(finder).__name__ == "StagedFinder" for finder in sys.meta_path)


def test_fixtures_are_staged_in_the_layout_staging_will_write(tmp_path):
    folder = stage(SOLUTION, tmp_path / "staged")
    assert sorted(p.name for p in folder.iterdir()) == sorted([*(f"{s}.py" for s in STEMS), "tree"])
    assert (folder / "tree" / "src" / "ann" / "neural_network.py").is_file()
    assert (folder / "tree" / "standins" / "wandb").is_dir()
    assert (folder / "a1_forward.py").read_text() == PROBE.read_text()
