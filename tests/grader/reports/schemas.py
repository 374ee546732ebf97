"""The formats' own rules, as their documentation states them, for tests to hold reports against."""
from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

# Gradescope's results.json, as its documentation describes it.
TOP_LEVEL = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
             "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
             "tags", "visibility", "extra_data"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
TEXT_FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def assert_gradescope_schema(data: dict) -> None:
    assert set(data) <= TOP_LEVEL, set(data) - TOP_LEVEL
    assert isinstance(data["score"], (int, float)) and isinstance(data["execution_time"], (int, float))
    assert data["visibility"] in VISIBILITIES and data["stdout_visibility"] in VISIBILITIES
    for key in ("output_format", "test_output_format", "test_name_format"):
        assert data.get(key, "text") in TEXT_FORMATS
    assert isinstance(data["tests"], list)
    for test in data["tests"]:
        assert set(test) <= TEST_KEYS, set(test) - TEST_KEYS
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in VISIBILITIES
        assert test.get("output_format", "text") in TEXT_FORMATS and test.get("name_format", "text") in TEXT_FORMATS
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert 0 <= test["score"] <= test["max_score"]
    json.dumps(data, allow_nan=False)  # strict JSON: no NaN or infinity


# The attributes and children the common (Ant) JUnit schema requires.
SUITE_ATTRIBUTES = {"name", "timestamp", "hostname", "tests", "failures", "errors", "time"}
SUITE_CHILDREN = ("properties", "system-out", "system-err")
CASE_ATTRIBUTES = {"name", "classname", "time"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")  # ISO 8601 without a time zone


def assert_junit_schema(root: ET.Element) -> None:
    assert root.tag == "testsuites"
    for suite in root:
        assert suite.tag == "testsuite"
        assert SUITE_ATTRIBUTES <= set(suite.attrib), SUITE_ATTRIBUTES - set(suite.attrib)
        assert TIMESTAMP.match(suite.get("timestamp"))
        for child in SUITE_CHILDREN:
            assert suite.find(child) is not None, child
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("errors")) == sum(c.find("error") is not None for c in cases)
        for case in cases:
            assert CASE_ATTRIBUTES <= set(case.attrib)
            float(case.get("time"))
            outcomes = [c for c in case if c.tag in ("failure", "error", "skipped")]
            assert len(outcomes) <= 1 and all(o.get("type") for o in outcomes)
    for count in ("tests", "failures", "errors"):
        assert int(root.get(count)) == sum(int(s.get(count)) for s in root)
