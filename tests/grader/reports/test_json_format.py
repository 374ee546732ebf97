import dataclasses
import json

from grader.reports.json_format import write_json
from grader.reports.json_report import read_report, result_to_dict
from grader.reports.options import ReportOptions
from tests.grader.reports.sample_batch import ada, ben, cleo


def test_reports_and_summary_from_results_read_elsewhere(tmp_path):
    shard = dataclasses.replace(cleo(), seed=8, grader_version="0.0.9")
    written = write_json([ada(), ben(), shard], tmp_path, ReportOptions())
    assert [p.name for p in written] == ["ada.json", "ben.json", "cleo.json", "summary.json"]
    assert result_to_dict(read_report(tmp_path / "ben.json")) == result_to_dict(ben())
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["count"] == 3
    assert summary["grader"] == {"version": "0.1.0", "seed": 7, "sandbox": "bwrap"}  # the most common settings


def test_an_empty_class_has_an_empty_summary(tmp_path):
    write_json([], tmp_path, ReportOptions())
    assert json.loads((tmp_path / "summary.json").read_text())["count"] == 0
