"""The shared list of check groups, and how a test name maps to its group."""
from __future__ import annotations

import pytest

from grader.authoring import CHECK_GROUPS, EXERCISES, group_of


def test_every_exercise_has_groups_and_no_group_twice():
    assert set(CHECK_GROUPS) == set(EXERCISES)
    for exercise, groups in CHECK_GROUPS.items():
        assert groups, exercise
        assert len(set(groups)) == len(groups), exercise


@pytest.mark.parametrize("exercise, test_name, group", [
    ("ex1_activations_losses", "sigmoid", "sigmoid"),
    ("ex1_activations_losses", "sigmoid.stable", "sigmoid"),
    ("ex1_activations_losses", "sigmoid_grad.values", "sigmoid_grad"),  # not "sigmoid"
    ("ex1_activations_losses", "sigmoid_bce_delta.large_logits", "sigmoid_bce_delta"),
    ("ex1_activations_losses", "sigmoidal", None),
    ("ex2_hand_calculation", "HAND_ANSWERS.z_out", "HAND_ANSWERS"),
    ("ex3_mlp_backprop", "backward.gradcheck.sigmoid", "backward"),
    ("ex3_mlp_backprop", "backwards", None),
    ("ex9_unknown", "anything", None),
])
def test_group_of(exercise, test_name, group):
    assert group_of(exercise, test_name) == group
