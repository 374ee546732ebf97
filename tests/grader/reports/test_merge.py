import dataclasses
import json

import pytest

from grader.reports.formats import ReportError
from grader.reports.json_report import result_to_dict, write_report
from grader.reports.merge import merge_report_folders, read_report_folder
from tests.grader.reports.sample_batch import ada, ben, cleo, dev


def folder(path, *results):
    path.mkdir(parents=True, exist_ok=True)
    for result in results:
        write_report(result, path)
    return path


def test_reports_read_back_and_other_json_is_skipped(tmp_path):
    shard = folder(tmp_path / "a", ada(), cleo())
    (shard / "summary.json").write_text(json.dumps({"schema": "backprop-grader/summary/1"}))
    (shard / "results.json").write_text(json.dumps({"score": 1, "tests": []}))
    (shard / "notes.txt").write_text("not json at all, and not *.json")
    found = read_report_folder(shard)
    assert [p.name for p, _ in found] == ["ada.json", "cleo.json"]
    assert result_to_dict(found[1][1]) == result_to_dict(cleo())


def test_shards_merge_into_one_sorted_class(tmp_path):
    merged = merge_report_folders([folder(tmp_path / "2", cleo(), ben()), folder(tmp_path / "1", ada(), dev())])
    assert [r.student for r in merged.results] == ["ada", "ben", "cleo", "dev"]
    assert merged.sources["ada"] == tmp_path / "1" / "ada.json" and merged.duplicates == []


def test_the_same_submission_twice_is_kept_once(tmp_path):
    regraded = dataclasses.replace(ada(), seed=99, duration_s=9.0)
    merged = merge_report_folders([folder(tmp_path / "1", ada()), folder(tmp_path / "2", regraded)])
    assert [r.student for r in merged.results] == ["ada"] and merged.duplicates == ["ada"]
    assert merged.results[0].seed == ada().seed  # the first folder's report


@pytest.mark.parametrize("first, second", [
    (cleo(), dataclasses.replace(cleo(), sha256="e" * 64)),  # two different submissions
    (dev(), dev()),  # no hash to compare: cannot be shown to be the same
])
def test_a_conflicting_duplicate_is_a_clear_error(tmp_path, first, second):
    with pytest.raises(ReportError, match=f"student '{first.student}' has two different reports"):
        merge_report_folders([folder(tmp_path / "1", first), folder(tmp_path / "2", second)])


def test_a_damaged_report_stops_the_merge_with_its_name(tmp_path):
    shard = folder(tmp_path / "a", ada())
    (shard / "zed.json").write_text("{ half a report")
    with pytest.raises(ReportError, match="zed.json cannot be read as JSON"):
        merge_report_folders([shard])
    data = result_to_dict(cleo())
    del data["submission"]
    (shard / "zed.json").write_text(json.dumps(data))
    with pytest.raises(ReportError, match="zed.json is a damaged report"):
        merge_report_folders([shard])


def test_no_reports_at_all(tmp_path):
    with pytest.raises(ReportError, match="no reports found"):
        merge_report_folders([folder(tmp_path / "empty")])
    with pytest.raises(ReportError, match="not a folder of reports"):
        merge_report_folders([tmp_path / "missing"])
