"""Hidden inputs stay hidden: nothing the hidden checks send reaches what a student reads.

A hostile submission remembers every argument its exercise-1 functions were called with (in a
module-level list shared through `builtins`, and in a file in the sandbox's temp folder) and
raises exceptions carrying them from exercise 3 (as feedback) and exercise 6 (as MemoryError,
so they also become report `errors`). Graded for real, with hidden checks, in the sandbox.

The hidden inputs are taken from the grader's side: the requests the checks of hidden tests
sent, recorded as they pass through `CheckContext` (the worker and its sandbox are real).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pytest

from grader.checks.base import CheckContext
from grader.checks.registry import checks_for, rubric_for
from grader.reports.feedback_markdown import render_markdown
from grader.reports.feedback_model import feedback_view
from grader.reports.gradescope import gradescope_results
from grader.results import SubmissionResult
from grader.submission.exercises import EXERCISES
from tests.grader.hostile.submissions import (
    EX1,
    EX3,
    EX6,
    REPO,
    append_code,
    exercises_of,
    full_marks,
    grade_folder,
    grading_options,
    solved_folder,
)

RUBRICS = REPO / "grader" / "rubric"
VALUES_PER_ARGUMENT = 8  # how many numbers of each argument the hostile code keeps, and the test compares
FLOAT_TOKEN = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")

# Shared by the three modules below: where the arguments are kept, and how they are written.
STORE = '''
import builtins as _builtins
import os as _os

import numpy as _np

_SEEN_FILE = _os.path.join(_os.environ.get("TMPDIR", "/tmp"), "seen_arguments.txt")


def _tokens(values):
    found = []
    for value in values:
        try:
            flat = _np.asarray(value, dtype=float).ravel()[:%d]
        except Exception:
            continue
        found += [repr(float(v)) for v in flat]
    return found


def _seen():
    seen = list(_builtins.__dict__.setdefault("seen_arguments", []))
    try:
        with open(_SEEN_FILE) as file:
            seen += [t for t in file.read().split() if t not in seen]
    except OSError:
        pass
    return seen
''' % VALUES_PER_ARGUMENT

RECORDER = STORE + '''

def _recording(function):
    def recorded(*args, **kwargs):
        seen = _builtins.__dict__.setdefault("seen_arguments", [])
        new = [t for t in _tokens([*args, *kwargs.values()]) if t not in seen]
        seen.extend(new)
        try:
            with open(_SEEN_FILE, "a") as file:
                file.write("\\n".join(new) + "\\n")
        except OSError:
            pass
        return function(*args, **kwargs)
    return recorded


for _name, _value in list(globals().items()):
    if callable(_value) and not _name.startswith("_") and getattr(_value, "__module__", None) == __name__:
        globals()[_name] = _recording(_value)
'''

LEAKER = STORE + '''

def _leak(kind):
    """Raise `kind` carrying up to 90 remembered numbers, a different slice each call."""
    seen = _seen()
    calls = _builtins.__dict__["leak_calls"] = _builtins.__dict__.get("leak_calls", 0) + 1
    start = (calls * 90) % max(len(seen), 1)
    raise kind("seen: " + " ".join((seen[start:] + seen[:start])[:90]))
'''

EX3_LEAKS = LEAKER + '''

def init_params(*args, **kwargs):
    _leak(RuntimeError)


def forward(*args, **kwargs):
    _leak(RuntimeError)


def backward(*args, **kwargs):
    _leak(RuntimeError)
'''

EX6_LEAKS = LEAKER + '''

def sgd_step(*args, **kwargs):
    _leak(MemoryError)


def train(*args, **kwargs):
    _leak(MemoryError)
'''


def tokens(values: Iterable[Any]) -> set[str]:
    """The numbers of `values` as the hostile code writes them (repr of each float)."""
    found: set[str] = set()
    for value in values:
        try:
            flat = np.asarray(value, dtype=float).ravel()[:VALUES_PER_ARGUMENT]
        except (TypeError, ValueError):
            continue
        found |= {repr(float(v)) for v in flat}
    return found


def request_values(header: dict) -> list[Any]:
    return [*header.get("args", []), *header.get("kwargs", {}).values()] if header.get("op") == "call" else []


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, str, dict]]:
    """(exercise, test, header) of every request a check sends, recorded on the grader's side."""
    requests: list[tuple[str, str, dict]] = []
    send, send_all = CheckContext._send, CheckContext._send_all

    def recorded_send(self, header, timeout):
        requests.append((self.exercise, self.test_name, header))
        return send(self, header, timeout)

    def recorded_send_all(self, headers, timeout):
        requests.extend((self.exercise, self.test_name, header) for header in headers)
        return send_all(self, headers, timeout)

    monkeypatch.setattr(CheckContext, "_send", recorded_send)
    monkeypatch.setattr(CheckContext, "_send_all", recorded_send_all)
    return requests


