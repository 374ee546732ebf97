"""Staged files become importable modules: .py modules, notebooks cell by cell, siblings."""
from __future__ import annotations

import json
import sys
import uuid

import pytest

from grader.worker.inside import importer
from grader.worker.inside.handler import ModuleMissingError


@pytest.fixture
def staged(tmp_path):
    """A staged folder whose stems are unique to this test, with a finder installed for it."""
    tag = uuid.uuid4().hex[:8]
    names = {key: f"{key}_{tag}" for key in ("mod", "nb", "uses_nb", "bad", "both")}
    write = {
        f"{names['mod']}.py": "def add(a, b):\n    return a + b\n",
        f"{names['nb']}.cells.json": cells(
            f"from {names['mod']} import add",
            "first = 1",
            "raise RuntimeError('cell two fails')",
            "def oops(:\n    pass",
            "import sys\nsys.exit(2)",
            "def last(x):\n    return add(x, first)",
        ),
        f"{names['uses_nb']}.py": f"from {names['nb']} import last\nvalue = last(41)\n",
        f"{names['bad']}.py": "x = 1\nraise ValueError('at import')\n",
        f"{names['both']}.py": "origin = 'module'\n",
        f"{names['both']}.cells.json": cells("origin = 'notebook'"),
        "json.py": "hijacked = True\n",
        "not-a-name.py": "x = 1\n",
        "notes.txt": "ignored",
    }
    for name, text in write.items():
        (tmp_path / name).write_text(text)
    finder = importer.install(str(tmp_path))
    yield finder, names
    sys.meta_path.remove(finder)
    for name in [n for n in sys.modules if n.endswith(tag)]:
        del sys.modules[name]


def cells(*sources: str) -> str:
    return json.dumps({"cells": [{"index": i, "source": s} for i, s in enumerate(sources)]})


def test_scan_finds_staged_stems_and_prefers_the_notebook(staged):
    finder, names = staged
    assert set(finder.sources) == {*names.values(), "json"}
    assert finder.sources[names["both"]].endswith(".cells.json")


def test_a_module_imports_by_stem(staged):
    finder, names = staged
    loaded = importer.ImportedModules(finder).load(names["mod"])
    assert loaded.namespace["add"](2, 3) == 5 and loaded.cell_failures == []


def test_a_notebook_runs_every_cell_and_records_the_failing_ones(staged):
    finder, names = staged
    loaded = importer.ImportedModules(finder).load(names["nb"])
    assert loaded.namespace["last"](1) == 2
    failed = {index: type(exc).__name__ for index, exc in loaded.cell_failures}
    assert failed == {2: "RuntimeError", 3: "SyntaxError", 4: "SystemExit"}


def test_a_module_can_import_a_notebook(staged):
    finder, names = staged
    assert importer.ImportedModules(finder).load(names["uses_nb"]).namespace["value"] == 42


def test_student_code_is_named_for_tracebacks(staged):
    finder, names = staged
    importer.ImportedModules(finder).load(names["nb"])
    assert importer.cell_filename(names["nb"], 5) in finder.filenames
    assert f"{names['mod']}.py" in finder.filenames
    assert not finder.is_student_file(importer.__file__)
    import linecache

    assert linecache.getline(importer.cell_filename(names["nb"], 5), 2).strip() == "return add(x, first)"


def test_a_module_that_raises_fails_the_import(staged):
    finder, names = staged
    with pytest.raises(ValueError, match="at import"):
        importer.ImportedModules(finder).load(names["bad"])
    assert names["bad"] not in sys.modules


def test_missing_and_shadowing_names(staged):
    finder, names = staged
    with pytest.raises(ModuleMissingError, match="neither"):
        importer.ImportedModules(finder).load("absent_module")
    with pytest.raises(ImportError, match="standard module"):
        importer.ImportedModules(finder).load("json")  # the real json wins; the file is refused
    assert not hasattr(sys.modules["json"], "hijacked")


@pytest.mark.parametrize("content, words", [
    ("{not json", "not a readable staged notebook"),
    ('{"cells": [{"index": "0", "source": "x = 1"}]}', "must be"),
    ('{"cells": {}}', "must be"),
    ("[]", "must be"),
])
def test_malformed_staged_notebooks_fail_with_a_clear_import_error(tmp_path, content, words):
    path = tmp_path / "broken.cells.json"
    path.write_text(content)
    with pytest.raises(ImportError, match=words):
        importer.read_cells(str(path))
