"""Per-student feedback as Markdown: `DIR/feedback/<student>.md`.

What a student reads: the score per exercise, then each check that did not pass with its
feedback, the diagnosis in words and the hint. By default (the student's view) hidden checks
appear by name and points only; `ReportOptions.show_hidden` shows them in full.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from grader.reports.feedback_model import ExerciseView, FeedbackView, feedback_view
from grader.reports.files import student_path, write_text_atomic
from grader.reports.markdown_text import md_block, md_code, md_escape
from grader.reports.options import ReportOptions
from grader.reports.redaction import TestView
from grader.results import SubmissionResult

FOLDER = "feedback"


def _points(score: float, max_score: float) -> str:
    return f"{score:g} / {max_score:g}"


def _problem(view: TestView) -> list[str]:
    points = _points(view.score, view.max_score)
    lines = [f"### ✗ {md_code(view.name)}: {md_escape(view.status_text)} ({points} points)", ""]
    if view.hidden:
        lines += ["*(a hidden check)*", ""]
    if view.feedback:
        lines += [md_block(view.feedback), ""]
    if view.explanation:
        lines += [f"**Likely mistake** ({md_code(view.diagnosis)}): {md_escape(view.explanation)}", ""]
    if view.hint:
        lines += [f"**Hint:** {md_escape(view.hint)}", ""]
    return lines


def _exercise(ex: ExerciseView) -> list[str]:
    lines = [f"## {ex.name}: {_points(ex.score, ex.max_score)}", ""]
    if ex.unreadable:
        return lines + [f"Handed in, but it cannot be read: {md_escape(message)}" for message in ex.unreadable] + [""]
    if ex.source is None:
        notebook, module = md_code(f"{ex.name}.ipynb"), md_code(f"{ex.name}.py")
        return lines + [f"Not found in the submission: name the file {notebook} or {module}.", ""]
    lines += [f"Graded {md_code(ex.source)}: {ex.passed} of {ex.checks} checks passed.", ""]
    for note in ex.notes:
        lines += [f"> {md_escape(note)}", ""]
    for view in ex.problems:
        lines += _problem(view)
    if ex.passed_names:
        lines += ["Passed: " + ", ".join(md_code(name) for name in ex.passed_names), ""]
    if ex.hidden:
        lines += [f"Hidden checks: {ex.hidden_passed} of {len(ex.hidden)} passed, "
                  f"{_points(ex.hidden_score, ex.hidden_max)} points. Their details are not shared.", ""]
        lines += [f"- {md_code(v.name)}: {_points(v.score, v.max_score)}" for v in ex.hidden] + [""]
    return lines


def render_markdown(view: FeedbackView) -> str:
    """The feedback page for one student as Markdown."""
    lines = [f"# Feedback for {md_escape(view.student)}", "",
             f"**Score: {_points(view.score, view.max_score)}** ({view.percent:.0f}%)", "",
             "| Exercise | Score | Checks passed |", "|---|---:|---:|"]
    for ex in view.exercises:
        found = ex.name if ex.source is not None else f"{ex.name} ({ex.absence})"
        lines.append(f"| {found} | {_points(ex.score, ex.max_score)} | {ex.passed} / {ex.checks} |")
    lines.append("")
    if view.problems:
        lines += ["## Problems while grading", ""] + [f"- {md_escape(p)}" for p in view.problems] + [""]
    for ex in view.exercises:
        lines += _exercise(ex)
    if view.warnings:
        lines += ["## Notes", ""] + [f"- {md_escape(w)}" for w in view.warnings] + [""]
    lines += ["---", "", f"Graded by backprop-grader {md_escape(view.grader_version)}."]
    return "\n".join(lines) + "\n"


def write_markdown(results: Sequence[SubmissionResult], out_dir: Path, options: ReportOptions) -> list[Path]:
    """`out_dir/feedback/<student>.md` for each student."""
    return [write_text_atomic(student_path(out_dir, FOLDER, r.student, ".md"),
                              render_markdown(feedback_view(r, show_hidden=options.show_hidden)))
            for r in results]