def hidden_and_visible_inputs(sent: list[tuple[str, str, dict]], exercise: str) -> tuple[set[str], set[str]]:
    """Distinctive numbers (ten characters or more) sent only by hidden tests of `exercise`, and
    those sent by its visible tests."""
    tests = rubric_for(exercise).tests
    hidden: set[str] = set()
    visible: set[str] = set()
    for ex, test, header in sent:
        if ex == exercise:
            (hidden if tests[test].visibility == "hidden" else visible).update(tokens(request_values(header)))
    return {t for t in hidden - visible if len(t) >= 10}, visible


def student_texts(result: SubmissionResult) -> dict[str, str]:
    """Everything a student reads of `result`: visible tests' feedback, the Markdown page, Gradescope."""
    visible = [t.feedback for ex in result.exercises for t in ex.tests if t.visibility != "hidden"]
    return {"visible feedback": "\n".join(visible),
            "markdown": render_markdown(feedback_view(result, show_hidden=False)),
            "gradescope": json.dumps(gradescope_results(result, show_hidden=False))}


def hostile_folder(root: Path) -> Path:
    folder = solved_folder(root, "s301")
    append_code(folder, EX1, RECORDER)
    append_code(folder, EX3, EX3_LEAKS)
    append_code(folder, EX6, EX6_LEAKS)
    return folder


@pytest.fixture
def hostile(tmp_path, sent) -> tuple[SubmissionResult, set[str], set[str]]:
    result = grade_folder(hostile_folder(tmp_path), grading_options(timeout=5.0))
    hidden, visible = hidden_and_visible_inputs(sent, EX1)
    return result, hidden, visible


def test_remembered_arguments_never_carry_a_hidden_input_into_what_students_read(hostile):
    result, hidden, visible = hostile
    assert len(hidden) >= 20  # the hidden checks of exercise 1 did send inputs of their own
    # the channel works: exercise 3's visible feedback does carry remembered (visible) arguments
    ex3_visible = [t.feedback for t in exercises_of(result)[EX3].tests if t.visibility == "visible"]
    assert set(FLOAT_TOKEN.findall("\n".join(ex3_visible))) & visible
    for where, text in student_texts(result).items():
        leaked = set(FLOAT_TOKEN.findall(text)) & hidden
        assert not leaked, f"{len(leaked)} hidden inputs in the student's {where}"
    assert full_marks(exercises_of(result)[EX1])  # recording the arguments changed no answer


def test_the_report_keeps_the_rubric_order_of_every_exercise(hostile):
    result, _, _ = hostile
    for exercise in result.exercises:
        _, checks = checks_for(exercise.name, hidden=True)
        assert [t.name for t in exercise.tests] == [c.name for c in checks]


def all_hidden_rubrics(target: Path, exercise: str) -> Path:
    """The installed rubrics, copied to `target`, with every test of `exercise` made hidden."""
    target.mkdir()
    for stem in EXERCISES:
        text = (RUBRICS / f"{stem}.toml").read_text("utf-8")
        if stem == exercise:
            text = text.replace('visibility = "visible"', 'visibility = "hidden"')
        (target / f"{stem}.toml").write_text(text, encoding="utf-8")
    return target


def test_an_event_raised_in_a_hidden_check_keeps_its_kind_but_not_the_workers_words(tmp_path, sent):
    # exercise 6 entirely hidden: its MemoryError, carrying hidden inputs of exercise 1, is the
    # first event of its kind there, so its message is the one the report would keep
    rubrics = all_hidden_rubrics(tmp_path / "rubrics", EX6)
    result = grade_folder(hostile_folder(tmp_path), grading_options(timeout=5.0, rubric_dir=rubrics))
    hidden, _ = hidden_and_visible_inputs(sent, EX1)
    assert len(hidden) >= 20
    assert [e.kind for e in result.errors if e.exercise == EX6] == ["memory"]
    assert all(not set(FLOAT_TOKEN.findall(e.message)) & hidden for e in result.errors)
    for where, text in student_texts(result).items():
        leaked = set(FLOAT_TOKEN.findall(text)) & hidden
        assert not leaked, f"{len(leaked)} hidden inputs in the student's {where}"
