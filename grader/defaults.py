"""The grader's default time limits, named once so every entry point grades with the same ones.

A grading run, a self-check and a CI or Gradescope run take these unless told otherwise (the
command line's `--timeout`, a check's own `@check(..., timeout=...)` for its calls).
"""
from __future__ import annotations

# seconds for one call into the student's code (a function, a method, a graph program)
CALL_TIMEOUT_S = 10.0
# seconds for all of one exercise's checks together; checks not started by then are "timeout"
EXERCISE_BUDGET_S = 120.0
# seconds for loading one exercise in the worker (importing a module, running a notebook's cells)
LOAD_TIMEOUT_S = 30.0
