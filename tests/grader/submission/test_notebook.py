"""Notebooks to code cells: reading, upgrading, test cells left out, IPython syntax neutralised."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.errors import BadSubmissionError
from grader.submission.notebook import (
    cell_magic_name,
    parse_cells,
    read_cells,
    strip_ipython_lines,
    to_python,
)

from .factories import code, notebook_text, v3_notebook_text, write


def test_code_cells_with_their_index_among_all_cells(tmp_path):
    path = write(tmp_path / "nb.ipynb", notebook_text("x = 1", "y = 2", markdown_first=True))
    result = read_cells(path)
    assert result.cells == [(1, "x = 1"), (2, "y = 2")]
    assert result.warnings == []


def test_an_old_version_3_notebook_is_upgraded():
    text = v3_notebook_text("a = 1\nb = 2", "%matplotlib inline\nc = 3")
    assert json.loads(text)["nbformat"] == 3
    result = parse_cells(text.encode(), "old.ipynb")
    assert result.cells == [(1, "a = 1\nb = 2"), (2, "pass\nc = 3")]
    assert result.warnings == []


@pytest.mark.parametrize("marks, kept", [
    ({"grade": True, "solution": False, "grade_id": "test_sigmoid", "points": 2}, False),  # a test cell
    ({"grade": False, "solution": True, "grade_id": "sigmoid"}, True),  # the student's answer
    ({"grade": True, "solution": True, "grade_id": "answer", "points": 1}, True),  # graded answer
    ({"solution": False, "grade": False, "locked": True}, True),  # read-only setup code
    (None, True),  # metadata deleted by the student: the cell simply runs
])
def test_nbgrader_test_cells_are_left_out(marks, kept):
    cell = code("assert sigmoid(0) == 0.5", **(marks or {}))
    result = parse_cells(notebook_text("def sigmoid(z): ...", cell).encode(), "nb.ipynb")
    assert [index for index, _ in result.cells] == ([0, 1] if kept else [0])


def test_a_utf8_byte_order_mark_is_fine():
    assert parse_cells(b"\xef\xbb\xbf" + notebook_text("x = 1").encode(), "nb.ipynb").cells == [(0, "x = 1")]


def test_bytes_that_are_not_utf8_name_the_file():
    data = notebook_text("s = 'caf\u00e9'").encode("latin-1")
    with pytest.raises(BadSubmissionError) as caught:
        parse_cells(data, "ex1_activations_losses.ipynb")
    message = str(caught.value)
    assert "ex1_activations_losses.ipynb is not UTF-8" in message and "save it" in message


@pytest.mark.parametrize("text", [
    '{"cells": [', "print('this is a script')", "[1, 2, 3]", "{}", '{"nbformat": 99}', "",
])
def test_what_is_not_a_notebook_names_the_file_and_says_what_to_do(text):
    with pytest.raises(BadSubmissionError) as caught:
        parse_cells(text.encode(), "ex3_mlp_backprop.ipynb")
    message = str(caught.value)
    assert message.startswith("ex3_mlp_backprop.ipynb cannot be read as a Jupyter notebook")
    assert "save it" in message


def test_an_invalid_but_readable_notebook_is_graded_with_a_warning():
    notebook = json.loads(notebook_text("x = 1"))
    notebook["cells"][0]["surprise"] = True
    result = parse_cells(json.dumps(notebook).encode(), "nb.ipynb")
    assert result.cells == [(0, "x = 1")]
    (warning,) = result.warnings
    assert "does not fully follow the notebook format" in warning and "graded anyway" in warning


def test_a_cell_whose_source_is_not_text_is_skipped_with_a_warning():
    notebook = json.loads(notebook_text("x = 1", "y = 2"))
    notebook["cells"][0]["source"] = 42
    result = parse_cells(json.dumps(notebook).encode(), "nb.ipynb")
    assert result.cells == [(1, "y = 2")]
    assert any("cell 0: its source is not text" in w for w in result.warnings)


@pytest.mark.parametrize("source, expected", [
    ("%matplotlib inline\nimport numpy as np", "pass\nimport numpy as np"),
    ("!pip install numpy", "pass"),
    ("  %load_ext autoreload", "  pass"),
    ("for i in range(3):\n    %time f(i)\n    !echo hi", "for i in range(3):\n    pass\n    pass"),
    ("files = !ls", "files = None"),
    ("a, b = %who_ls", "a, b = None"),
    ("self.out = !date", "self.out = None"),
    ("!pip install \\\n    numpy\nx = 1", "pass\n#     numpy\nx = 1"),
    ("np.mean?\n?np.sum\nnp.std??", "pass\npass\npass"),
    ("x = 'it''s'\n%ls", "x = 'it''s'\npass"),
    ("x = '''\n'''\n%ls", "x = '''\n'''\npass"),
    ("x = 1  # a comment ending in \\\n%ls", "x = 1  # a comment ending in \\\npass"),
])
def test_ipython_lines_become_no_ops_on_the_same_lines(source, expected):
    assert strip_ipython_lines(source) == expected


@pytest.mark.parametrize("source", [
    "x = (7\n     % 2)",  # the modulo operator, inside brackets
    "x = 7 \\\n% 2",  # ... after a backslash continuation
    "s = '''\n%not a magic\n!nor a shell\n'''",  # inside a triple-quoted string
    's = "a\\\n%b"',  # inside a one-line string continued by a backslash
    "d = {'a': 1,\n     '%b': 2}",
    "y = a != b\nprint('100%')\n# %matplotlib inline",
    "t = f'{x!r}'\nu = r'\\'\nz = 1 % 2",
    "get_ipython().run_line_magic('matplotlib', 'inline')",
    "text = ''\n  # comment with (open bracket\n%ls",  # the comment's bracket does not count
])
def test_python_is_left_alone(source):
    assert strip_ipython_lines(source) == (source if not source.endswith("%ls") else source[:-3] + "pass")


@pytest.mark.parametrize("source, expected, warned", [
    ("%%time\nx = f()\n%ls", "pass\nx = f()\npass", False),
    ("\n%%timeit -n 3\nx = 1", "\npass\nx = 1", False),
    ("%%capture out\nprint(1)", "pass\nprint(1)", False),
    ("%%bash\necho hi\nls (", "# %%bash\n# echo hi\n# ls (", True),
    ("%%writefile helper.py\ndef f(): pass", "# %%writefile helper.py\n# def f(): pass", True),
    ("x = 1\n%%time", "x = 1\npass", False),  # not at the top: not a cell magic
])
def test_cell_magics(source, expected, warned):
    python, warning = to_python(source)
    assert python == expected
    assert (warning is not None) == warned
    if warned:
        assert "does not run this cell" in warning


def test_a_warned_cell_magic_names_the_cell():
    result = parse_cells(notebook_text("x = 1", "%%bash\nls").encode(), "nb.ipynb")
    assert result.cells == [(0, "x = 1"), (1, "# %%bash\n# ls")]
    assert result.warnings == ["nb.ipynb cell 1: %%bash is not Python, so the grader does not run this cell."]


def test_cell_magic_name():
    assert cell_magic_name("\n  %%time  \nx") == "time"
    assert cell_magic_name("%time x") is None
    assert cell_magic_name("") is None


_python_lines = st.sampled_from([
    "x = 1", "y = (x\n     % 3)", "s = '''\n%s\n'''", "print('!')", "z = x != 2", "# %comment",
    "def f(a):\n    return a % 2", "d = {\n    'k': 1,\n    '%v': 2,\n}",
])
_magic_lines = st.sampled_from([
    "%matplotlib inline", "!pip install numpy", "out = !ls", "np.mean?", "%timeit f(1)",
    "!echo \\\n    continued",
])


@given(parts=st.lists(st.tuples(st.booleans(), _python_lines, _magic_lines), max_size=8),
       indent=st.booleans())
def test_any_mix_compiles_and_keeps_its_line_numbers(parts, indent):
    lines = [magic if use_magic else python for use_magic, python, magic in parts]
    source = "\n".join(lines)
    if indent:
        source = "if True:\n" + "\n".join("    " + line for line in source.split("\n")) + "\n    pass"
    python, _ = to_python(source)
    assert python.count("\n") == source.count("\n")
    compile(python, "cell", "exec")
    if not any(use_magic for use_magic, _, _ in parts):
        assert python == source


@pytest.mark.parametrize("tags, kept", [
    (["selfcheck-only"], False),  # a demo, print or `from grader import ...` cell
    (["module", "selfcheck-only"], False),
    (["module"], True),
    (["selfcheck"], True),  # only the exact tag counts
    (None, True),
])
def test_selfcheck_only_cells_are_left_out(tags, kept):
    cell = code("from grader import personal_case\nprint(personal_case('s1'))")
    if tags is not None:
        cell.metadata["tags"] = tags
    result = parse_cells(notebook_text("x = 1", cell, "y = 2").encode(), "nb.ipynb")
    assert [index for index, _ in result.cells] == ([0, 1, 2] if kept else [0, 2])
