"""`grader.release_copy.without_withheld_bodies`: answer-key bodies go, signatures and docstrings stay."""
from __future__ import annotations

import ast
import textwrap

import pytest

from grader.checks.lib.withheld import AnswerWithheld
from grader.release_copy import without_withheld_bodies

SOURCE = textwrap.dedent('''
    from grader.checks.lib.withheld import recorded, withheld


    def given(x):
        return x + 1


    @withheld
    def derivative(z):
        """dz."""
        def inner():
            return 3
        return inner() * z


    class Case:
        @recorded("t", "gradients")
        def gradients(self):
            """The answer."""
            return [self]
''')


def test_only_marked_functions_lose_their_bodies():
    out = without_withheld_bodies(SOURCE)
    tree = ast.parse(out)
    functions = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert "inner" not in functions and "return inner() * z" not in out and "return [self]" not in out
    assert ast.get_docstring(functions["derivative"]) == "dz." and ast.get_docstring(functions["gradients"])
    assert "return x + 1" in out and '@recorded("t", "gradients")' in out
    namespace: dict = {}
    exec(compile(out, "released.py", "exec"), namespace)
    assert namespace["given"](1) == 2
    with pytest.raises(AnswerWithheld, match="derivative is answer-key code"):
        namespace["derivative"](1.0)


def test_a_one_line_body_is_refused_with_its_line():
    with pytest.raises(ValueError, match="line 3: put the body of f on its own lines"):
        without_withheld_bodies("from grader.checks.lib.withheld import withheld\n@withheld\ndef f(): return 1\n")
