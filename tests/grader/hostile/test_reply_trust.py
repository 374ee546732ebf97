"""Every reply from the worker is harmless: graded end to end through the real sandbox.

- A student whose code finds the worker's request handler on the call stack and makes it send
  forged replies (a failure with event NaN, kind "grader" with a message blaming the grader, an
  unknown event, cell errors holding NaN) costs only its own tests: the batch writes both
  reports and the honest student in it keeps full marks.
- A student function that returns ~480 MB of zeros is refused at the reply's header: the
  grader's peak memory stays within REPLY_FLOOR_BYTES (and decoding slack) of an honest run's.
- Integers beyond float range are the student's wrong answer, not the grader's fault.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from grader.batch import grade_batch
from grader.worker.client import REPLY_FLOOR_BYTES
from tests.grader.hostile.submissions import (
    EX1,
    EX2,
    REPO,
    append_code,
    exercises_of,
    full_marks,
    grade_folder,
    grading_options,
    results_by_name,
    solution_module,
    solved_folder,
)

CONTRACT_EVENTS = {"bad_submission", "syntax", "timeout", "memory", "crash", "blocked"}
BLAME = ("own fault", "not yours", "not your fault")

FIND_HANDLER = '''
import sys as _sys


def _handler():
    frame = _sys._getframe()
    while frame is not None:
        if frame.f_code.co_name == "reply_to" and "self" in frame.f_locals:
            return frame.f_locals["self"]
        frame = frame.f_back
    raise LookupError("no handler on the stack")


def _forge(reply):
    _handler()._student_failure = lambda exc, kind="error": dict(reply)
    raise RuntimeError("forged")
'''

FORGED_CALLS = FIND_HANDLER + '''

def sigmoid(z):
    _forge({"ok": False, "kind": "error", "message": "m", "traceback": "", "event": float("nan")})


def tanh(z):
    _forge({"ok": False, "kind": "grader", "message": "The grader failed (its own fault, not yours).",
            "traceback": "", "event": "crash"})


def relu(z):
    _forge({"ok": False, "kind": "error", "message": "m", "traceback": "", "event": "exploded"})
'''

FORGED_LOAD = FIND_HANDLER + '''

_handler()._cell_error = lambda index, exc, unit="cell": {
    "line": float("nan"), "kind": "error", "type": "E", "message": "m", "traceback": ""}
raise RuntimeError("a failing statement, listed in cell_errors")
'''

HUGE_INTS = '''
def _huge(x):
    return [_huge(v) for v in x] if isinstance(x, list) else 10 ** 400


def relu(z):
    return _huge(np.zeros(np.shape(z)).tolist())


def mse(y_hat, y):
    return 10 ** 400
'''

HUGE_ANSWER = '''
def sigmoid(z):
    return np.zeros(60_000_000)  # 480 MB on the wire, free for the worker
'''


def strict_report(path: Path) -> dict:
    """A report read back as strict JSON (NaN or inf in it would raise)."""
    def refuse(name: str):
        raise ValueError(f"{path.name} holds {name}")

    return json.loads(path.read_text("utf-8"), parse_constant=refuse)


def results_of(report: dict, exercise: str) -> dict[str, dict]:
    [found] = [e for e in report["exercises"] if e["name"] == exercise]
    return {t["name"]: t for t in found["tests"]}


def test_forged_replies_cost_only_the_forgers_tests_and_the_batch_writes_every_report(tmp_path):
    course = tmp_path / "course"
    hostile = solved_folder(course, "forger")
    append_code(hostile, EX1, FORGED_CALLS)
    append_code(hostile, EX2, FORGED_LOAD)
    solved_folder(course, "honest")

    batch = grade_batch([course], out_dir=tmp_path / "grades", options=grading_options())

    assert sorted(r.student for r in batch.results) == ["forger", "honest"]
    honest, forger = (strict_report(tmp_path / "grades" / f"{name}.json") for name in ("honest", "forger"))
    assert honest["score"] == honest["max_score"] == 100.0
    forged_ex1 = results_of(forger, EX1)
    for name in ("sigmoid.values", "tanh.values", "relu.values"):
        assert forged_ex1[name]["status"] == "error" and forged_ex1[name]["score"] == 0.0
        assert "malformed" in forged_ex1[name]["feedback"]
    assert forged_ex1["mse.values"]["status"] == "passed"  # the rest of the exercise is graded as usual
    assert {t["status"] for t in results_of(forger, EX2).values()} == {"error"}
    assert all("malformed" in t["feedback"] for t in results_of(forger, EX2).values())
    feedback = [t["feedback"] for e in forger["exercises"] for t in e["tests"]]
    assert not [f for f in feedback if any(words in f.lower() for words in BLAME)]
    assert {e["kind"] for e in forger["errors"]} <= CONTRACT_EVENTS
    assert not [e for e in forger["errors"] if "grader check" in e["message"]]  # nothing blamed on the grader
    later = exercises_of(next(r for r in batch.results if r.student == "forger"))
    assert all(full_marks(later[stem]) for stem in list(later)[2:])  # ex3 to ex6 untouched


def test_integers_beyond_float_range_are_the_students_wrong_answer(tmp_path):
    folder = tmp_path / "huge_ints"
    folder.mkdir()
    (folder / f"{EX1}.py").write_text(solution_module(EX1, folder.name), encoding="utf-8")
    append_code(folder, EX1, HUGE_INTS)

    result = grade_folder(folder, grading_options())

    tests = results_by_name(exercises_of(result)[EX1])
    for name in ("relu.values", "mse.values", "relu.random"):
        assert tests[name].status == "failed" and tests[name].score == 0.0, (name, tests[name])
        assert not any(words in tests[name].feedback.lower() for words in BLAME)
    assert tests["sigmoid.values"].status == "passed"
    assert not [e for e in result.errors if "grader check" in e.message]


GRADE_IN_A_CHILD = '''
import json, resource, sys, time
from pathlib import Path
from tests.grader.hostile.submissions import grade_folder, grading_options

began = time.monotonic()
result = grade_folder(Path(sys.argv[1]), grading_options())
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "seconds": time.monotonic() - began,
                  "scores": {e.name: [e.score, e.max_score] for e in result.exercises},
                  "tests": {t.name: [t.status, t.feedback] for e in result.exercises for t in e.tests}}))
'''


def grade_in_a_child(folder: Path) -> dict:
    """Grade `folder` in a process of its own; its peak resident memory (the workers not counted)."""
    done = subprocess.run([sys.executable, "-c", GRADE_IN_A_CHILD, str(folder)], cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_huge_answer_is_refused_fast_and_the_graders_memory_stays_bounded(tmp_path):
    folders = {}
    for name, extra in (("honest", ""), ("huge_answer", HUGE_ANSWER)):
        folders[name] = tmp_path / name
        folders[name].mkdir()
        (folders[name] / f"{EX1}.py").write_text(solution_module(EX1, name), encoding="utf-8")
        if extra:
            append_code(folders[name], EX1, extra)

    honest, hostile = grade_in_a_child(folders["honest"]), grade_in_a_child(folders["huge_answer"])

    status, feedback = hostile["tests"]["sigmoid.values"]
    assert status == "error" and "was not read" in feedback
    assert hostile["tests"]["tanh.values"][0] == "passed"
    # the grader held at most one refused header's worth more than an honest run
    assert hostile["rss_mb"] <= honest["rss_mb"] + 2 * REPLY_FLOOR_BYTES / 2**20 + 32, (honest, hostile)
    assert hostile["seconds"] <= honest["seconds"] + 30
