"""Arguments changed in place, found on what the worker sends back after the call."""
from __future__ import annotations

import numpy as np

from grader.checks.lib.mutation import changed_arguments


def test_changed_arguments_names_the_positions_that_changed():
    sent = (np.array([1.0, 2.0]), np.zeros((2, 2)))
    assert changed_arguments(sent, [np.array([1.0, 2.0]), np.zeros((2, 2))]) == []
    assert changed_arguments(sent, [np.array([1.0, 2.0]), np.ones((2, 2))]) == [1]
    assert changed_arguments(sent, [np.array([1.0]), np.zeros((2, 2))]) == [0]  # reshaped counts as changed
    assert changed_arguments((np.array([np.nan]),), [np.array([np.nan])]) == []


def test_an_answer_without_the_arguments_counts_every_one_as_changed():
    sent = (np.zeros(2), np.zeros(2))
    assert changed_arguments(sent, None) == [0, 1]
    assert changed_arguments(sent, [np.zeros(2)]) == [0, 1]
