"""Slopes of the student's own function confirm a derivative only when they carry information."""
from __future__ import annotations

import numpy as np

from grader.checks.lib.central_differences import degenerate_slope

TRUE = np.array([0.1, 0.4, 0.9, 0.2])


def test_informative_slopes_can_confirm():
    assert degenerate_slope(TRUE * 1.01, TRUE, 1e-3) is None
    assert degenerate_slope(-TRUE, TRUE, 1e-3) is None  # wrong, but informative: the comparison decides


def test_zero_or_constant_slopes_cannot():
    assert "zero" in degenerate_slope(np.zeros(4), TRUE, 1e-3)
    assert "the same everywhere" in degenerate_slope(np.full(4, 0.5), TRUE, 1e-3)


def test_a_true_slope_of_zero_asks_nothing_of_the_students():
    assert degenerate_slope(np.zeros(4), np.zeros(4), 1e-3) is None
