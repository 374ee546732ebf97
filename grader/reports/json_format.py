"""The JSON report of record as a format: `DIR/<student>.json` and `DIR/summary.json`.

`grade` writes these as it grades (`batch.py`); this writer makes them again from results read
elsewhere, for `grade report` when it converts or merges folders of reports.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Sequence

from grader.reports.files import checked_student
from grader.reports.json_report import write_json_atomic, write_report
from grader.reports.options import ReportOptions
from grader.reports.summary import summarize
from grader.results import SubmissionResult

SUMMARY_FILE = "summary.json"


def write_json(results: Sequence[SubmissionResult], out_dir: Path, options: ReportOptions) -> list[Path]:
    """`out_dir/<student>.json` for each result and `out_dir/summary.json` over all of them."""
    written = []
    for result in results:
        checked_student(result.student)
        written.append(write_report(result, out_dir))
    # A merged class may come from shards graded apart; the summary names the most common settings.
    version = _most_common([r.grader_version for r in results], "")
    seed = _most_common([r.seed for r in results], 0)
    sandbox = _most_common([r.sandbox for r in results], "none")
    path = Path(out_dir) / SUMMARY_FILE
    write_json_atomic(path, summarize(results, grader_version=version, seed=seed, sandbox=sandbox))
    return written + [path]


def _most_common(values: list, default):
    return Counter(values).most_common(1)[0][0] if values else default
