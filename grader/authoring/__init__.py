"""Authoring tools: the exercise notebooks' shared constants and the generator of their derivatives.

`solutions/<stem>.ipynb` is the source; `python -m grader.authoring.generate` writes the solution
modules, the student notebooks and the student modules from it (see `generate.py`). Importing this
package needs no nbgrader; the generator does.
"""
from grader.authoring.check_groups import CHECK_GROUPS, EXERCISES, group_of

__all__ = ["CHECK_GROUPS", "EXERCISES", "group_of"]
