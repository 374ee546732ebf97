"""Each solved notebook runs top to bottom in a real kernel, its check cells passing, in seconds.

The notebooks run from a folder laid out as the release lays out a student's: each solved
notebook beside its stub module. Exercise 6 must then import exercise 3 from its notebook, as
the grader does, not from the stub. The time limit is generous; the point is that they run.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import nbformat
import pytest

from grader.authoring import EXERCISES

nbclient = pytest.importorskip("nbclient", reason="executing notebooks needs nbclient and ipykernel")
pytest.importorskip("ipykernel", reason="executing notebooks needs nbclient and ipykernel")

ROOT = Path(__file__).resolve().parents[2]
SECONDS_ALLOWED = 30.0


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("notebooks")
    for stem in EXERCISES:
        shutil.copy(ROOT / "solutions" / f"{stem}.ipynb", folder)
        shutil.copy(ROOT / "exercises" / f"{stem}.py", folder)
    return folder


@pytest.mark.parametrize("stem", EXERCISES)
def test_the_solved_notebook_runs_top_to_bottom(folder, stem):
    notebook = nbformat.read(folder / f"{stem}.ipynb", as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, at the first cell that raises
    seconds = time.perf_counter() - started
    print(f"{stem}: {seconds:.1f} s")
    assert seconds < SECONDS_ALLOWED
    graded = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    assert graded
    for cell in graded:
        printed = "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")
        assert printed.count("checks of") == 2 and printed.rstrip().endswith("passed."), printed
