"""A notebook becomes the list of code cells the worker runs, as plain Python.

Reading: nbformat reads the file and upgrades it to version 4 (a version 3 notebook from an
old Jupyter is converted). A notebook that breaks the format's schema but can still be read is
graded anyway, with a warning; one that is not JSON, or not UTF-8, is a BadSubmissionError.

Which cells: code cells only. nbgrader's autograder-test cells (metadata `nbgrader.grade` true
and `nbgrader.solution` false) are left out: the grader runs its own checks and a student may
have edited those cells. A student who deleted the metadata keeps the cell; it simply runs.
Cells tagged "selfcheck-only" (`metadata.tags`) are left out too: they print, plot or import the
grader package for the student's own Jupyter, and the sandbox has no grader to import.

IPython syntax becomes harmless Python on the same line numbers, so that a traceback still
points at the student's line:

- `%magic ...`, `!command ...`, `name?` and `?name` lines -> `pass` (indentation kept);
- `x = %magic ...` and `x = !command ...` -> `x = None`;
- a magic's backslash-continued lines -> comments;
- a cell starting with `%%time`, `%%timeit` or `%%capture`: the first line -> `pass`, the body
  runs once as ordinary code; any other cell magic (`%%bash`, `%%writefile`, ...): every line
  becomes a comment, with a warning, since its body is not Python;
- `get_ipython()` calls are left alone.

A line counts as a magic only where a Python statement could start: not inside brackets, a
string or a backslash continuation (`(a\n % b)` is the modulo operator, not a magic).
"""
from __future__ import annotations

import json
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import nbformat

from grader.errors import BadSubmissionError

# Cell magics whose body is Python that IPython runs (once or more) in the user namespace.
CELL_MAGICS_KEEPING_BODY: frozenset[str] = frozenset({"time", "timeit", "capture"})

# Cells with this tag run only in the student's own Jupyter (demos, prints, `from grader import ...`).
SELFCHECK_ONLY_TAG = "selfcheck-only"

# Far above any notebook of this course (the solutions have under 40 code cells), far below what
# makes reading one slow: 150,000 cells took seconds and tens of MB in the grader.
MAX_CELLS = 2_000

_ASSIGNED_MAGIC = re.compile(
    r"^(?P<indent>\s*)(?P<target>[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*[%!]")
_HELP = re.compile(r"^\s*(?:\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")


