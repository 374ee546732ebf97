"""Which check groups each exercise notebook runs: the single list notebooks and checks share.

A graded cell of `solutions/<stem>.ipynb` calls `grader.selfcheck.check(stem, group, globals())`
for one group. `check` runs the registered checks of `stem` whose test name is `group` or starts
with `group + "."`, so every registered test name must start with one of these groups, and every
group must have at least one check.
"""
from __future__ import annotations

from grader.assignments.module_2a import CHECK_GROUPS  # the contract's names, one group each
from grader.submission.exercises import EXERCISES  # the one list of exercise stems

__all__ = ["CHECK_GROUPS", "EXERCISES", "group_of"]


def group_of(exercise: str, test_name: str) -> str | None:
    """The group a registered test name belongs to, or None when it belongs to none."""
    for group in CHECK_GROUPS.get(exercise, ()):
        if test_name == group or test_name.startswith(group + "."):
            return group
    return None
