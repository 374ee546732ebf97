"""JUnit XML: `DIR/junit/<student>.xml` per student and `DIR/junit.xml` for the whole batch.

CI services (GitHub Actions reporters, GitLab, Jenkins) read this format. The tree is

    testsuites > testsuite per student and exercise ("<student>.<exercise>")
               > testcase per test (classname "<student>.<exercise>", name = the test's name)

A `failed` test holds a <failure> (message: the feedback; type: the diagnosis, or "failed");
`error`, `timeout`, `missing` and `blocked` hold an <error> (type: the status). Problems with the
whole submission (no exercise named) become testcases of a "<student>.grading" suite, so a
submission that could not be graded never looks green. Hidden tests' feedback is left out
unless `show_hidden`.

The attributes are those the common (Ant) JUnit schema requires. The grader times submissions,
not single checks, so testcase and testsuite times are 0 and each student's grading time is a
property (`duration_s`) and part of the <testsuites> total.
"""
from __future__ import annotations

import platform
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional, Sequence
from xml.etree import ElementTree as ET

from grader.reports.feedback_model import cell_note
from grader.reports.files import student_path, write_text_atomic
from grader.reports.options import ReportOptions
from grader.reports.redaction import HIDDEN_NOTE, TestView, view_test
from grader.reports.wording import error_words
from grader.results import GradingError, SubmissionResult

FOLDER = "junit"
BATCH_FILE = "junit.xml"
MESSAGE_CHARS = 300  # the message attribute is a one-line summary; the element's text has it all

# Characters XML 1.0 cannot hold at all, even escaped (a student's message may contain them).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` with the characters XML 1.0 forbids written as visible `\\uXXXX` escapes."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _message(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= MESSAGE_CHARS else first[:MESSAGE_CHARS - 3] + "..."


def _details(view: TestView) -> str:
    lines = [f"{view.status_text}: {view.score:g} of {view.max_score:g} points"]
    if view.redacted:
        return "\n".join(lines + [HIDDEN_NOTE])
    lines += [view.feedback] if view.feedback else []
    lines += [f"Likely mistake ({view.diagnosis}): {view.explanation}"] if view.explanation else []
    lines += [f"Hint: {view.hint}"] if view.hint else []
    return "\n".join(lines)


def _testcase(parent: ET.Element, classname: str, view: TestView) -> str:
    """Add one testcase; return its outcome: "passed", "failure" or "error"."""
    case = ET.SubElement(parent, "testcase", classname=xml_text(classname), name=xml_text(view.name), time="0")
    if view.passed:
        return "passed"
    if view.redacted:
        message = f"hidden check {view.status_text}"
    else:
        message = _message(view.feedback) or view.status_text
    outcome = "failure" if view.status == "failed" else "error"
    kind = (view.diagnosis or "failed") if outcome == "failure" else view.status
    element = ET.SubElement(case, outcome, message=xml_text(message), type=kind)
    element.text = xml_text(_details(view))
    return outcome


def _suite(name: str, timestamp: str, hostname: str) -> ET.Element:
    return ET.Element("testsuite", name=xml_text(name), timestamp=timestamp, hostname=hostname)


def _close_suite(suite: ET.Element, outcomes: list[str], out: str, err: str) -> None:
    suite.set("tests", str(len(outcomes)))
    suite.set("failures", str(outcomes.count("failure")))
    suite.set("errors", str(outcomes.count("error")))
    suite.set("skipped", "0")
    suite.set("time", "0")
    ET.SubElement(suite, "system-out").text = xml_text(out)
    ET.SubElement(suite, "system-err").text = xml_text(err)


def _properties(suite: ET.Element, result: SubmissionResult) -> None:
    props = ET.SubElement(suite, "properties")
    for name, value in (("student", result.student), ("sha256", result.sha256), ("seed", result.seed),
                        ("sandbox", result.sandbox), ("grader_version", result.grader_version),
                        ("duration_s", round(result.duration_s, 3))):
        ET.SubElement(props, "property", name=name, value=xml_text(str(value)))


def _error_line(error: GradingError) -> str:
    return f"{error.kind} ({error_words(error.kind)}): {error.message}"


def student_suites(result: SubmissionResult, *, show_hidden: bool, timestamp: str,
                   hostname: str) -> list[ET.Element]:
    """One <testsuite> per exercise of `result`, plus one for problems with the whole submission."""
    suites = []
    for index, exercise in enumerate(result.exercises):
        classname = f"{result.student}.{exercise.name}"
        suite = _suite(classname, timestamp, hostname)
        _properties(suite, result)
        outcomes = [_testcase(suite, classname, view_test(t, show_hidden=show_hidden, exercise=exercise.name))
                    for t in exercise.tests]
        errors = [_error_line(e) for e in result.errors if e.exercise == exercise.name]
        errors += [cell_note(c) for c in exercise.cell_errors]
        notes = list(result.warnings) if index == 0 else []
        _close_suite(suite, outcomes, "\n".join(notes), "\n".join(errors))
        suites.append(suite)
    general = [e for e in result.errors if e.exercise is None]
    if general:
        classname = f"{result.student}.grading"
        suite = _suite(classname, timestamp, hostname)
        _properties(suite, result)
        outcomes = []
        for error in general:
            case = ET.SubElement(suite, "testcase", classname=xml_text(classname), name=error.kind, time="0")
            element = ET.SubElement(case, "error", message=xml_text(_message(error.message)), type=error.kind)
            element.text = xml_text(_error_line(error))
            outcomes.append("error")
        _close_suite(suite, outcomes, "", "")
        suites.append(suite)
    return suites


def junit_tree(results: Sequence[SubmissionResult], *, show_hidden: bool = False,
               timestamp: Optional[str] = None, hostname: Optional[str] = None) -> ET.Element:
    """The <testsuites> element for `results` (timestamp: ISO 8601 without time zone, UTC)."""
    timestamp = timestamp or datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0).isoformat()
    hostname = hostname or platform.node() or "localhost"
    root = ET.Element("testsuites", name="backprop-grader")
    for result in results:
        root.extend(student_suites(result, show_hidden=show_hidden, timestamp=timestamp, hostname=hostname))
    for count in ("tests", "failures", "errors", "skipped"):
        root.set(count, str(sum(int(s.get(count)) for s in root)))
    root.set("time", f"{sum(r.duration_s for r in results):.3f}")
    return root


def junit_xml(results: Sequence[SubmissionResult], **kwargs) -> str:
    tree = junit_tree(results, **kwargs)
    ET.indent(tree)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(tree, encoding="unicode") + "\n"


def write_junit(results: Sequence[SubmissionResult], out_dir: Path, options: ReportOptions) -> list[Path]:
    """`out_dir/junit/<student>.xml` for each student and `out_dir/junit.xml` for all of them."""
    written = [write_text_atomic(student_path(out_dir, FOLDER, r.student, ".xml"),
                                 junit_xml([r], show_hidden=options.show_hidden))
               for r in results]
    written.append(write_text_atomic(Path(out_dir) / BATCH_FILE, junit_xml(results, show_hidden=options.show_hidden)))
    return written
