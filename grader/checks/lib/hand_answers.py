"""`HAND_ANSWERS`: the numbers exercise 2 asks students to work by hand, as the submission
gives them and as its source writes them.

Numbers worked by hand are written as literals; a value computed by code, or changed by code
after it is written out, is not worked by hand, whatever it holds.
"""
from __future__ import annotations

import ast
from typing import Any, Mapping, Sequence

import numpy as np

from grader.checks.base import CheckContext, Verdict, fail
from grader.checks.compare import to_array
from grader.checks.lib.hand_chain import STEM

HAND_NAME = "HAND_ANSWERS"
WRITE_NUMBERS = ("Write the numbers you worked by hand as literals, e.g. "
                 'HAND_ANSWERS = {"z": [0.123, -0.456], "z_out": 0.789, ...}, not code that computes them.')


def literal_number(node: ast.AST) -> bool:
    """A number written out: 0.25, -1e-3, 7 (not a bool, a name, a call or arithmetic)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def literal_numbers(node: ast.AST) -> bool:
    """A number, or a (nested) list or tuple of numbers, written out."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(literal_numbers(item) for item in node.elts)
    return literal_number(node)


def hand_answers_node(cells: Sequence[str]) -> tuple[ast.AST | None, str]:
    """The value of the last top-level `HAND_ANSWERS = ...` in the source, or None and why.

    Cells are parsed one at a time (a notebook cell that does not parse is skipped; the worker
    skips it too). An augmented or unpacking assignment at the top level replaces the value
    with something computed, so it counts as the last assignment, with no literal value.
    """
    value: ast.AST | None = None
    found = False
    for text in cells:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for statement in tree.body:
            if isinstance(statement, ast.Assign):
                names = [t for t in statement.targets if isinstance(t, ast.Name) and t.id == HAND_NAME]
                nested = [n for t in statement.targets if not isinstance(t, ast.Name)
                          for n in ast.walk(t) if isinstance(n, ast.Name) and n.id == HAND_NAME]
                if names:
                    found, value = True, statement.value
                elif nested:
                    found, value = True, None
            elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)) and \
                    isinstance(statement.target, ast.Name) and statement.target.id == HAND_NAME:
                found = True
                value = statement.value if isinstance(statement, ast.AnnAssign) else None
    if not found:
        return None, f"{HAND_NAME} is not assigned at the top level of the file."
    if value is None:
        return None, f"{HAND_NAME} is computed, not written out."
    return value, ""


def written_answers(cells: Sequence[str]) -> tuple[dict | None, str]:
    """`HAND_ANSWERS` as written in the source when it is a literal dict of numbers, else None and why."""
    node, problem = hand_answers_node(cells)
    if node is None:
        return None, problem
    if not isinstance(node, ast.Dict) or any(k is None for k in node.keys):
        return None, f"{HAND_NAME} is not written as a dict of numbers."
    computed = [k.value if isinstance(k, ast.Constant) else "?" for k, v in zip(node.keys, node.values)
                if not (isinstance(k, ast.Constant) and isinstance(k.value, str)) or not literal_numbers(v)]
    if computed:
        shown = ", ".join(str(k) for k in computed[:4]) + (" ..." if len(computed) > 4 else "")
        return None, f"{HAND_NAME} has values that are not numbers written out ({shown})."
    try:
        return ast.literal_eval(node), ""
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None, f"{HAND_NAME} is not written as a dict of numbers."


def same_answers(written: Mapping[str, Any], given: Mapping[str, Any]) -> bool:
    """The worker's HAND_ANSWERS holds exactly the numbers written in the source."""
    if set(written) != set(given):
        return False
    for key in written:
        a, b = to_array(written[key]), to_array(given[key])
        if a is None or b is None or a.shape != b.shape or not np.array_equal(a, b):
            return False
    return True


def hand_written_verdict(ctx: CheckContext, answers: Mapping[str, Any]) -> Verdict | None:
    """A failing Verdict when HAND_ANSWERS is not numbers written as literals; None when it is
    (or when this run has no source to read, e.g. a notebook's own kernel)."""
    if ctx.source_cells is None:
        return None
    written, problem = written_answers(ctx.source_cells)
    if written is None:
        return fail(f"{problem} {WRITE_NUMBERS}")
    if not same_answers(written, answers):
        return fail(f"{HAND_NAME} is changed by code after it is written out. {WRITE_NUMBERS}")
    return None


def hand_answers(ctx: CheckContext) -> Any:
    """The submission's module-level HAND_ANSWERS, as plain data (the worker's `value` op)."""
    return ctx.transport.request({"op": "value", "module": STEM, "name": "HAND_ANSWERS"}, timeout=ctx.timeout)

