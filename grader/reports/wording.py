"""The words a student reads for the report's codes: test statuses, diagnoses and error kinds.

A diagnosis is explained by the sentence the checks themselves use (`grader.diagnosis.text`), so
a report and a check's feedback never word one mistake two ways.
"""
from __future__ import annotations

from typing import Optional

STATUS_WORDS: dict[str, str] = {
    "passed": "passed",
    "failed": "wrong answer",
    "error": "your code raised an exception",
    "timeout": "took too long",
    "missing": "not defined",
    "blocked": "used something forbidden",
}

ERROR_WORDS: dict[str, str] = {
    "bad_submission": "the submission could not be read",
    "syntax": "a file has a syntax error",
    "timeout": "the code ran out of time",
    "memory": "the code ran out of memory",
    "crash": "grading crashed",
    "blocked": "the code tried a forbidden import or system call",
}

def status_words(status: str) -> str:
    return STATUS_WORDS.get(status, status)


def error_words(kind: str) -> str:
    return ERROR_WORDS.get(kind, kind)


def explain_diagnosis(code: Optional[str], exercise: Optional[str] = None) -> str:
    """The mistake a diagnosis code names, in words (worded for `exercise` where it has its own).

    "" for no code; the code itself for one this grader does not know (a newer report).
    """
    from grader.diagnosis.text import mistake_text

    if not code:
        return ""
    try:
        return mistake_text(code, exercise)
    except ValueError:
        return code
