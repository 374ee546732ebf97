"""A notebook's module: the code cells tagged "module", joined into one plain Python file.

The rule: a code cell belongs in the module exactly when its metadata tags include "module"
(`MODULE_TAG`). Tag the cells that define things (imports, given helpers, solution cells); leave
untagged the demos, prints, plots and graded check cells. Every nbgrader solution cell must be
tagged, or its code would reach neither module; a graded cell must not be, or the module would
run checks on import. A cell tagged "selfcheck-only" (a demo, a print, `from grader import ...`)
is left out when a notebook is graded, so it must not be a module cell either.
"""
from __future__ import annotations

from nbformat import NotebookNode

from grader.submission.notebook import SELFCHECK_ONLY_TAG

MODULE_TAG = "module"
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


class ModuleCellError(ValueError):
    """A cell breaks the module rule; the message names the cell and what to change."""


def _nbgrader(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _describe(cell: NotebookNode, index: int) -> str:
    grade_id = _nbgrader(cell).get("grade_id")
    return f"cell {index}" + (f" ({grade_id!r})" if grade_id else "")


def is_module_cell(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and MODULE_TAG in cell.get("metadata", {}).get("tags", [])


def module_cells(notebook: NotebookNode) -> list[str]:
    """The sources of the notebook's module cells, in order, after checking the rule above."""
    sources = []
    for index, cell in enumerate(notebook.cells):
        meta = _nbgrader(cell)
        if cell.cell_type == "code" and meta.get("solution") and not is_module_cell(cell):
            raise ModuleCellError(f"{_describe(cell, index)} is a solution cell without the "
                                  f"{MODULE_TAG!r} tag; tag it so its code reaches the modules")
        if not is_module_cell(cell):
            continue
        if meta.get("grade"):
            raise ModuleCellError(f"{_describe(cell, index)} is a graded cell tagged "
                                  f"{MODULE_TAG!r}; remove the tag: a module runs no checks")
        if SELFCHECK_ONLY_TAG in cell.metadata.get("tags", []):
            raise ModuleCellError(f"{_describe(cell, index)} is tagged both {MODULE_TAG!r} and "
                                  f"{SELFCHECK_ONLY_TAG!r}; a graded notebook leaves the cell out, so "
                                  "its code must not be part of the module: drop one of the tags")
        for line in cell.source.splitlines():
            if line.lstrip().startswith(("%", "!")):
                raise ModuleCellError(f"{_describe(cell, index)} uses an IPython magic or "
                                      f"shell line ({line.strip()!r}); a module cell must be "
                                      "plain Python")
        sources.append(cell.source.strip("\n"))
    return sources


def without_solution_markers(source: str) -> str:
    """`source` without its `### BEGIN SOLUTION` / `### END SOLUTION` lines."""
    return "\n".join(line for line in source.split("\n") if line.strip() not in SOLUTION_MARKERS)


def module_text(notebook: NotebookNode, docstring: str, *, strip_markers: bool = False) -> str:
    """The module file: `docstring`, then the module cells separated by two blank lines."""
    cells = module_cells(notebook)
    if strip_markers:
        cells = [without_solution_markers(source) for source in cells]
    body = "\n\n\n".join(source.rstrip() for source in cells)
    return f'"""{docstring.strip()}\n"""\n{body}\n'


def notebook_title(notebook: NotebookNode) -> str:
    """The first markdown heading, without its '#' marks (the notebook's name if there is none)."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return notebook.metadata.get("name", "Exercise")
