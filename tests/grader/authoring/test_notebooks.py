"""The six source notebooks and the student files made from them.

nbgrader metadata as nbgrader expects it, one graded check cell per check group, and no
solution text in anything a student receives.
"""
from __future__ import annotations

import ast
import re

import nbformat
import pytest
from nbgrader.utils import compute_checksum

from grader.authoring import CHECK_GROUPS, EXERCISES
from grader.authoring.module_source import is_module_cell
from grader.submission.notebook import SELFCHECK_ONLY_TAG, parse_cells

from .conftest import STUDENT, source_notebook, student_notebook_on_disk

BOTH = [pytest.param(read, stem, id=f"{kind}-{stem}")
        for kind, read in [("source", source_notebook), ("student", student_notebook_on_disk)]
        for stem in EXERCISES]

# The HAND_ANSWERS checks also need the student id the notebook's personal case was made for.
_ID = r'(, student_id=STUDENT_ID)?'
PUBLIC_CALL = re.compile(
    r'^check\("(?P<stem>\w+)", "(?P<group>\w+)", globals\(\)' + _ID + r'\)$', re.M)
HIDDEN_CALL = re.compile(
    r'^### BEGIN HIDDEN TESTS\ncheck\("(?P<stem>\w+)", "(?P<group>\w+)", globals\(\), '
    r'hidden=True' + _ID + r'\)\n### END HIDDEN TESTS$', re.M)

# Lines that may appear in a solution region and elsewhere without giving anything away.
TRIVIAL_LINE = re.compile(r"^([\W_]*|pass|return|else:|try:|continue|break)$")


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _graded(nb) -> list:
    return [cell for cell in nb.cells if _nbgrader(cell).get("grade")]


@pytest.mark.parametrize("read, stem", BOTH)
def test_nbgrader_cells_have_schema_3_and_unique_grade_ids(read, stem):
    nb = read(stem)
    metas = [_nbgrader(cell) for cell in nb.cells if _nbgrader(cell)]
    assert metas
    assert all(meta["schema_version"] == 3 for meta in metas)
    grade_ids = [meta["grade_id"] for meta in metas]
    assert all(grade_ids) and len(set(grade_ids)) == len(grade_ids)
    assert len({cell.id for cell in nb.cells}) == len(nb.cells)


@pytest.mark.parametrize("read, stem", BOTH)
def test_graded_cells_have_points_and_are_locked(read, stem):
    for cell in _graded(read(stem)):
        meta = _nbgrader(cell)
        assert meta["points"] > 0 and meta["locked"] and not meta["solution"], meta["grade_id"]
        assert not is_module_cell(cell), meta["grade_id"]


@pytest.mark.parametrize("stem", EXERCISES)
def test_one_check_cell_per_group_with_its_hidden_checks(stem):
    groups = []
    for cell in _graded(source_notebook(stem)):
        public = [(m["stem"], m["group"]) for m in PUBLIC_CALL.finditer(cell.source)]
        hidden = [(m["stem"], m["group"]) for m in HIDDEN_CALL.finditer(cell.source)]
        assert len(public) == 1 and hidden == public, cell.source
        assert public[0][0] == stem
        assert _nbgrader(cell)["grade_id"] == f"check-{public[0][1]}"
        groups.append(public[0][1])
    assert tuple(groups) == CHECK_GROUPS[stem]


@pytest.mark.parametrize("stem", EXERCISES)
def test_student_check_cells_keep_the_public_call_only(stem):
    for cell in _graded(student_notebook_on_disk(stem)):
        assert PUBLIC_CALL.search(cell.source)
        assert "hidden=True" not in cell.source and "HIDDEN TESTS" not in cell.source


@pytest.mark.parametrize("stem", EXERCISES)
def test_student_notebook_checksums_are_nbgraders(stem):
    for cell in student_notebook_on_disk(stem).cells:
        meta = _nbgrader(cell)
        if meta.get("grade") or meta.get("solution") or meta.get("locked"):
            assert meta["checksum"] == compute_checksum(cell), meta["grade_id"]
            assert meta["cell_type"] == cell.cell_type


