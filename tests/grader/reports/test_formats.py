"""Every format written from one batch, each checked by its own rules or by a real consumer."""
import csv
import json
from xml.etree import ElementTree as ET

import pytest

from grader.reports.formats import (FORMAT_NAMES, FORMATS, ReportError, check_formats, chosen_formats,
                                    write_formats)
from grader.reports.merge import read_report_folder
from grader.reports.options import ReportOptions
from tests.grader.reports.html_checks import check_page
from tests.grader.reports.sample_batch import SECRET, sample_batch
from tests.grader.reports.schemas import assert_gradescope_schema, assert_junit_schema


def test_every_format_has_an_importable_writer():
    for fmt in FORMATS.values():
        assert callable(fmt.writer()), fmt.name


@pytest.mark.parametrize("names, with_json, expected", [
    ((), True, ["json"]),
    (("html", "summary-html", "junit", "junit"), False, ["junit", "html", "summary-html"]),
    (("summary-html", "md"), True, ["json", "md", "summary-html"]),
])
def test_chosen_formats_in_the_registry_order(names, with_json, expected):
    assert chosen_formats(names, with_json=with_json) == expected


def test_feedback_pages_come_before_the_summary_that_links_them():
    assert FORMAT_NAMES.index("html") < FORMAT_NAMES.index("summary-html")


def test_unknown_and_incomplete_formats_are_refused_up_front():
    with pytest.raises(ReportError, match="unknown report format.*pdf"):
        chosen_formats(["pdf"])
    with pytest.raises(ReportError, match="the gradebook format needs --gradebook"):
        check_formats(["gradebook"], ReportOptions())
    assert check_formats(["gradebook", "csv"], ReportOptions(gradebook="g.db")) == ["csv", "gradebook"]


def test_every_format_from_one_batch(tmp_path, db):
    results = sample_batch()
    options = ReportOptions(assignment="hw2", gradebook=str(db))
    written = write_formats(FORMAT_NAMES, results, tmp_path / "out", options)
    out = tmp_path / "out"
    assert list(written) == list(FORMAT_NAMES)
    students = sorted(r.student for r in results)

    # json: the reports read back, and the summary counts them
    assert sorted(r.student for _, r in read_report_folder(out)) == students
    assert json.loads((out / "summary.json").read_text())["count"] == len(results)
    # gradescope: Gradescope's schema, one file per student
    for result in results:
        assert_gradescope_schema(json.loads((out / "gradescope" / f"{result.student}.json").read_text()))
    # junit: the JUnit schema's required attributes, and the counts add up
    batch = ET.parse(out / "junit.xml").getroot()
    assert_junit_schema(batch)
    general_errors = sum(e.exercise is None for r in results for e in r.errors)  # each is a testcase of its own
    assert int(batch.get("tests")) == sum(len(ex.tests) for r in results for ex in r.exercises) + general_errors
    # csv: one row per student in both files
    with open(out / "grades.csv", encoding="utf-8-sig", newline="") as handle:
        assert len(list(csv.reader(handle))) == len(results) + 1
    with open(out / "nbgrader_export.csv", encoding="utf-8", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == len(results)
    # md and html: one page per student, students' view by default
    for result in results:
        md = (out / "feedback" / f"{result.student}.md").read_text("utf-8")
        page = (out / "feedback" / f"{result.student}.html").read_text("utf-8")
        check_page(page)
        assert SECRET not in md and SECRET not in page
    # summary.html links every feedback page
    summary = (out / "summary.html").read_text("utf-8")
    check_page(summary)
    assert summary.count('href="feedback/') == len(results)
    # gradebook: nbgrader's API reads back a submission per student, and the totals of the two
    # students graded on the same tests (the others' cells carry the first student's points)
    from grader.reports.nbgrader_gradebook import open_gradebook

    with open_gradebook(options.gradebook) as gb:
        assert sorted(s.student.id for s in gb.assignment_submissions("hw2")) == students
        for result in results[:2]:
            assert gb.find_submission("hw2", result.student).score == pytest.approx(result.score)


def test_without_json_the_reports_of_record_are_left_alone(tmp_path):
    write_formats(["csv"], sample_batch(), tmp_path, with_json=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades.csv", "nbgrader_export.csv"]