@dataclass
class NotebookCells:
    """`cells`: (index in the notebook, Python source) for each code cell the worker runs.

    The index counts every cell, markdown included, from 0, as nbformat lists them.
    `warnings`: things a student or instructor should know; grading goes on regardless.
    """

    cells: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Scan:
    """Where a line leaves Python's tokenizer: inside brackets, a string or a continuation."""

    depth: int = 0
    quote: Optional[str] = None  # the open string's delimiter: ', ", ''' or """
    continued: bool = False  # the line ended with a backslash outside a string

    @property
    def at_statement_start(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.continued


def _scan_line(line: str, scan: _Scan) -> _Scan:
    """The tokenizer state after `line`, for counting brackets and strings (not a full lexer)."""
    depth, quote = scan.depth, scan.quote
    text = line.rstrip("\r\n")
    end = len(text)
    escaped_newline = False
    i = 0
    while i < end:
        char = text[i]
        if quote is not None:
            if char == "\\":
                escaped_newline = i == end - 1
                i += 2  # an escaped character, even in a raw string, never closes the string
            elif text.startswith(quote, i):
                i += len(quote)
                quote = None
            else:
                i += 1
            continue
        if char == "#":
            end = i  # the rest is a comment, which cannot continue the line
            break
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char in "'\"":
            triple = char * 3
            quote = triple if text.startswith(triple, i) else char
            i += len(quote)
            continue
        i += 1
    if quote is not None:
        if len(quote) == 1 and not escaped_newline:
            quote = None  # an unclosed one-line string: a syntax error the worker will report
        return _Scan(depth, quote, continued=False)
    return _Scan(depth, None, continued=text[:end].endswith("\\"))


def _is_magic_line(stripped: str) -> bool:
    return stripped.startswith(("%", "!")) or _HELP.match(stripped) is not None


def strip_ipython_lines(source: str) -> str:
    """Line magics, shell escapes and help lines -> no-ops; same number of lines."""
    lines = source.split("\n")
    scan = _Scan()
    in_magic_continuation = False
    for number, line in enumerate(lines):
        if in_magic_continuation:
            lines[number] = "# " + line
            in_magic_continuation = line.rstrip("\r").endswith("\\")
            continue
        stripped = line.strip()
        if scan.at_statement_start and stripped:
            indent = line[: len(line) - len(line.lstrip())]
            assigned = _ASSIGNED_MAGIC.match(line)
            if _is_magic_line(stripped) or assigned:
                lines[number] = (f"{assigned['indent']}{assigned['target']} = None" if assigned
                                 else f"{indent}pass")
                in_magic_continuation = line.rstrip("\r").endswith("\\")
                continue
        scan = _scan_line(line, scan)
    return "\n".join(lines)


def cell_magic_name(source: str) -> Optional[str]:
    """`"bash"` for a cell starting with `%%bash ...` (after blank lines), else None."""
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped:
            if stripped.startswith("%%") and len(stripped) > 2:
                return stripped[2:].split()[0]
            return None
    return None


def to_python(source: str) -> tuple[str, Optional[str]]:
    """A code cell's source as plain Python on the same lines, and a warning if any."""
    magic = cell_magic_name(source)
    if magic is None:
        return strip_ipython_lines(source), None
    lines = source.split("\n")
    first = next(i for i, line in enumerate(lines) if line.strip())
    if magic in CELL_MAGICS_KEEPING_BODY:
        lines[first] = "pass"
        return strip_ipython_lines("\n".join(lines)), None
    commented = "\n".join("# " + line for line in lines)
    return commented, f"%%{magic} is not Python, so the grader does not run this cell"


def _is_nbgrader_test(cell: dict) -> bool:
    metadata = cell.get("metadata")
    marks = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return isinstance(marks, dict) and marks.get("grade") is True and marks.get("solution") is False


def _is_selfcheck_only(cell: dict) -> bool:
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    return isinstance(tags, list) and SELFCHECK_ONLY_TAG in tags


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _cell_count(text: str) -> Optional[int]:
    """How many cells the notebook's JSON lists (None when it is not a JSON notebook), counted
    before nbformat reads, upgrades and validates them all."""
    try:
        cells = json.loads(text).get("cells")
    except (ValueError, AttributeError, RecursionError):
        return None
    if isinstance(cells, list):
        return len(cells)
    return None


def _too_many_cells(name: str, count: int) -> BadSubmissionError:
    return BadSubmissionError(
        f"{name} has {count} cells; at most {MAX_CELLS} are accepted. Merge or delete cells "
        "(generated or pasted ones) and submit the notebook again.")


def parse_cells(data: bytes, name: str, *, deadline: Optional[float] = None) -> NotebookCells:
    """`read_cells` for a notebook's bytes; `name` is the file name used in messages.

    Raises BadSubmissionError for more than MAX_CELLS cells, or when `deadline` (a
    `time.monotonic()` value) passes while the cells are converted.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadSubmissionError(
            f"{name} is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}), so it "
            "is not a notebook Jupyter saved. Open it in Jupyter, save it, and submit that file.") from exc
    count = _cell_count(text)
    if count is not None and count > MAX_CELLS:
        raise _too_many_cells(name, count)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbformat warns about ids it adds; not the student's concern
        try:
            notebook = nbformat.reads(text, as_version=4)
        except Exception as exc:  # nbformat raises a different type for each way a file is broken
            raise BadSubmissionError(
                f"{name} cannot be read as a Jupyter notebook ({_first_line(exc)}). Open it in "
                "Jupyter, check that it shows your work, save it, and submit that file.") from exc
        result = NotebookCells()
        try:
            nbformat.validate(notebook)
        except Exception as exc:
            result.warnings.append(
                f"{name} does not fully follow the notebook format ({_first_line(exc)}); "
                "it is graded anyway. Saving it again from Jupyter usually fixes this.")
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise BadSubmissionError(f"{name} has no list of cells; save it again from Jupyter.")
    if len(cells) > MAX_CELLS:  # a version 3 notebook keeps its cells in worksheets
        raise _too_many_cells(name, len(cells))
    for index, cell in enumerate(cells):
        if deadline is not None and time.monotonic() > deadline:
            raise BadSubmissionError(
                f"{name} took too long to read (over the grader's time budget for staging a "
                "submission); make its cells shorter and fewer and submit it again.")
        if (not isinstance(cell, dict) or cell.get("cell_type") != "code" or _is_nbgrader_test(cell)
                or _is_selfcheck_only(cell)):
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        if not isinstance(source, str):
            result.warnings.append(f"{name} cell {index}: its source is not text; the cell is skipped.")
            continue
        python, warning = to_python(source)
        if warning:
            result.warnings.append(f"{name} cell {index}: {warning}.")
        result.cells.append((index, python))
    return result


def read_cells(path: Path) -> NotebookCells:
    """The code cells of the notebook at `path`, as plain Python (see the module docstring)."""
    path = Path(path)
    return parse_cells(path.read_bytes(), path.name)
