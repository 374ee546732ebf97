"""Importing a sibling notebook by its stem, as a student's Jupyter does after the hook is installed."""
from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path
from typing import Iterator

import nbformat
import numpy as np
import pytest
from nbformat import v4

from grader import notebook_import
from grader.notebook_import import NotebookFinder, install

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("probe_notebook", "ex3_mlp_backprop", "ex6_gradient_descent")


def code(source: str, tags: tuple[str, ...] = (), **nbgrader) -> nbformat.NotebookNode:
    cell = v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "grade_id": "cell", **nbgrader}
    return cell


def write_notebook(folder: Path, stem: str, *cells) -> Path:
    path = folder / f"{stem}.ipynb"
    nbformat.write(v4.new_notebook(cells=[v4.new_markdown_cell("# Probe"), *cells]), path)
    return path


@pytest.fixture
def clean_imports(monkeypatch, tmp_path) -> Iterator[Path]:
    """A scratch current folder; sys.meta_path and the probe modules restored afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    saved = {name: sys.modules.pop(name) for name in NAMES if name in sys.modules}
    try:
        yield tmp_path
    finally:
        for name in NAMES:
            sys.modules.pop(name, None)
        sys.modules.update(saved)
        importlib.invalidate_caches()


def test_a_notebook_imports_as_the_grader_reads_it(clean_imports):
    write_notebook(
        clean_imports, "probe_notebook",
        code("import math\n%matplotlib inline\ndef double(x):\n    return 2 * x", ("module",)),
        code("raise RuntimeError('a test cell: left out')", grade=True, solution=False, points=1),
        code("raise RuntimeError('a demo: left out')", ("selfcheck-only",)),
        code("!ls\nHALF = double(0.25)"),
    )
    install(clean_imports)
    module = importlib.import_module("probe_notebook")
    assert module.double(3) == 6 and module.HALF == 0.5
    assert module.__file__ == str(clean_imports / "probe_notebook.ipynb")


def test_a_notebook_beats_a_module_beside_it_as_in_grading(clean_imports, monkeypatch):
    # The release puts a stub module next to each notebook; the grader takes the notebook.
    write_notebook(clean_imports, "probe_notebook", code("SOURCE = 'notebook'"))
    (clean_imports / "probe_notebook.py").write_text("SOURCE = 'stub module'\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(clean_imports))
    install(clean_imports)
    assert importlib.import_module("probe_notebook").SOURCE == "notebook"


def test_a_module_importable_from_elsewhere_wins(clean_imports, monkeypatch, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("site")
    (elsewhere / "probe_notebook.py").write_text("SOURCE = 'installed'\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(elsewhere))
    write_notebook(clean_imports, "probe_notebook", code("SOURCE = 'notebook'"))
    finder = install(clean_imports)
    assert importlib.import_module("probe_notebook").SOURCE == "installed"
    for shadowing in ("colorsys", "sys", "numpy"):  # the standard library, a built-in, a package
        write_notebook(clean_imports, shadowing, code("raise RuntimeError('shadowed')"))
        assert finder.find_spec(shadowing) is None, shadowing


def test_a_cell_that_raises_stops_the_import_and_names_the_cell(clean_imports):
    write_notebook(clean_imports, "probe_notebook", code("A = 1"), code("B = 1 / 0"))
    install(clean_imports)
    with pytest.raises(ImportError, match=r"probe_notebook.ipynb stopped at cell 2: ZeroDivisionError") as caught:
        importlib.import_module("probe_notebook")
    assert isinstance(caught.value.__cause__, ZeroDivisionError)
    assert "probe_notebook" not in sys.modules


def test_without_a_notebook_the_import_fails_as_usual(clean_imports):
    install(clean_imports)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("probe_notebook")
    assert NotebookFinder(clean_imports).find_spec("probe_notebook.sub", path=["x"]) is None


def test_importing_the_module_installs_one_finder_for_the_current_folder(clean_imports):
    write_notebook(clean_imports, "probe_notebook", code("VALUE = 41 + 1"))
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, NotebookFinder)]
    importlib.reload(notebook_import)  # what `import grader.notebook_import` does the first time
    finders = [f for f in sys.meta_path if isinstance(f, notebook_import.NotebookFinder)]
    assert len(finders) == 1 and finders[0].folder is None and sys.meta_path[0] is finders[0]
    assert notebook_import.install() is finders[0]
    assert importlib.import_module("probe_notebook").VALUE == 42


def test_ex6_imports_exercise_3_from_its_notebook_beside_the_stub_module(clean_imports, monkeypatch):
    for stem in ("ex3_mlp_backprop", "ex6_gradient_descent"):
        shutil.copy(ROOT / "solutions" / f"{stem}.ipynb", clean_imports)
    shutil.copy(ROOT / "exercises" / "ex3_mlp_backprop.py", clean_imports)  # as the release ships it
    monkeypatch.syspath_prepend(str(clean_imports))
    install(clean_imports)
    ex6 = importlib.import_module("ex6_gradient_descent")
    ex3 = sys.modules["ex3_mlp_backprop"]
    assert ex3.__file__.endswith("ex3_mlp_backprop.ipynb")
    assert ex6.forward is ex3.forward and ex6.backward is ex3.backward
    params = ex3.init_params([2, 3, 2], seed=1)
    stepped = ex6.sgd_step(params, [(np.ones_like(W), np.ones_like(b)) for W, b in params], 0.5)
    np.testing.assert_allclose(stepped[0][0], params[0][0] - 0.5)
