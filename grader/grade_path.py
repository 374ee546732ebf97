"""Grade the one submission at a path: what `grade check`, a student's CI job and Gradescope do.

    path -> discover (exactly one submission) -> the student id given -> grade_submission

A batch discovers many submissions and grades each with `grade_submission`; everything that
grades a single path comes through here, so "not one submission" and "cannot be read" mean the
same everywhere and each caller only decides how to say it.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Optional

from grader.errors import BadSubmissionError
from grader import pipeline
from grader.pipeline import GradingOptions
from grader.results import SubmissionResult
from grader.submission.discover import Submission, discover


class NotOneSubmission(BadSubmissionError):
    """The path holds several submissions (or none): `found` lists them, for the caller's message."""

    def __init__(self, path: Path, found: list[Submission]):
        self.path, self.found = path, found
        super().__init__(f"{path} holds {len(found)} submissions; grade one of them at a time")


def one_submission(path: Path, *, options: GradingOptions, student_id: Optional[str] = None) -> Submission:
    """The single submission at `path`, as the student `student_id` when given.

    Raises BadSubmissionError when nothing at `path` can be graded and NotOneSubmission when it
    holds several. A given id replaces the one from the folder's name entirely: exercise 2's
    personal case is made from it.
    """
    found = discover([Path(path)], layout=options.assignment.layout)
    if len(found) != 1:
        raise NotOneSubmission(Path(path), found)
    submission = found[0]
    if student_id and student_id.strip():
        submission = dataclasses.replace(submission, student=student_id.strip(), name="")
    return submission


def grade_path(path: Path, *, options: GradingOptions, student_id: Optional[str] = None,
               seed_for: Optional[Callable[[Submission], int]] = None) -> SubmissionResult:
    """Grade the one submission at `path` with `options` (the assignment is `options.assignment`).

    `seed_for`: the seed to grade this submission with, computed from it (Gradescope derives one
    per submission); None keeps `options.seed`. Raises as `one_submission` does; once grading
    starts, nothing the student did raises.
    """
    submission = one_submission(path, options=options, student_id=student_id)
    if seed_for is not None:
        options = dataclasses.replace(options, seed=seed_for(submission))
    return pipeline.grade_submission(submission, options)
