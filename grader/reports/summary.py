"""The class summary: `DIR/summary.json` and the table printed after a batch."""
from __future__ import annotations

import statistics
from collections import Counter
from typing import Any, Iterable

from grader.results import SubmissionResult

SUMMARY_SCHEMA = "backprop-grader/summary/1"


def summarize(results: Iterable[SubmissionResult], *, grader_version: str, seed: int,
              sandbox: str) -> dict[str, Any]:
    results = sorted(results, key=lambda r: r.student)
    scores = [r.score for r in results]
    diagnoses = Counter(t.diagnosis for r in results for ex in r.exercises for t in ex.tests if t.diagnosis)
    passed: Counter = Counter()
    total: Counter = Counter()
    for r in results:
        for ex in r.exercises:
            for t in ex.tests:
                key = f"{ex.name}/{t.name}"
                total[key] += 1
                passed[key] += t.status == "passed"
    return {
        "schema": SUMMARY_SCHEMA,
        "grader": {"version": grader_version, "seed": seed, "sandbox": sandbox},
        "count": len(results),
        "students": [
            {"student": r.student, "score": r.score, "max_score": r.max_score, "report": f"{r.student}.json",
             "seed": r.seed, "sha256": r.sha256, "errors": [e.kind for e in r.errors],
             "exercises": {ex.name: ex.score for ex in r.exercises}}
            for r in results
        ],
        "statistics": {
            "mean": round(statistics.fmean(scores), 3) if scores else None,
            "median": round(statistics.median(scores), 3) if scores else None,
            "min": min(scores) if scores else None,
            "max": max(scores) if scores else None,
        },
        "pass_rate": {key: round(passed[key] / total[key], 4) for key in sorted(total)},
        "diagnoses": dict(diagnoses.most_common()),
    }


def short_names(names: list[str]) -> list[str]:
    """Column heads: each name's first `_`-separated part (ex3_mlp_backprop -> ex3), or as many
    parts as it takes to tell the names apart (a1_forward, a1_gradients stay whole)."""
    for parts in range(1, max((n.count("_") + 1 for n in names), default=1) + 1):
        heads = ["_".join(n.split("_")[:parts]) for n in names]
        if len(set(heads)) == len(heads):
            return heads
    return list(names)


def unreadable(result: SubmissionResult) -> dict[str, str]:
    """Exercises handed in as a file that cannot be read (no source graded, a bad_submission
    event for it): exercise -> the message saying what is wrong and how to fix it."""
    graded = {ex.name for ex in result.exercises if ex.source is not None}
    return {e.exercise: e.message for e in result.errors
            if e.kind == "bad_submission" and e.exercise and e.exercise not in graded}


def unreadable_lines(results: Iterable[SubmissionResult], limit: int = 10) -> list[str]:
    """One terminal line per unreadable file, at most `limit` of them and a count of the rest."""
    lines = [f"{r.student}: {message}" for r in sorted(results, key=lambda r: r.student)
             for message in unreadable(r).values()]
    return lines[:limit] + ([f"... and {len(lines) - limit} more (see the reports' errors)"] if len(lines) > limit else [])


def summary_table(results: Iterable[SubmissionResult]) -> str:
    """A plain-text table: one row per student, a column per exercise, the total and any errors."""
    results = sorted(results, key=lambda r: r.student)
    if not results:
        return "No submissions graded."
    exercises = [ex.name for ex in results[0].exercises]
    header = ["student", *short_names(exercises), "total", "errors"]
    rows = []
    for r in results:
        by_name = {ex.name: ex for ex in r.exercises}
        broken = unreadable(r)
        cells = [f"{by_name[e].score:g}/{by_name[e].max_score:g}" + (" unreadable" if e in broken else "")
                 if e in by_name else "-" for e in exercises]
        kinds = Counter(e.kind for e in r.errors)
        errs = ", ".join(f"{k}" + (f" x{n}" if n > 1 else "") for k, n in sorted(kinds.items())) or ""
        rows.append([r.student, *cells, f"{r.score:g}/{r.max_score:g}", errs])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    fmt = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *[fmt(r) for r in rows]])
