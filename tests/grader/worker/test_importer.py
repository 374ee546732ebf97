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


def test_a_module_that_raises_at_top_level_records_the_line_and_keeps_the_rest(staged):
    finder, names = staged
    loaded = importer.ImportedModules(finder).load(names["bad"])
    assert loaded.namespace["x"] == 1 and loaded.unit == "line"
    assert [(line, str(exc)) for line, exc in loaded.cell_failures] == [(2, "at import")]


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


# ---------------------------------------------------------------- modules run statement by statement


def load_module_source(tmp_path, source: str, stem: str = "") -> tuple[importer.StagedFinder, str]:
    """Stage one module under a unique stem and install a finder for it (removed by the caller)."""
    stem = stem or f"module_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{stem}.py").write_text(source)
    return importer.install(str(tmp_path)), stem


@pytest.fixture
def module_from(tmp_path):
    """`module_from(source)` -> the LoadedModule; cleans sys.meta_path and sys.modules afterwards."""
    installed: list[tuple[importer.StagedFinder, str]] = []

    def load(source: str, *extra: tuple[str, str]):
        for name, text in extra:
            (tmp_path / name).write_text(text)
        finder, stem = load_module_source(tmp_path, source)
        installed.append((finder, stem))
        return importer.ImportedModules(finder).load(stem)

    yield load
    for finder, stem in installed:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n in finder.sources]:
            del sys.modules[name]


STRAY_STATEMENTS = '''"""The module's docstring."""
import sys


def before(x):
    return x + 1


print("debugging", before(1))
raise RuntimeError("a stray top-level raise")
undefined_name + 1
sys.exit("quitting at import")
"""a bare string later on is not the docstring"""


def after(x):
    return before(x) * 2
'''


def test_a_raising_statement_is_recorded_by_line_and_the_rest_still_runs(module_from, capsys):
    loaded = module_from(STRAY_STATEMENTS)
    assert loaded.namespace["after"](1) == 4
    failures = [(line, type(exc).__name__) for line, exc in loaded.cell_failures]
    assert failures == [(10, "RuntimeError"), (11, "NameError"), (12, "SystemExit")]
    assert "debugging 2" in capsys.readouterr().out
    assert loaded.namespace["__doc__"] == "The module's docstring."


@pytest.mark.parametrize("source, words", [
    ("def ok():\n    return 1\n\ndef broken(:\n    pass\n", "invalid syntax"),
    ("def ok():\n    return 1\n\nreturn 2\n", "'return' outside function"),  # found by the compiler only
    ("x = 1\nfrom __future__ import annotations\n", "beginning of the file"),
])
def test_a_module_that_does_not_compile_fails_as_a_whole(module_from, source, words):
    with pytest.raises(SyntaxError, match=words):
        module_from(source)


def test_star_imports_main_guards_and_future_imports_keep_working(module_from):
    helper = f"helper_{uuid.uuid4().hex[:8]}"
    source = (f"from __future__ import annotations\nfrom {helper} import *\n\n\n"
              "def typed(x: NotDefinedAnywhere) -> AlsoUndefined:\n    return scale(x)\n\n\n"
              "ran_main = False\nif __name__ == '__main__':\n    ran_main = True\n    raise SystemExit('main ran')\n")
    loaded = module_from(source, (f"{helper}.py", "def scale(x):\n    return 3 * x\n"))
    assert loaded.namespace["typed"](2) == 6  # the annotations were never evaluated
    assert loaded.namespace["ran_main"] is False and loaded.cell_failures == []
    assert loaded.namespace["__name__"] != "__main__"


def test_a_failed_import_line_is_only_that_lines_error(module_from):
    loaded = module_from("import numpy as np\nfrom no_such_package_here import personal_case\n\n\n"
                         "def square(x):\n    return np.square(x)\n")
    assert loaded.namespace["square"](3) == 9
    assert [(line, type(exc).__name__) for line, exc in loaded.cell_failures] == [(2, "ModuleNotFoundError")]


def test_the_load_reply_names_the_line_of_each_failing_statement(module_from):
    from grader.worker.inside.handler import Handler

    loaded = module_from("value = 1\nraise ValueError('stray')\n\n\ndef f():\n    return value\n")
    handler = Handler(NamespaceLikeSource(loaded))
    reply = handler.reply_to({"op": "load", "module": loaded.name})
    assert "f" in reply["value"]["defined"]
    [error] = reply["value"]["cell_errors"]
    assert error["line"] == 2 and error["message"] == "line 2: ValueError: stray"
    assert error["kind"] == "error" and "index" not in error


class NamespaceLikeSource:
    """A module source that hands out one already loaded module."""

    def __init__(self, loaded):
        self.loaded = loaded

    def load(self, name):
        return self.loaded


EXPORTED_NOTEBOOK = '''import numpy as np
get_ipython().run_line_magic('matplotlib', 'inline')
get_ipython().system('rm -rf ~')
listing = get_ipython().getoutput('ls')


def relu(z):
    return np.maximum(z, 0.0)
'''


def test_nbconvert_exports_get_a_get_ipython_that_does_nothing(module_from):
    loaded = module_from(EXPORTED_NOTEBOOK)
    assert loaded.cell_failures == [] and loaded.namespace["listing"] is None
    assert loaded.namespace["relu"](-1.0) == 0.0


def test_notebook_cells_get_get_ipython_too(tmp_path):
    stem = f"nb_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{stem}.cells.json").write_text(cells("get_ipython().run_cell_magic('bash', '', 'ls')",
                                                       "shell = get_ipython()\nanswer = 42"))
    finder = importer.install(str(tmp_path))
    try:
        loaded = importer.ImportedModules(finder).load(stem)
        assert loaded.cell_failures == [] and loaded.namespace["answer"] == 42 and loaded.unit == "cell"
        with pytest.raises(AttributeError):
            loaded.namespace["shell"].__len__  # only ordinary method names are stubbed
    finally:
        sys.meta_path.remove(finder)
        sys.modules.pop(stem, None)