def _solution_lines(stem: str) -> set[str]:
    """Lines of solution regions, less trivial ones and those the source also shows outside them.

    A template line (`HAND_ANSWERS = {` above its filled-in copy) gives nothing away.
    """
    lines, outside, inside = set(), set(), False
    for cell in source_notebook(stem).cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            text = line.strip()
            if "BEGIN SOLUTION" in text:
                inside = True
            elif "END SOLUTION" in text:
                inside = False
            elif inside and not TRIVIAL_LINE.match(text):
                lines.add(text)
            elif not inside:
                outside.add(text)
    return lines - outside


def _student_code_lines(stem: str) -> dict[str, set[str]]:
    """The stripped lines of the student module and of the student notebook's code cells."""
    module = (STUDENT / f"{stem}.py").read_text(encoding="utf-8").splitlines()
    cells = [line for cell in student_notebook_on_disk(stem).cells if cell.cell_type == "code"
             for line in cell.source.splitlines()]
    return {f"{stem}.py": {line.strip() for line in module},
            f"{stem}.ipynb": {line.strip() for line in cells}}


@pytest.mark.parametrize("stem", EXERCISES)
def test_no_solution_line_reaches_the_student_files(stem):
    # Markdown is left out: its templates and hints show small pieces of code on purpose.
    solution_lines = _solution_lines(stem)
    assert len(solution_lines) > 5
    for name, lines in _student_code_lines(stem).items():
        assert sorted(solution_lines & lines) == [], f"{name} contains solution text"


@pytest.mark.parametrize("stem", EXERCISES)
def test_student_files_have_stubs_and_no_markers(stem):
    module = (STUDENT / f"{stem}.py").read_text(encoding="utf-8")
    cells = "\n".join(cell.source for cell in student_notebook_on_disk(stem).cells)
    for text in (module, cells):
        assert "raise NotImplementedError()" in text
        assert "SOLUTION" not in text and "HIDDEN TESTS" not in text


def _imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add((node.module or "").split(".")[0])
    return roots


def _is_selfcheck_only(cell) -> bool:
    return SELFCHECK_ONLY_TAG in cell.metadata.get("tags", [])


@pytest.mark.parametrize("stem", EXERCISES)
def test_every_code_cell_is_a_module_a_graded_or_a_selfcheck_only_cell(stem):
    for index, cell in enumerate(source_notebook(stem).cells):
        if cell.cell_type == "code":
            kinds = [is_module_cell(cell), bool(_nbgrader(cell).get("grade")), _is_selfcheck_only(cell)]
            assert kinds.count(True) == 1, f"cell {index}: {cell.source[:60]!r}"


@pytest.mark.parametrize("read, stem", BOTH)
def test_the_cells_a_grader_runs_never_import_the_grader(read, stem):
    # The sandbox cannot import `grader`: such cells must be graded ones or "selfcheck-only".
    graded = parse_cells(nbformat.writes(read(stem)).encode(), f"{stem}.ipynb")
    assert graded.cells
    for index, source in graded.cells:
        assert "grader" not in _imported_roots(source), f"cell {index} imports grader"


def _sibling_import_cells(nb) -> list[int]:
    return [index for index, cell in enumerate(nb.cells) if cell.cell_type == "code"
            and _imported_roots(cell.source) & set(EXERCISES)]


def test_ex6_imports_exercise_3_by_its_stem():
    assert _sibling_import_cells(source_notebook("ex6_gradient_descent"))


@pytest.mark.parametrize("read, stem", BOTH)
def test_a_sibling_import_comes_after_the_notebook_import_hook(read, stem):
    nb = read(stem)
    importing = _sibling_import_cells(nb)
    hooks = [index for index, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and _is_selfcheck_only(cell) and "import grader.notebook_import" in cell.source]
    if importing:
        assert hooks and hooks[0] < importing[0]
    else:
        assert hooks == []
