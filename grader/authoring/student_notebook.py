"""The student notebook, made from the solution notebook by nbgrader's own preprocessors.

This is `nbgrader generate_assignment`'s pipeline, in its order, without the steps that need an
nbgrader course: IncludeHeaderFooter (we use no header or footer files), InstantiateTests (no
`### AUTOTEST` cells) and SaveCells (it writes the gradebook database). So solution regions become
`raise NotImplementedError()` (ClearSolutions), hidden test regions vanish (ClearHiddenTests),
outputs go (ClearOutput), graded cells are locked (LockCells) and every graded, solution or locked
cell carries the checksum and cell_type nbgrader expects (ComputeChecksums, run again after
ClearHiddenTests as nbgrader does, so the checksums describe what the student receives).
"""
from __future__ import annotations

import copy

from nbformat import NotebookNode
from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearMarkScheme,
                                    ClearOutput, ClearSolutions, ComputeChecksums, LockCells)

STUDENT_PIPELINE: tuple[type, ...] = (
    LockCells,
    ClearSolutions,
    ClearOutput,
    CheckCellMetadata,
    ComputeChecksums,
    # nbgrader's SaveCells would run here; ClearHiddenTests must come after the first checksums.
    ClearHiddenTests,
    ClearMarkScheme,
    ComputeChecksums,
    CheckCellMetadata,
)


def student_notebook(source: NotebookNode) -> NotebookNode:
    """The student version of a solution notebook; `source` is left unchanged."""
    notebook = copy.deepcopy(source)
    resources: dict = {}
    for step in STUDENT_PIPELINE:
        notebook, resources = step().preprocess(notebook, resources)
    return notebook
