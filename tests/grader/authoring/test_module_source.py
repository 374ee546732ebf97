"""The module rule: which notebook cells make the module, and the errors that guard it."""
from __future__ import annotations

import nbformat
import pytest
from nbformat import v4

from grader.authoring.module_source import (ModuleCellError, module_cells, module_text,
                                            notebook_title, without_solution_markers)


def code(source: str, tags: tuple[str, ...] = (), **nbgrader) -> nbformat.NotebookNode:
    cell = v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    if nbgrader:
        cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": False,
                                     "grade_id": "cell", "schema_version": 3, **nbgrader}
    return cell


def notebook(*cells) -> nbformat.NotebookNode:
    return v4.new_notebook(cells=list(cells))


SOLVED = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION"


def test_only_code_cells_tagged_module_are_taken_in_order():
    nb = notebook(v4.new_markdown_cell("# Title"), code("import math", ("module",)),
                  code("print(1)"), code("x = 1", ("module", "other")),
                  code("y = 2", ("other",)))
    assert module_cells(nb) == ["import math", "x = 1"]


def test_module_text_joins_cells_under_the_docstring():
    nb = notebook(code("import math\n", ("module",)), code("x = 1", ("module",)))
    assert module_text(nb, "Doc.") == '"""Doc.\n"""\nimport math\n\n\nx = 1\n'


def test_solution_markers_are_dropped_only_when_asked():
    nb = notebook(code(SOLVED, ("module",), solution=True))
    assert "### BEGIN SOLUTION" in module_text(nb, "Doc.")
    stripped = module_text(nb, "Doc.", strip_markers=True)
    assert "###" not in stripped and "    return x + 1" in stripped


def test_without_solution_markers_keeps_other_comments():
    assert without_solution_markers("a\n  ### END SOLUTION\n# note") == "a\n# note"


def test_an_untagged_solution_cell_is_an_error():
    with pytest.raises(ModuleCellError, match="without the 'module' tag"):
        module_cells(notebook(code(SOLVED, solution=True)))


def test_a_tagged_graded_cell_is_an_error():
    with pytest.raises(ModuleCellError, match="graded cell"):
        module_cells(notebook(code("check()", ("module",), grade=True, points=1)))


@pytest.mark.parametrize("line", ["%timeit f(1)", "!ls"])
def test_magics_and_shell_lines_are_errors(line):
    with pytest.raises(ModuleCellError, match="plain Python"):
        module_cells(notebook(code(f"x = 1\n{line}", ("module",))))


def test_title_is_the_first_markdown_heading():
    nb = notebook(code("# not markdown"), v4.new_markdown_cell("intro\n## Exercise 9: Things"))
    assert notebook_title(nb) == "Exercise 9: Things"


def test_a_module_cell_tagged_selfcheck_only_is_an_error():
    with pytest.raises(ModuleCellError, match="both 'module' and 'selfcheck-only'"):
        module_cells(notebook(code("x = 1", ("module", "selfcheck-only"))))
