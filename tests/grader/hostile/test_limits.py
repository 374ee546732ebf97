"""Limits hold for a whole sandbox, not per process: forks share one memory limit and one CPU.

rlimits alone let four forked children hold twice the sandbox's memory, and sixty spinning
processes take sixty shares of the machine from an honest student graded beside them. Each
sandbox has a cgroup of its own (grader/worker/cgroup.py); these tests grade real submissions
through the real sandbox and need a host where the grader can create cgroups.
"""
from __future__ import annotations

import resource
from pathlib import Path

import pytest

from grader.batch import grade_batch
from grader.worker import cgroup as cg
from grader.worker import sandbox as sb
from tests.grader.hostile.submissions import (
    EX1,
    append_code,
    exercises_of,
    grade_folder,
    grading_options,
    live_descendants,
    solved_folder,
)

SUPPORT = cg.detect_support()
needs_cgroups = pytest.mark.skipif(not SUPPORT.usable,
                                   reason=f"the grader cannot create cgroups here: {SUPPORT.reason}")

SANDBOX_MB = 2048
CHILD_MB = 1200  # each under the per-process limit; four of them are more than twice the sandbox's

# Four children each write CHILD_MB, tell the parent, and stay; the parent then answers correctly.
FORKED_HOARD = f'''
def relu(z):
    import ctypes, os
    libc = ctypes.CDLL(None)
    ready_read, ready_write = os.pipe()
    for _ in range(4):
        if libc.fork() == 0:
            hoard = b"x" * ({CHILD_MB} * 2**20)  # written, so resident
            os.write(ready_write, b"!")
            while True:
                libc.pause()
    os.close(ready_write)
    told = b""
    while len(told) < 4:
        chunk = os.read(ready_read, 4)
        if not chunk:
            break
        told += chunk
    return np.maximum(z, 0.0)
'''

SPINNERS, SPIN_S = 60, 10
# At import: SPINNERS processes that only burn CPU for SPIN_S seconds, each in a session of its own,
# so that the scheduler's per-session groups (autogroup) count them as 60 users too.
SPINNING = f'''
import ctypes as _ctypes
import time as _time
_libc = _ctypes.CDLL(None)
for _ in range({SPINNERS}):
    if _libc.fork() == 0:
        _libc.setsid()
        _end = _time.monotonic() + {SPIN_S}
        while _time.monotonic() < _end:
            pass
        _libc._exit(0)
'''


@needs_cgroups
def test_forked_children_share_one_memory_limit_and_the_check_ends_as_a_memory_event(tmp_path: Path):
    folder = solved_folder(tmp_path, "hoarder")
    append_code(folder, EX1, FORKED_HOARD)
    before = live_descendants()
    options = grading_options(exercises=(EX1,), timeout=20.0,
                              sandbox=sb.SandboxConfig(memory_mb=SANDBOX_MB, max_processes=16))
    result = grade_folder(folder, options)

    relu = [t for t in exercises_of(result)[EX1].tests if t.name.split(".")[0] == "relu"]
    assert relu and all(t.score == 0 and t.status == "error" for t in relu)
    assert "memory" in relu[0].feedback
    assert any(e.kind == "memory" and e.exercise == EX1 for e in result.errors)
    assert not any(e.kind == "crash" for e in result.errors)
    # the grader itself never held the children's memory, and nothing of the sandbox is left
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < SANDBOX_MB * 1024 // 2
    assert live_descendants() - before == set()
    others = [t for t in exercises_of(result)[EX1].tests if not t.name.startswith(("relu.", "relu_grad."))]
    assert others and all(t.status == "passed" for t in others)


@needs_cgroups
def test_spinning_processes_cannot_take_an_honest_neighbours_time(tmp_path: Path):
    class_folder = tmp_path / "class"
    spinner = solved_folder(class_folder, "a-spinner")  # first in the batch: graded beside the honest one
    append_code(spinner, EX1, SPINNING)
    solved_folder(class_folder, "b-honest")
    # 1 s per call is ample for every solved function on one CPU, and well short of what is left to
    # an honest worker that shares the machine's scheduler with 60 spinners; tight budgets keep the
    # spinner's own slow grading short
    options = grading_options(timeout=1.0, exercise_budget=8.0, load_timeout=8.0)

    batch = grade_batch([class_folder], out_dir=tmp_path / "grades", options=options, jobs=2, force=True)

    honest = next(r for r in batch.results if r.student == "b-honest")
    not_passed = [t.name for e in honest.exercises for t in e.tests if t.status != "passed"]
    assert not_passed == [] and honest.errors == []
    assert honest.score == honest.max_score > 0
