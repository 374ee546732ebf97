"""The report formats by name, and the one function that writes a chosen set of them.

Every format is a writer `(results, out_dir, options) -> [paths written]` over the same
`SubmissionResult`s that the JSON report of record holds, so any format can be made again later
from a folder of JSON reports (`grade report DIR --format ...`). Writers are imported only when
used: the optional ones (nbgrader, matplotlib) cost nothing unless asked for.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from grader.errors import GraderError
from grader.reports.files import checked_student
from grader.reports.json_report import result_to_dict
from grader.reports.options import ReportOptions
from grader.results import SubmissionResult, capped_result

Writer = Callable[[Sequence[SubmissionResult], Path, ReportOptions], list[Path]]


class ReportError(GraderError):
    """A report cannot be written as asked (a missing option or optional package); says what to do."""


@dataclass(frozen=True)
class ReportFormat:
    name: str
    writes: str  # what it writes, for --help and the docs
    module: str
    function: str
    package: str = ""  # an optional package it needs ("" for none)
    option: str = ""  # a ReportOptions field it cannot do without, with the flag that sets it


    def writer(self) -> Writer:
        return getattr(importlib.import_module(self.module), self.function)


# In the order they are written: feedback pages come before the class summary that links to them.
FORMATS: dict[str, ReportFormat] = {f.name: f for f in (
    ReportFormat("json", "DIR/<student>.json and DIR/summary.json (always written)",
                 "grader.reports.json_format", "write_json"),
    ReportFormat("gradescope", "DIR/gradescope/<student>.json (and DIR/results.json for one submission)",
                 "grader.reports.gradescope", "write_gradescope"),
    ReportFormat("junit", "DIR/junit/<student>.xml and DIR/junit.xml", "grader.reports.junit", "write_junit"),
    ReportFormat("csv", "DIR/grades.csv and DIR/nbgrader_export.csv", "grader.reports.csv_report", "write_csv"),
    ReportFormat("md", "DIR/feedback/<student>.md", "grader.reports.feedback_markdown", "write_markdown"),
    ReportFormat("html", "DIR/feedback/<student>.html", "grader.reports.feedback_html", "write_html"),
    ReportFormat("summary-html", "DIR/summary.html", "grader.reports.class_summary", "write_class_summary"),
    ReportFormat("gradebook", "scores into an nbgrader gradebook (needs --gradebook)",
                 "grader.reports.nbgrader_gradebook", "write_nbgrader_gradebook",
                 package="nbgrader", option="gradebook"),
)}

FORMAT_NAMES: tuple[str, ...] = tuple(FORMATS)


def chosen_formats(names: Iterable[str], *, with_json: bool = True) -> list[str]:
    """`names` in the registry's order, without repeats, json first when `with_json`.

    Raises ReportError for an unknown name.
    """
    wanted = set(names) | ({"json"} if with_json else set())
    unknown = sorted(wanted - set(FORMATS))
    if unknown:
        raise ReportError(f"unknown report format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    return [name for name in FORMATS if name in wanted]


def check_formats(names: Iterable[str], options: ReportOptions) -> list[str]:
    """The chosen formats, once each can be written; ReportError says what is missing, before any grading."""
    chosen = chosen_formats(names, with_json=False)
    for name in chosen:
        fmt = FORMATS[name]
        if fmt.option and not getattr(options, fmt.option):
            raise ReportError(f"the {name} format needs --{fmt.option}: {fmt.writes}")
        if fmt.package and importlib.util.find_spec(fmt.package) is None:
            raise ReportError(f"the {name} format needs the {fmt.package} package: "
                              f"pip install 'backprop-grader[instructor]'")
    return chosen


def unwritable(result: SubmissionResult) -> str:
    """Why no format can be written for `result` (an id that is not a file name, a value JSON
    cannot hold), or "" when every format can."""
    try:
        checked_student(result.student)
        json.dumps(result_to_dict(result), allow_nan=False)
    except (ValueError, TypeError) as exc:
        return str(exc)
    return ""


def writable_results(results: Sequence[SubmissionResult]) -> tuple[list[SubmissionResult], dict[str, str]]:
    """The results every format can write, capped (see `capped_result`), sorted by student; and
    student -> why, for those left out, so one bad report never stops the files of the class."""
    kept, left_out = [], {}
    for result in sorted(results, key=lambda r: r.student):
        why = unwritable(result)
        if why:
            left_out[result.student] = why
        else:
            kept.append(capped_result(result))
    return kept, left_out


def write_formats(names: Iterable[str], results: Sequence[SubmissionResult], out_dir: Path,
                  options: ReportOptions = ReportOptions(), *, with_json: bool = True) -> dict[str, list[Path]]:
    """Write each chosen format of `results` into `out_dir`; returns the paths written per format.

    A result no format can hold (see `unwritable`) is left out of every format, the others are
    written; `writable_results` names who was left out and why.
    """
    results, _ = writable_results(results)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return {name: FORMATS[name].writer()(results, out_dir, options)
            for name in chosen_formats(names, with_json=with_json)}
