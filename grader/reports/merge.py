"""Folders of JSON reports read back, and merged into one class (shards graded on different machines).

A report folder holds `<student>.json` files in the contract's schema beside files that are not
reports (`summary.json`, Gradescope's `results.json`): those are recognised by their schema and
skipped. A file that should be a report but cannot be read stops the merge with its name,
because skipping it would drop a student from the grades without a word.

The same student in two folders is an error, unless both reports graded the same bytes (equal,
non-empty sha256): then it is one submission graded twice, and the first folder's report is kept.

Reports graded with different seeds are not merged: their students met different hidden inputs,
and the class summary names one seed. Regrade the shards with one `--seed S` instead.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from grader.reports.formats import ReportError
from grader.reports.json_report import SCHEMA, result_from_dict
from grader.results import SubmissionResult


@dataclass
class MergedReports:
    results: list[SubmissionResult] = field(default_factory=list)
    sources: dict[str, Path] = field(default_factory=dict)  # student -> the report file kept
    duplicates: list[str] = field(default_factory=list)  # students graded identically in two folders


def read_report_folder(folder: Path) -> list[tuple[Path, SubmissionResult]]:
    """Every report directly in `folder`, by file name."""
    found = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ReportError(f"{path} cannot be read as JSON ({exc}); fix or remove it and run again") from None
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            continue  # summary.json, results.json, anything else: not a student's report
        try:
            found.append((path, result_from_dict(data)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ReportError(f"{path} is a damaged report (missing or wrong field: {exc}); "
                              "grade that student again") from None
    return found


def merge_report_folders(folders: Iterable[Path]) -> MergedReports:
    """All students of `folders`, each once; ReportError on a conflicting duplicate or no reports."""
    merged = MergedReports()
    kept: dict[str, SubmissionResult] = {}
    folders = [Path(f) for f in folders]
    for folder in folders:
        if not folder.is_dir():
            raise ReportError(f"{folder} is not a folder of reports")
        for path, result in read_report_folder(folder):
            earlier = kept.get(result.student)
            if earlier is None:
                kept[result.student] = result
                merged.sources[result.student] = path
            elif earlier.sha256 and earlier.sha256 == result.sha256:
                merged.duplicates.append(result.student)
            else:
                raise ReportError(
                    f"student {result.student!r} has two different reports: {merged.sources[result.student]} "
                    f"and {path} (their submissions differ). Remove the one that should not count, or grade "
                    "the student again into one folder, then merge.")
    if not kept:
        raise ReportError(f"no reports found in {', '.join(str(f) for f in folders)}: expected <student>.json "
                          "files written by `grade`")
    mixed = seed_conflict(kept.values(), merged.sources)
    if mixed:
        raise ReportError(mixed)
    merged.results = sorted(kept.values(), key=lambda r: r.student)
    return merged


def seed_conflict(results: Iterable[SubmissionResult], sources: dict[str, Path]) -> str:
    """"" when all `results` share one seed; else what to do, naming each seed and where it is."""
    by_seed: dict[int, list[str]] = {}
    for result in results:
        by_seed.setdefault(result.seed, []).append(result.student)
    if len(by_seed) <= 1:
        return ""
    where = "; ".join(
        f"seed {seed}: {len(students)} report(s), e.g. {sources[sorted(students)[0]]}"
        for seed, students in sorted(by_seed.items()))
    return (f"these reports were graded with {len(by_seed)} different seeds ({where}), so their students met "
            "different hidden inputs. Grade every shard with the same --seed S (e.g. `grade submitted/ "
            "--shard K/N --seed S --out grades-K`, --force to regrade), then merge.")
