"""What a reader may see of one test: everything (instructor) or, for hidden tests, name and points.

Hidden tests' feedback can quote the hidden inputs and expected values, so a student's files
(Markdown, HTML, JUnit, Gradescope) never carry it unless the instructor asks for it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Optional

from grader.reports.wording import explain_diagnosis, status_words
from grader.results import TestResult

HIDDEN_NOTE = "Hidden check: its details are not shared with students."


@dataclass(frozen=True)
class TestView:
    """One test as a given reader sees it. Redacted views have empty feedback, diagnosis and hint."""

    __test__ = False  # not a pytest class

    name: str
    status: str
    score: float
    max_score: float
    hidden: bool
    redacted: bool
    feedback: str = ""
    diagnosis: str = ""  # the code, e.g. "sign_flipped"
    explanation: str = ""  # the code in words
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def status_text(self) -> str:
        if self.status == "failed" and 0 < self.score < self.max_score:
            return "partly right"
        return status_words(self.status)


def view_test(test: TestResult, *, show_hidden: bool, exercise: Optional[str] = None) -> TestView:
    """`test` (of `exercise`) as seen by the instructor (`show_hidden`) or by the student.

    The diagnosis' sentence is left out when the feedback already ends with it, as the checks'
    feedback usually does.
    """
    hidden = test.visibility == "hidden"
    if hidden and not show_hidden:
        return TestView(test.name, test.status, test.score, test.max_score, hidden=True, redacted=True)
    explanation = explain_diagnosis(test.diagnosis, exercise)
    if explanation and explanation in test.feedback:
        explanation = ""
    return TestView(test.name, test.status, test.score, test.max_score, hidden=hidden, redacted=False,
                    feedback=test.feedback, diagnosis=test.diagnosis or "", explanation=explanation,
                    hint=test.hint)


# An absolute path in a message: a slash that starts a word, then path characters. "1/B" and
# "a / b" are not paths (a word character before the slash, or a space after it).
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~])/(?:[^\s'\"/:,;()]+/)*[^\s'\"/:,;()]+")


def _shown_path(found: str, roots: tuple[str, ...]) -> str:
    for root in roots:
        if found == root:
            return PurePosixPath(root).name or "the submission"
        if found.startswith(root + "/"):
            return found[len(root) + 1:]
    return PurePosixPath(found).name


def without_host_paths(text: str, submission: Optional[Path] = None) -> str:
    """`text` with every absolute path of the grading machine cut down: a path inside the
    `submission` to its part relative to it, any other to its last component, so a message
    names what the student can find in what they submitted and nothing of the host."""
    roots: tuple[str, ...] = ()
    if submission is not None:
        roots = tuple(sorted({str(Path(submission).absolute()), str(Path(submission).resolve())},
                             key=len, reverse=True))
    return _ABSOLUTE_PATH.sub(lambda m: _shown_path(m.group(0), roots), text)
