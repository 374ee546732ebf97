"""The class summary for instructors: `DIR/summary.html`.

From the same numbers as `summary.json` (`summary.summarize`), in the order an instructor looks
for them: the score distribution, a row per student linking to their feedback page when one was
written, the most common diagnoses in words, each exercise's mean, grading problems, and the
pass rate of every test (hardest first, with the diagnosis seen most often on it). Long lists
show their first rows and fold the rest into <details>, so the page stays a few screens tall. With matplotlib (the `instructor` extra) the
distribution and the exercise means are also drawn as inline SVG; without it the page has the
same tables and still renders.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Optional, Sequence

from grader.reports.charts import bars_svg, histogram_svg
from grader.reports.files import checked_student, write_text_atomic
from grader.reports.html_page import esc, meter, page
from grader.reports.options import ReportOptions
from grader.reports.summary import summarize
from grader.reports.wording import error_words, explain_diagnosis
from grader.results import SubmissionResult

SUMMARY_FILE = "summary.html"
FEEDBACK_FOLDER = "feedback"
BINS = 10  # histogram bins of 10 percentage points
HARDEST_SHOWN = 8  # tests listed open; the full list is folded
DIAGNOSES_SHOWN = 5  # diagnoses listed open; the rest are folded
STUDENTS_OPEN = 40  # a larger class's table starts folded


def _percent(score: float, max_score: float) -> float:
    return 100.0 * score / max_score if max_score else 0.0


def score_bins(percents: Sequence[float]) -> list[int]:
    """Counts of scores in [0, 10), [10, 20), ..., [90, 100]; 100 % falls in the last bin."""
    counts = [0] * BINS
    for value in percents:
        counts[min(int(max(value, 0.0) // (100 / BINS)), BINS - 1)] += 1
    return counts


def exercise_means(results: Sequence[SubmissionResult]) -> list[tuple[str, float, float]]:
    """(exercise, mean score, max score) in the order exercises first appear."""
    scores: dict[str, list[float]] = defaultdict(list)
    maxima: dict[str, float] = {}
    for result in results:
        for ex in result.exercises:
            scores[ex.name].append(ex.score)
            maxima[ex.name] = max(maxima.get(ex.name, 0.0), ex.max_score)
    return [(name, statistics.fmean(values), maxima[name]) for name, values in scores.items()]


def pass_rate_rows(results: Sequence[SubmissionResult]) -> list[dict]:
    """Per test: exercise, name, visibility, graded count, pass rate and its most common diagnosis."""
    rows: dict[tuple[str, str], dict] = {}
    for result in results:
        for ex in result.exercises:
            for test in ex.tests:
                row = rows.setdefault((ex.name, test.name), {"exercise": ex.name, "test": test.name,
                                                             "visibility": test.visibility, "graded": 0,
                                                             "passed": 0, "diagnoses": Counter()})
                row["graded"] += 1
                row["passed"] += test.status == "passed"
                if test.diagnosis:
                    row["diagnoses"][test.diagnosis] += 1
    for row in rows.values():
        row["rate"] = row["passed"] / row["graded"]
    return sorted(rows.values(), key=lambda r: (r["rate"], r["exercise"], r["test"]))


def _figure(svg: str | None, caption: str) -> str:
    if svg is None:
        return ""
    return f'<figure>{svg}<figcaption class="muted">{esc(caption)}</figcaption></figure>'


def _distribution(results: Sequence[SubmissionResult], data: dict) -> str:
    percents = [_percent(r.score, r.max_score) for r in results]
    counts = score_bins(percents)
    stats = data["statistics"]
    parts = ['<section aria-labelledby="dist-h"><h2 id="dist-h">Scores</h2>']
    if results:
        top = max(r.max_score for r in results)
        parts.append(f'<p>{len(results)} students. Mean {stats["mean"]:g}, median {stats["median"]:g}, '
                     f'lowest {stats["min"]:g}, highest {stats["max"]:g} (out of {top:g}).</p>')
    figure = _figure(histogram_svg(percents, label="Histogram of the students' scores in percent"),
                     "Students per score band (percent of the maximum).")
    parts.append(figure)
    top = max(counts, default=0) or 1
    rows = "".join(
        f'<tr><th scope="row">{i * 10}–{i * 10 + 9 if i < BINS - 1 else 100} %</th><td class="num">{n}</td>'
        f"<td>{meter(n / top, f'{n} students', small=True)}</td></tr>" for i, n in enumerate(counts))
    table = ('<table><caption class="sr-only">Students per score band</caption><thead><tr>'
             '<th scope="col">Score band</th><th scope="col" class="num">Students</th><th scope="col">'
             f'<span class="sr-only">Bar</span></th></tr></thead><tbody>{rows}</tbody></table>')
    # Beside a chart, the table is its accessible twin, folded away; alone, it is the chart.
    parts.append(f"<details><summary>As a table</summary>{table}</details>" if figure else table)
    parts.append("</section>")
    return "\n".join(parts)


def _exercises(results: Sequence[SubmissionResult]) -> str:
    means = exercise_means(results)
    if not means:
        return ""
    svg = bars_svg([m[0] for m in means], [_percent(m[1], m[2]) for m in means],
                   label="Mean score per exercise in percent", xlabel="mean score (% of the exercise)")
    rows = "".join(f'<tr><th scope="row">{esc(name)}</th><td class="num">{mean:.2f} / {top:g}</td>'
                   f"<td>{meter(mean / top if top else 0, f'{_percent(mean, top):.0f}%', small=True)}"
                   f' {_percent(mean, top):.0f}%</td></tr>' for name, mean, top in means)
    figure = _figure(svg, "Mean score per exercise, in percent of its points.")
    table = ('<table><caption class="sr-only">Mean score per exercise</caption><thead><tr>'
             '<th scope="col">Exercise</th><th scope="col" class="num">Mean</th><th scope="col">Share</th></tr>'
             f"</thead><tbody>{rows}</tbody></table>")
    # As with the distribution: beside the chart, the table is folded away.
    return ('<section aria-labelledby="ex-h"><h2 id="ex-h">Exercises</h2>' + figure
            + (f"<details><summary>As a table</summary>{table}</details>" if figure else table) + "</section>")


def _test_rows(rows: Sequence[dict]) -> str:
    cells = []
    for row in rows:
        common = row["diagnoses"].most_common(1)
        diagnosis = f"<code>{esc(common[0][0])}</code> ×{common[0][1]}" if common else ""
        rate = row["rate"]
        cells.append(f'<tr><td>{esc(row["exercise"])}</td><td><code>{esc(row["test"])}</code></td>'
                     f'<td>{esc(row["visibility"])}</td>'
                     f'<td class="num">{rate:.0%} <span class="muted">({row["passed"]}/{row["graded"]})</span></td>'
                     f"<td>{meter(rate, f'{rate:.0%} passed', small=True)}</td><td>{diagnosis}</td></tr>")
    return ('<div class="scroll"><table><thead><tr><th scope="col">Exercise</th><th scope="col">Test</th>'
            '<th scope="col">Visibility</th><th scope="col" class="num">Passed</th>'
            '<th scope="col"><span class="sr-only">Bar</span></th><th scope="col">Most common diagnosis</th>'
            f"</tr></thead><tbody>{''.join(cells)}</tbody></table></div>")


def _tests(results: Sequence[SubmissionResult]) -> str:
    rows = pass_rate_rows(results)
    hardest = [row for row in rows if row["rate"] < 1.0][:HARDEST_SHOWN]
    lead = (f"<p>The {len(hardest)} hardest of {len(rows)} tests:</p>" + _test_rows(hardest) if hardest
            else f"<p>All {len(rows)} tests passed for every student.</p>")
    return ('<section aria-labelledby="tests-h"><h2 id="tests-h">Pass rate per test</h2>' + lead
            + f"<details><summary>All {len(rows)} tests, hardest first</summary>{_test_rows(rows)}</details>"
              "</section>")


def _diagnoses(results: Sequence[SubmissionResult], data: dict) -> str:
    if not data["diagnoses"]:
        return ('<section aria-labelledby="diag-h"><h2 id="diag-h">Most common diagnoses</h2>'
                "<p>No known mistake was diagnosed.</p></section>")
    where: dict[str, Counter] = defaultdict(Counter)
    students: dict[str, set] = defaultdict(set)
    for result in results:
        for ex in result.exercises:
            for test in ex.tests:
                if test.diagnosis:
                    where[test.diagnosis][(ex.name, test.name)] += 1
                    students[test.diagnosis].add(result.student)
    def table(items: list) -> str:
        rows = "".join(
            f'<tr><th scope="row"><code>{esc(code)}</code></th><td class="wide">{esc(explain_diagnosis(code))}'
            f'<br><span class="muted">Seen most on:</span> '
            f'{"".join(_seen_on(ex, t, n) for (ex, t), n in where[code].most_common(3))}</td>'
            f'<td class="num">{count}</td><td class="num">{len(students[code])}</td></tr>'
            for code, count in items)
        return ('<div class="scroll"><table><thead><tr><th scope="col">Diagnosis</th>'
                '<th scope="col">The mistake, and the tests it was seen on most</th>'
                '<th scope="col" class="num">Tests</th><th scope="col" class="num">Students</th></tr></thead>'
                f'<tbody>{rows}</tbody></table></div>')

    items = list(data["diagnoses"].items())
    rest = items[DIAGNOSES_SHOWN:]
    folded = f"<details><summary>{len(rest)} more diagnoses</summary>{table(rest)}</details>" if rest else ""
    return ('<section aria-labelledby="diag-h"><h2 id="diag-h">Most common diagnoses</h2>'
            + table(items[:DIAGNOSES_SHOWN]) + folded + "</section>")


def _seen_on(exercise: str, test: str, count: int) -> str:
    """One test a diagnosis was seen on, kept on one line: `ex3 backward.gradcheck ×4`."""
    return (f'<span class="pair"><span class="muted">{esc(exercise.split("_", 1)[0])}</span> '
            f"<code>{esc(test)}</code> ×{count}</span>")


def _problems(results: Sequence[SubmissionResult]) -> str:
    kinds = Counter(e.kind for r in results for e in r.errors)
    if not kinds:
        return ""
    rows = "".join(f'<tr><th scope="row"><code>{esc(k)}</code></th><td>{esc(error_words(k))}</td>'
                   f'<td class="num">{n}</td></tr>' for k, n in kinds.most_common())
    return ('<section aria-labelledby="prob-h"><h2 id="prob-h">Grading problems</h2>'
            '<table><thead><tr><th scope="col">Kind</th><th scope="col">Meaning</th>'
            f'<th scope="col" class="num">Count</th></tr></thead><tbody>{rows}</tbody></table></section>')


def _feedback_link(student: str) -> Optional[Path]:
    try:
        return Path(FEEDBACK_FOLDER) / f"{checked_student(student)}.html"
    except ValueError:  # an id that cannot name a file has no feedback page
        return None


def _students(results: Sequence[SubmissionResult], out_dir: Path) -> str:
    exercises = [name for name, _, _ in exercise_means(results)]
    head = "".join(f'<th scope="col" class="num">{esc(name.split("_", 1)[0])}</th>' for name in exercises)
    rows = []
    for result in sorted(results, key=lambda r: r.student):
        name = esc(result.student)
        feedback = _feedback_link(result.student)
        if feedback is not None and (Path(out_dir) / feedback).is_file():
            name = f'<a href="{esc(feedback.as_posix())}">{name}</a>'
        by_name = {ex.name: ex for ex in result.exercises}
        cells = "".join(f'<td class="num">{by_name[e].score:g}</td>' if e in by_name else '<td class="num">–</td>'
                        for e in exercises)
        errors = ", ".join(sorted({e.kind for e in result.errors}))
        rows.append(f'<tr><th scope="row">{name}</th>{cells}'
                    f'<td class="num">{result.score:g} / {result.max_score:g}</td>'
                    f"<td>{esc(errors)}</td></tr>")
    table = (f'<div class="scroll"><table><thead><tr><th scope="col">Student</th>{head}'
             '<th scope="col" class="num">Total</th><th scope="col">Problems</th></tr></thead>'
             f'<tbody>{"".join(rows)}</tbody></table></div>')
    if len(rows) > STUDENTS_OPEN:  # a large class: one click away, so the mistakes stay near the top
        table = f"<details><summary>All {len(rows)} students, by id, with links to their feedback</summary>{table}</details>"
    return '<section aria-labelledby="students-h"><h2 id="students-h">Students</h2>' + table + "</section>"


def assignment_title(name: str) -> str:
    """How the page names the assignment: "Module 2A" for module-2a, else its name."""
    return "Module 2A" if name in ("", "module-2a") else name


def render_class_summary(results: Sequence[SubmissionResult], *, out_dir: Path = Path(".")) -> str:
    """The class summary page; links go to `feedback/<student>.html` files that exist under `out_dir`."""
    results = sorted(results, key=lambda r: r.student)
    first = results[0] if results else None
    data = summarize(results, grader_version=first.grader_version if first else "",
                     seed=first.seed if first else 0, sandbox=first.sandbox if first else "none")
    title = f"Class summary: {assignment_title(first.assignment if first else '')}"
    header = (f"<header><h1>{esc(title)}</h1>"
              f'<p class="muted">{len(results)} submissions graded by backprop-grader '
              f'{esc(first.grader_version if first else "")}'
              + (f", seed {first.seed}, sandbox {esc(first.sandbox)}" if first else "") + ".</p></header>")
    if not results:
        return page("Class summary", header + "<p>No submissions graded.</p>")
    body = [header, _distribution(results, data), _students(results, out_dir), _diagnoses(results, data),
            _exercises(results), _problems(results), _tests(results)]
    return page(title, "\n".join(part for part in body if part))


def write_class_summary(results: Sequence[SubmissionResult], out_dir: Path, options: ReportOptions) -> list[Path]:
    """`out_dir/summary.html`."""
    return [write_text_atomic(Path(out_dir) / SUMMARY_FILE, render_class_summary(results, out_dir=out_dir))]
