from xml.etree import ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.reports.junit import junit_tree, junit_xml, write_junit, xml_text
from grader.reports.options import ReportOptions
from tests.grader.reports.sample_batch import HOSTILE_ID, SECRET, ada, cleo, dev, hostile, sample_batch
from tests.grader.reports.schemas import assert_junit_schema

def parse(results, **kwargs) -> ET.Element:
    return ET.fromstring(junit_xml(results, **kwargs).encode("utf-8"))


def test_the_whole_batch_parses_and_matches_the_schema():
    root = parse(sample_batch())
    assert_junit_schema(root)
    assert_junit_schema(parse(sample_batch(), show_hidden=True))


def test_one_suite_per_student_and_exercise_and_one_case_per_test():
    result = cleo()
    root = parse([result])
    assert [s.get("name") for s in root] == [f"cleo.{ex.name}" for ex in result.exercises]
    for suite, ex in zip(root, result.exercises):
        cases = suite.findall("testcase")
        assert [c.get("name") for c in cases] == [t.name for t in ex.tests]
        assert {c.get("classname") for c in cases} == {f"cleo.{ex.name}"}
    props = {p.get("name"): p.get("value") for p in root[0].find("properties")}
    assert props["seed"] == "7" and props["duration_s"] == "12.25" and props["sha256"] == "c" * 64
    assert float(root.get("time")) == pytest.approx(12.25)


@pytest.mark.parametrize("status, tag, kind", [
    ("failed", "failure", "sign_flipped"),
    ("timeout", "error", "timeout"),
    ("missing", "error", "missing"),
    ("blocked", "error", "blocked"),
])
def test_failures_and_errors_by_status(status, tag, kind):
    cases = {c.get("name"): c for c in parse([cleo()]).iter("testcase")}
    name = {"failed": "mse_grad.values", "timeout": "Value.deep_graph", "missing": "Tensor.attributes",
            "blocked": "train.accuracy"}[status]
    outcome = [c for c in cases[name] if c.tag in ("failure", "error")]
    assert len(outcome) == 1 and outcome[0].tag == tag and outcome[0].get("type") == kind


def test_a_failure_without_diagnosis_has_type_failed_and_partial_points_in_the_text():
    case = next(c for c in parse([cleo()]).iter("testcase") if c.get("name") == "HAND_ANSWERS.values")
    failure = case.find("failure")
    assert failure.get("type") == "failed" and failure.get("message") == "4 of 8 answers are right."
    assert "1.5 of 3 points" in failure.text and "Round to 3 decimals." in failure.text


def test_passed_tests_have_no_outcome_element():
    root = parse([ada()])
    assert root.get("failures") == "0" and root.get("errors") == "0"
    assert int(root.get("tests")) == sum(len(ex.tests) for ex in ada().exercises)


def test_hidden_feedback_only_in_instructor_mode():
    assert SECRET not in junit_xml([cleo()])
    assert SECRET in junit_xml([cleo()], show_hidden=True)
    case = next(c for c in parse([cleo()]).iter("testcase") if c.get("name") == "backward.random")
    assert case.find("failure").get("type") == "failed"  # the diagnosis is hidden too
    assert case.find("failure").get("message").startswith("hidden check")


def test_a_crashed_submission_is_an_error_not_an_empty_green_run():
    root = parse([dev()])
    assert_junit_schema(root)
    assert root.get("errors") == "1" and root[0].get("name") == "dev.grading"
    assert "boom" in root[0].find("testcase/error").text


def test_exercise_problems_and_cell_errors_go_to_system_err():
    cleo_root = parse([cleo()])
    ex6 = next(s for s in cleo_root if s.get("name").endswith("ex6_gradient_descent"))
    assert "train took longer" in ex6.find("system-err").text
    assert "graded the .ipynb" in cleo_root[0].find("system-out").text


def test_control_characters_and_markup_survive_as_text():
    text = junit_xml([hostile()])
    root = ET.fromstring(text.encode("utf-8"))  # would raise on a raw \x00 or \x1b
    error = root.find("testsuite/testcase/error")
    assert "\\u001b[31mred" in error.text and "\\u0000" in error.text and "<script>" in error.text
    assert root[0].get("name") == f"{HOSTILE_ID}.ex1_activations_losses"


@given(st.text())
def test_xml_text_always_gives_parseable_xml(text):
    element = ET.Element("x", a=xml_text(text))
    element.text = xml_text(text)
    back = ET.fromstring(ET.tostring(element, encoding="unicode"))
    assert back.get("a") is not None


def test_files_per_student_and_for_the_batch(tmp_path):
    written = write_junit([ada(), cleo()], tmp_path, ReportOptions())
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == \
        ["junit.xml", "junit/ada.xml", "junit/cleo.xml"]
    batch = ET.parse(tmp_path / "junit.xml").getroot()
    single = ET.parse(tmp_path / "junit" / "cleo.xml").getroot()
    other = ET.parse(tmp_path / "junit" / "ada.xml").getroot()
    assert int(batch.get("tests")) == int(single.get("tests")) + int(other.get("tests"))


def test_timestamp_and_hostname_can_be_fixed():
    root = junit_tree([ada()], timestamp="2025-01-02T03:04:05", hostname="grader")
    assert {s.get("timestamp") for s in root} == {"2025-01-02T03:04:05"} and root[0].get("hostname") == "grader"
