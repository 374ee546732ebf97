"""Per-student feedback as one self-contained HTML page: `DIR/feedback/<student>.html`.

The same content as the Markdown page (`feedback_model.py`), laid out to be read: an overview
table, then per exercise each check that did not pass, with its feedback, the diagnosis in words
and the hint; passed checks and hidden checks fold away under <details>. Hidden checks show
name and points only unless `ReportOptions.show_hidden`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from grader.reports.feedback_model import ExerciseView, FeedbackView, feedback_view
from grader.reports.files import student_path, write_text_atomic
from grader.reports.html_page import anchor, esc, meter, page
from grader.reports.options import ReportOptions
from grader.reports.redaction import TestView
from grader.results import SubmissionResult

FOLDER = "feedback"


def _points(score: float, max_score: float) -> str:
    return f"{score:g} / {max_score:g}"


def _check(view: TestView) -> str:
    parts = [f'<article class="check" aria-label="{esc(view.name)}: {esc(view.status_text)}">',
             f'<h4><span class="badge">{esc(view.status_text.capitalize())}</span> <code>{esc(view.name)}</code> '
             f'<span class="pts">{_points(view.score, view.max_score)} points</span>'
             + (' <span class="muted">(hidden check)</span>' if view.hidden else "") + "</h4>"]
    if view.feedback:
        parts.append(f'<p class="feedback">{esc(view.feedback.strip())}</p>')
    if view.explanation:
        parts.append(f'<p class="diagnosis"><strong>Likely mistake</strong> (<code>{esc(view.diagnosis)}</code>): '
                     f"{esc(view.explanation)}</p>")
    if view.hint:
        parts.append(f'<p class="hint"><strong>Hint:</strong> {esc(view.hint)}</p>')
    parts.append("</article>")
    return "\n".join(parts)


def _exercise(ex: ExerciseView) -> str:
    head = (f'<section id="{anchor(ex.name)}" aria-labelledby="{anchor(ex.name)}-h">\n'
            f'<h2 id="{anchor(ex.name)}-h"><span>{esc(ex.name)}</span> '
            f'<span class="pts">{_points(ex.score, ex.max_score)}</span></h2>')
    if ex.unreadable:
        notes = "".join(f'\n<p class="note">Handed in, but it cannot be read: {esc(message)}</p>'
                        for message in ex.unreadable)
        return head + notes + "\n</section>"
    if ex.source is None:
        return (head + f'\n<p class="note">Not found in the submission: name the file '
                f"<code>{esc(ex.name)}.ipynb</code> or <code>{esc(ex.name)}.py</code>.</p>\n</section>")
    parts = [head, f"<p>Graded <code>{esc(ex.source)}</code>: {ex.passed} of {ex.checks} checks passed.</p>"]
    parts += [f'<p class="note">{esc(note)}</p>' for note in ex.notes]
    if ex.problems:
        parts.append('<h3 class="sr-only">Checks that did not pass</h3>')
        parts += [_check(view) for view in ex.problems]
    if ex.passed_names:
        items = "".join(f"<li><code>{esc(name)}</code></li>" for name in ex.passed_names)
        parts.append(f'<details><summary>Passed checks ({len(ex.passed_names)})</summary>'
                     f'<ul class="names">{items}</ul></details>')
    if ex.hidden:
        rows = "".join(f'<tr><td><code>{esc(v.name)}</code></td>'
                       f'<td class="num">{_points(v.score, v.max_score)}</td></tr>' for v in ex.hidden)
        parts.append(f"<details><summary>Hidden checks: {ex.hidden_passed} of {len(ex.hidden)} passed, "
                     f"{_points(ex.hidden_score, ex.hidden_max)} points</summary>"
                     "<p class=\"muted\">Their details are not shared with students.</p>"
                     '<table><thead><tr><th scope="col">Check</th><th scope="col" class="num">Points</th></tr></thead>'
                     f"<tbody>{rows}</tbody></table></details>")
    parts.append("</section>")
    return "\n".join(parts)


def _overview(view: FeedbackView) -> str:
    rows = []
    for ex in view.exercises:
        label = f'<a href="#{anchor(ex.name)}">{esc(ex.name)}</a>'
        label += f' <span class="muted">({ex.absence})</span>' if ex.absence else ""
        fraction = ex.score / ex.max_score if ex.max_score else 0.0
        rows.append(f'<tr><th scope="row">{label}</th><td class="num">{_points(ex.score, ex.max_score)}</td>'
                    f'<td>{meter(fraction, f"{fraction:.0%} of the points", small=True)}</td>'
                    f'<td class="num">{ex.passed} / {ex.checks}</td></tr>')
    return ('<table><caption class="sr-only">Score per exercise</caption><thead><tr>'
            '<th scope="col">Exercise</th><th scope="col" class="num">Score</th><th scope="col">Share</th>'
            '<th scope="col" class="num">Checks passed</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def render_html(view: FeedbackView) -> str:
    """The feedback page for one student as a complete HTML document."""
    body = [f"<header><h1>Feedback for {esc(view.student)}</h1>",
            f'<p class="total">Score <strong>{_points(view.score, view.max_score)}</strong> ({view.percent:.0f}%)</p>',
            meter(view.percent / 100, f"{view.percent:.0f}% of the points"), "</header>",
            '<section aria-labelledby="overview-h"><h2 id="overview-h">Overview</h2>', _overview(view), "</section>"]
    if view.problems:
        body.append('<section aria-labelledby="problems-h"><h2 id="problems-h">Problems while grading</h2>'
                    + "".join(f'<p class="note">{esc(p)}</p>' for p in view.problems) + "</section>")
    body += [_exercise(ex) for ex in view.exercises]
    if view.warnings:
        body.append('<section aria-labelledby="notes-h"><h2 id="notes-h">Notes</h2><ul>'
                    + "".join(f"<li>{esc(w)}</li>" for w in view.warnings) + "</ul></section>")
    body.append(f"<footer>Graded by backprop-grader {esc(view.grader_version)}.</footer>")
    return page(f"Feedback for {view.student}", "\n".join(body))


def write_html(results: Sequence[SubmissionResult], out_dir: Path, options: ReportOptions) -> list[Path]:
    """`out_dir/feedback/<student>.html` for each student."""
    return [write_text_atomic(student_path(out_dir, FOLDER, r.student, ".html"),
                              render_html(feedback_view(r, show_hidden=options.show_hidden)))
            for r in results]
