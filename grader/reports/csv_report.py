"""Grade tables as CSV: `DIR/grades.csv` for people, `DIR/nbgrader_export.csv` for nbgrader's tools.

`grades.csv` has one row per student and a stable column order: student, one column per
exercise (in its assignment's order), total, max_score, errors (the kinds, `;`-separated),
sha256. It is UTF-8 with a byte-order mark and CRLF line ends: Excel opens a CSV as UTF-8 only
when it starts with the BOM (without it, accented names come out garbled), and LibreOffice,
pandas (`encoding="utf-8-sig"`) and Python's csv module read it cleanly.

`nbgrader_export.csv` has exactly the columns of `nbgrader export` (assignment, duedate,
timestamp, student_id, last_name, first_name, email, raw_score, late_submission_penalty, score,
max_score), written as nbgrader writes them: UTF-8 without a BOM, LF line ends, empty cells for
what the grader does not know, so scripts made for nbgrader's file read this one unchanged.

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return) as a
formula, and a student chooses their folder name: such text cells get a leading `'`, which
spreadsheets show as text. Numbers are written as numbers.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Sequence

from grader.reports.files import write_text_atomic
from grader.reports.options import ReportOptions
from grader.results import SubmissionResult
from grader.submission.exercises import EXERCISES

GRADES_FILE = "grades.csv"
NBGRADER_FILE = "nbgrader_export.csv"
NBGRADER_COLUMNS: tuple[str, ...] = ("assignment", "duedate", "timestamp", "student_id", "last_name",
                                     "first_name", "email", "raw_score", "late_submission_penalty",
                                     "score", "max_score")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """A text cell no spreadsheet will run as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def number(value: float) -> str:
    """A score as the shortest plain decimal: 87.5, 100, 0.333333 (never 1e-05)."""
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def exercise_columns(results: Sequence[SubmissionResult] = ()) -> tuple[str, ...]:
    """The exercises' columns, in their assignment's order: Module 2A's six, or those of the
    assignment the results were graded as (the exercises they hold, when it is not installed)."""
    from grader.assignments import UnknownAssignment, get_assignment

    name = results[0].assignment if results else ""
    if name in ("", "module-2a"):
        return EXERCISES
    try:
        return get_assignment(name).stems
    except UnknownAssignment:
        return tuple(dict.fromkeys(ex.name for r in results for ex in r.exercises))


def grades_header(results: Sequence[SubmissionResult] = ()) -> list[str]:
    return ["student", *exercise_columns(results), "total", "max_score", "errors", "sha256"]


def grades_rows(results: Sequence[SubmissionResult]) -> list[list[str]]:
    """One row per student, sorted by student id; an exercise the report lacks is an empty cell."""
    columns = exercise_columns(results)
    rows = []
    for result in sorted(results, key=lambda r: r.student):
        by_name = {ex.name: ex for ex in result.exercises}
        rows.append([safe_cell(result.student),
                     *[number(by_name[e].score) if e in by_name else "" for e in columns],
                     number(result.score), number(result.max_score),
                     safe_cell(";".join(e.kind for e in result.errors)), result.sha256])
    return rows


def nbgrader_rows(results: Sequence[SubmissionResult], assignment: str) -> list[list[str]]:
    """Rows in `nbgrader export`'s columns; no late penalty, so score equals raw_score."""
    return [[safe_cell(assignment), "", "", safe_cell(r.student), "", "", "", number(r.score), "0",
             number(r.score), number(r.max_score)]
            for r in sorted(results, key=lambda r: r.student)]


def csv_text(header: Sequence[str], rows: Sequence[Sequence[str]], *, line_end: str = "\r\n") -> str:
    """CSV with quoting only where needed; CRLF line ends as RFC 4180 says, unless told otherwise."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv(results: Sequence[SubmissionResult], out_dir: Path, options: ReportOptions) -> list[Path]:
    """`out_dir/grades.csv` (UTF-8 with BOM) and `out_dir/nbgrader_export.csv` (UTF-8, as nbgrader's)."""
    grades = write_text_atomic(Path(out_dir) / GRADES_FILE, csv_text(grades_header(results), grades_rows(results)),
                               encoding="utf-8-sig")
    export = write_text_atomic(Path(out_dir) / NBGRADER_FILE,
                               csv_text(NBGRADER_COLUMNS, nbgrader_rows(results, options.assignment), line_end="\n"))
    return [grades, export]
