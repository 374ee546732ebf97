"""The student pipeline on small notebooks: stubs, hidden tests, locks and checksums."""
from __future__ import annotations

import copy

from nbformat import v4
from nbgrader.utils import compute_checksum

from grader.authoring.student_notebook import student_notebook


def _nbgrader(**fields) -> dict:
    return {"grade": False, "solution": False, "locked": False, "schema_version": 3, **fields}


def _source():
    solution = v4.new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x + 41\n"
                                "    ### END SOLUTION")
    solution.metadata["nbgrader"] = _nbgrader(solution=True, grade_id="f")
    test = v4.new_code_cell("assert f(1) == 42\n### BEGIN HIDDEN TESTS\nassert f(2) == 43\n"
                            "### END HIDDEN TESTS")
    test.metadata["nbgrader"] = _nbgrader(grade=True, locked=True, grade_id="test-f", points=2)
    demo = v4.new_code_cell("print(f(1))", execution_count=3,
                            outputs=[v4.new_output("stream", name="stdout", text="42\n")])
    return v4.new_notebook(cells=[solution, test, demo])


def test_solution_regions_become_stubs_and_hidden_tests_vanish():
    solution, test, demo = student_notebook(_source()).cells
    assert solution.source == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    assert test.source == "assert f(1) == 42"
    assert demo.outputs == [] and demo.execution_count is None


def test_graded_cells_are_locked_and_carry_the_student_version_checksum():
    solution, test, _ = student_notebook(_source()).cells
    assert test.metadata["editable"] is False and test.metadata["deletable"] is False
    assert solution.metadata["deletable"] is False and "editable" not in solution.metadata
    for cell in (solution, test):
        assert cell.metadata["nbgrader"]["checksum"] == compute_checksum(cell)
        assert cell.metadata["nbgrader"]["cell_type"] == "code"


def test_the_source_notebook_is_left_unchanged():
    source = _source()
    before = copy.deepcopy(source)
    student_notebook(source)
    assert source == before
