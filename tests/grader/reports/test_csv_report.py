import csv

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.reports.csv_report import (NBGRADER_COLUMNS, grades_header, grades_rows, nbgrader_rows, number,
                                       safe_cell, write_csv)
from grader.reports.options import ReportOptions
from grader.submission.exercises import EXERCISES
from tests.grader.reports.sample_batch import HOSTILE_ID, ada, cleo, dev, sample_batch


def read(path, encoding):
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


def test_grades_csv_columns_in_a_stable_order_and_one_row_per_student(tmp_path):
    write_csv(sample_batch(), tmp_path, ReportOptions())
    rows = read(tmp_path / "grades.csv", "utf-8-sig")
    assert rows[0] == ["student", *EXERCISES, "total", "max_score", "errors", "sha256"] == grades_header()
    assert [r[0] for r in rows[1:]] == sorted(safe_cell(r.student) for r in sample_batch())
    by_student = {r[0]: r for r in rows[1:]}
    result = cleo()
    row = by_student["cleo"]
    assert [float(v) for v in row[1:7]] == [ex.score for ex in result.exercises]
    assert float(row[7]) == result.score and float(row[8]) == result.max_score
    assert row[9] == "timeout" and row[10] == "c" * 64
    assert by_student["dev"][1:7] == [""] * 6 and by_student["dev"][9] == "crash"


def test_grades_csv_starts_with_a_bom_and_uses_crlf(tmp_path):
    write_csv([ada()], tmp_path, ReportOptions())
    raw = (tmp_path / "grades.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") == 2 and raw.count(b"\n") == 2


def test_nbgrader_export_has_nbgraders_columns_without_bom(tmp_path):
    write_csv([ada(), cleo()], tmp_path, ReportOptions(assignment="hw2"))
    raw = (tmp_path / "nbgrader_export.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    rows = read(tmp_path / "nbgrader_export.csv", "utf-8")
    assert tuple(rows[0]) == NBGRADER_COLUMNS
    records = [dict(zip(rows[0], r)) for r in rows[1:]]
    assert [r["student_id"] for r in records] == ["ada", "cleo"]
    cleo_row = records[1]
    assert cleo_row["assignment"] == "hw2"
    assert float(cleo_row["raw_score"]) == float(cleo_row["score"]) == cleo().score
    assert float(cleo_row["max_score"]) == cleo().max_score and cleo_row["late_submission_penalty"] == "0"
    assert cleo_row["duedate"] == cleo_row["timestamp"] == cleo_row["email"] == ""


@pytest.mark.parametrize("text, expected", [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("alice", "alice"), ("1=1", "1=1"), ("", ""),
])
def test_formula_injection_is_defused(text, expected):
    assert safe_cell(text) == expected


def test_a_hostile_student_id_is_text_in_both_files(tmp_path):
    write_csv(sample_batch(), tmp_path, ReportOptions(assignment="=cmd"))
    grades = read(tmp_path / "grades.csv", "utf-8-sig")
    export = read(tmp_path / "nbgrader_export.csv", "utf-8")
    assert "'" + HOSTILE_ID in [r[0] for r in grades]
    assert "'" + HOSTILE_ID in [r[3] for r in export] and export[1][0] == "'=cmd"
    assert not any(cell.startswith(("=", "+", "@")) for row in grades[1:] + export[1:] for cell in row)


@pytest.mark.parametrize("value, text", [(87.5, "87.5"), (100.0, "100"), (0.0, "0"), (-0.0, "0"),
                                         (1 / 3, "0.333333"), (1e-5, "0.00001"), (12.25, "12.25")])
def test_numbers_are_plain_decimals(value, text):
    assert number(value) == text


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_numbers_read_back_within_rounding(value):
    assert float(number(value)) == pytest.approx(value, abs=5e-7)


def test_rows_are_sorted_by_student_whatever_the_input_order():
    assert [r[0] for r in grades_rows([dev(), ada(), cleo()])] == ["ada", "cleo", "dev"]
    assert [r[3] for r in nbgrader_rows([dev(), ada()], "a")] == ["ada", "dev"]
