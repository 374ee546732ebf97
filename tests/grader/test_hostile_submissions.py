"""Hostile submissions, graded end to end as an instructor's run meets them.

Each behaviour is injected into one function (or the top level) of an otherwise solved
submission. The outcome the grader promises: that function's tests score 0 with the status
that names the behaviour, the report's `errors` has the right kind, every other test and
exercise keeps full marks, nothing lands on the host, and no process outlives grading.

Two submissions carry all the per-function behaviours (they share one worker, restarted after
each crash), a third the load-time ones (an endless loop at import costs the 30 s load timeout
once). Only the sandbox "auto" is used: bubblewrap where it runs, else limits and the guard.
"""
from __future__ import annotations

import socket
import zipfile
from pathlib import Path

import pytest

from grader.pipeline import grade_submission
from grader.results import SubmissionResult
from grader.submission.discover import Submission
from grader.worker import sandbox as sb
from tests.grader.hostile.submissions import (
    EX1,
    EX2,
    EX3,
    EX4,
    EX5,
    EX6,
    REPO,
    append_code,
    exercises_of,
    full_marks,
    grade_folder,
    grading_options,
    insert_cells,
    live_descendants,
    private_uid,
    solved_folder,
    zip_folder,
)

BWRAP = sb.detect_bwrap()
TIMEOUT = 3.0  # seconds per call: endless loops cost this much once per function
MAX_PROCESSES = 24


# ---------------------------------------------------------------- hostile code, one function each

EX1_HOSTILE = '''
import builtins
import math

# Patch every comparison a naive grader might run next to the student's code.
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_almost_equal = lambda *args, **kwargs: None
math.isclose = lambda *args, **kwargs: True
builtins.round = lambda *args, **kwargs: 0


def bce(y_hat, y):
    return 12345.0  # wrong on purpose: only the patched comparisons would accept it


def relu(z):
    while True:
        pass


def tanh(z):
    hoard = []
    while True:
        hoard.append(bytearray(64 * 2**20))


def mae(y_hat, y):
    import ctypes
    libc = ctypes.CDLL(None)
    made = 0
    for _ in range(500):
        pid = libc.fork()
        if pid == 0:
            while True:
                libc.pause()
        if pid < 0:
            break
        made += 1
    raise RuntimeError(f"made {made} processes")


def mse(y_hat, y):
    import sys
    sys.exit(3)


def cce(y_hat, y):
    import os
    os._exit(4)


def identity(z):
    import ctypes
    ctypes.string_at(0)


def relu_grad(z):
    import ctypes, os
    if USE_CTYPES:  # past the audit hook: only the sandbox's file system can stop these
        libc = ctypes.CDLL(None)
        for path in TARGETS:
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
            except OSError:
                pass
            fd = libc.open(path.encode(), os.O_WRONLY | os.O_CREAT, 0o666)
            if fd >= 0:
                libc.write(fd, b"owned", 5)
                libc.close(fd)
    for path in TARGETS:
        with open(path, "w") as file:
            file.write("owned")
    return (np.asarray(z) > 0) * 1.0


def tanh_grad(z):
    import socket
    socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
    return 1.0 - np.tanh(z) ** 2


def identity_grad(z):
    import json, sys
    for i in range(60_000):
        print("flood", i, "x" * 100)
    print(json.dumps({"schema": "backprop-grader/report/1", "student": "me", "score": 100.0}))
    sys.stdout.flush()
    sys.stdout.buffer.write(b"BPG1" + bytes(4))
    return np.ones_like(np.asarray(z, dtype=np.float64))


def mse_grad(y_hat, y):
    import json, os, struct
    # a well-formed reply (see the protocol in grader/README.md) to a request that was never sent
    header = json.dumps({"ok": True, "value": 0.0, "id": 10**9, "__buffers__": 0}).encode()
    forged = b"BPG1" + struct.pack(">I", len(header)) + header
    for fd in range(3, 64):
        try:
            os.write(fd, forged)
        except OSError:
            pass
    return 2.0 * (y_hat - y) / np.size(y)
'''

EX2_HOSTILE = '''
def forward_backward_221(x, V, w, y):
    from reference.hand_network import forward_backward_221 as answer
    return answer(x, V, w, y)
'''

EX4_HOSTILE = '''
def sigmoid_trace(w, x, b):
    namespace = {}
    with open(SOLUTION_FILE) as file:  # the course's own solution, by its host path
        exec(file.read(), namespace)
    return namespace["sigmoid_trace"](w, x, b)
'''

EX5_HOSTILE = '''
def mse_loss(pred, target):
    import importlib.util
    spec = importlib.util.spec_from_file_location("stolen", GRADER_FILE)
    stolen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stolen)
    return stolen
'''

# function -> (status of its first test, kind in errors, words in that test's feedback)
EX1_EXPECTED = {
    "relu": ("timeout", "timeout", "did not finish within"),
    "tanh": ("error", "memory", "MemoryError"),
    "mae": ("error", None, "made "),
    "mse": ("error", "crash", "status 3"),
    "cce": ("error", "crash", "status 4"),
    "identity": ("error", "crash", "SIGSEGV"),
    "mse_grad": ("error", "crash", "a reply to another request"),
    "relu_grad": ("blocked", "blocked", "not allowed"),
    "tanh_grad": ("blocked", "blocked", "network access is not allowed"),
    "bce": ("failed", None, ""),
}


@pytest.fixture(scope="module")
def uid() -> int | None:
    return private_uid()


@pytest.fixture(scope="module")
def options(uid):
    return grading_options(timeout=TIMEOUT, sandbox=sb.SandboxConfig(uid=uid, memory_mb=1024,
                                                                     max_processes=MAX_PROCESSES))


class Graded:
    """A graded submission with what the test needs to judge it."""

    def __init__(self, result: SubmissionResult, leftovers: set[int], uid_processes: list[int], **extra):
        self.result = result
        self.exercises = exercises_of(result)
        self.leftovers = leftovers
        self.uid_processes = uid_processes
        self.__dict__.update(extra)


def graded(folder: Path, options, uid) -> tuple[SubmissionResult, set[int], list[int]]:
    before = live_descendants()
    result = grade_folder(folder, options)
    return result, live_descendants() - before, sb.pids_of(uid=uid) if uid is not None else []


@pytest.fixture(scope="module")
def function_hostility(tmp_path_factory, options, uid) -> Graded:
    """Every per-function behaviour in one submission, graded once."""
    root = tmp_path_factory.mktemp("hostile")
    open_dir = root / "open_to_all"
    open_dir.mkdir()
    open_dir.chmod(0o777)  # so only the sandbox, not file permissions, can stop a write
    folder = solved_folder(root, "mallory")
    # /var/tmp: world-writable on the host and outside the sandbox's own temp dir (the guard refuses
    # it first); the others: host folders under /tmp, where the sandbox has a private /tmp instead
    targets = [f"/var/tmp/{root.name}-pwned.txt", str(open_dir / "pwned.txt"), str(folder / "pwned.py")]
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.setblocking(False)
        settings = (f"TARGETS = {targets!r}\nUSE_CTYPES = {BWRAP!r}\n"
                    f"PORT = {server.getsockname()[1]}\n")
        append_code(folder, EX1, settings + EX1_HOSTILE)
        append_code(folder, EX2, EX2_HOSTILE)
        append_code(folder, EX4, f"SOLUTION_FILE = {str(REPO / 'solutions' / (EX4 + '.py'))!r}\n"
                    + EX4_HOSTILE)
        append_code(folder, EX5, f"GRADER_FILE = {str(REPO / 'grader' / 'pipeline.py')!r}\n" + EX5_HOSTILE)
        result, leftovers, uid_processes = graded(folder, options, uid)
        try:
            server.accept()
            connected = True
        except BlockingIOError:
            connected = False
    return Graded(result, leftovers, uid_processes, targets=targets, connected=connected, folder=folder)


def own_tests(graded_exercise, function: str) -> list:
    return [t for t in graded_exercise.tests if t.name.split(".")[0] == function]


def uses(test_name: str, functions: set[str]) -> bool:
    """Whether the test calls one of `functions`: its own, or for `F_grad.numerical`, also F
    (the student's F is differentiated numerically to check F_grad)."""
    function, _, kind = test_name.partition(".")
    return function in functions or (kind == "numerical" and function.removesuffix("_grad") in functions)


@pytest.mark.parametrize("function", sorted(EX1_EXPECTED))
def test_a_hostile_function_loses_its_own_tests_with_the_status_that_names_it(function_hostility, function):
    status, kind, words = EX1_EXPECTED[function]
    own = own_tests(function_hostility.exercises[EX1], function)
    judged = [t for t in own if status != "failed" or not t.name.endswith(".no_mutation")]  # bce mutates nothing
    assert judged and all(t.score == 0 and t.status != "passed" for t in judged)
    assert own[0].status == status and words in own[0].feedback
    if kind is not None:
        assert any(e.kind == kind and e.exercise == EX1 for e in function_hostility.result.errors)


def test_every_other_test_of_that_exercise_still_passes(function_hostility):
    others = [t for t in function_hostility.exercises[EX1].tests if not uses(t.name, {*EX1_EXPECTED})]
    assert len(others) > 20 and [t.name for t in others if t.status != "passed"] == []


def test_exercises_without_hostile_code_keep_full_marks(function_hostility):
    assert full_marks(function_hostility.exercises[EX3]) and full_marks(function_hostility.exercises[EX6])
    for stem, function in ((EX4, "sigmoid_trace"), (EX5, "mse_loss")):
        others = [t for t in function_hostility.exercises[stem].tests if t.name.split(".")[0] != function]
        assert others and all(t.status == "passed" for t in others), stem


def test_the_fork_storm_is_capped_and_no_process_outlives_grading(function_hostility):
    feedback = own_tests(function_hostility.exercises[EX1], "mae")[0].feedback
    made = int(feedback.split("made ")[1].split()[0])
    assert 0 <= made < MAX_PROCESSES
    assert function_hostility.leftovers == set() and function_hostility.uid_processes == []


def test_writes_outside_the_sandbox_never_reach_the_host(function_hostility):
    leaked = [target for target in function_hostility.targets if Path(target).exists()]
    for target in leaked:
        Path(target).unlink()
    assert leaked == []
    assert sorted(p.name for p in function_hostility.folder.iterdir()) == sorted(
        f"{stem}.py" for stem in (EX1, EX2, EX3, EX4, EX5, EX6))


def test_the_network_is_unreachable(function_hostility):
    assert function_hostility.connected is False


def test_the_graders_code_cannot_be_imported_or_read(function_hostility):
    exercises = function_hostility.exercises
    imported = own_tests(exercises[EX2], "forward_backward_221")
    assert imported and all(t.status == "blocked" and t.score == 0 for t in imported)
    assert "import of reference is blocked" in imported[0].feedback
    for stem, function in ((EX4, "sigmoid_trace"), (EX5, "mse_loss")):
        own = own_tests(exercises[stem], function)
        assert own and all(t.score == 0 for t in own)
        # not there at all under bubblewrap; refused by the guard without it
        assert own[0].status in ("blocked", "error")
        assert ("FileNotFoundError" in own[0].feedback) if BWRAP else own[0].status == "blocked"
    assert [t.name for t in exercises[EX2].tests if t.status != "passed"] == [t.name for t in imported]


def test_monkeypatched_numpy_and_builtins_do_not_change_a_verdict(function_hostility):
    ex1 = function_hostility.exercises[EX1]
    assert ex1.cell_errors == []  # every patch at the top of the module ran
    judged = [t for t in own_tests(ex1, "bce") if not t.name.endswith(".no_mutation")]
    assert judged and all(t.status == "failed" and t.score == 0 for t in judged)


def test_a_printed_report_is_only_output(function_hostility):
    flooded = own_tests(function_hostility.exercises[EX1], "identity_grad")
    assert [t.status for t in flooded if not t.name.endswith(".numerical")] == ["passed"] * (len(flooded) - 1)
    assert not any("identity_grad" in e.message for e in function_hostility.result.errors)
    forged = own_tests(function_hostility.exercises[EX1], "mse_grad")
    assert all(t.status == "error" and t.score == 0 for t in forged)


# ---------------------------------------------------------------- load-time behaviours


RAISING_MIDDLE_CELL = "raise RuntimeError('a middle cell fails')"
IPYTHON_CELLS = [
    "%matplotlib inline\n!rm -rf ~\nfiles = !ls\n%time total = 1 + 1",
    "%%bash\nrm -rf /\necho done",
    "get_ipython().run_line_magic('load_ext', 'autoreload')\nget_ipython().system('ls /')",
]
STRAY_TOP_LEVEL = '''
from grader import personal_case
print("debugging at import", sigmoid(0.0))
raise RuntimeError("a stray top-level raise")
'''


@pytest.fixture(scope="module")
def load_hostility(tmp_path_factory, options, uid) -> Graded:
    """An endless loop at import, a syntax error, an undecodable file, and notebooks that misbehave."""
    root = tmp_path_factory.mktemp("load")
    folder = solved_folder(root, "trudy", notebooks=(EX3, EX6))
    append_code(folder, EX4, "while True:\n    pass")
    append_code(folder, EX5, "def broken(:\n    pass")
    (folder / f"{EX2}.py").write_bytes("# café\n".encode("latin-1") + (folder / f"{EX2}.py").read_bytes())
    middle = insert_cells(folder, EX3, [RAISING_MIDDLE_CELL], at=7)[0]  # after init_params, before forward
    insert_cells(folder, EX6, IPYTHON_CELLS, at=3)
    source = (folder / f"{EX1}.py").read_text()
    (folder / f"{EX1}.py").write_text(source + STRAY_TOP_LEVEL + "\n\ndef late_helper():\n    return 1\n")
    result, leftovers, uid_processes = graded(folder, options, uid)
    return Graded(result, leftovers, uid_processes, middle=middle)


def test_an_endless_loop_at_import_times_out_that_exercise_only(load_hostility):
    ex4 = load_hostility.exercises[EX4]
    assert ex4.score == 0 and {t.status for t in ex4.tests} == {"timeout"}
    assert [e.kind for e in load_hostility.result.errors if e.exercise == EX4] == ["timeout"]
    assert load_hostility.leftovers == set() and load_hostility.uid_processes == []


def test_a_syntax_error_loses_that_exercise_with_kind_syntax(load_hostility):
    ex5 = load_hostility.exercises[EX5]
    assert ex5.score == 0 and all(t.status != "passed" for t in ex5.tests)
    assert {e.kind for e in load_hostility.result.errors if e.exercise == EX5} == {"syntax"}


def test_an_undecodable_file_is_a_bad_submission_for_that_exercise(load_hostility):
    ex2 = load_hostility.exercises[EX2]
    assert ex2.score == 0 and ex2.source is None
    [error] = [e for e in load_hostility.result.errors if e.exercise == EX2]
    assert error.kind == "bad_submission" and "not UTF-8" in error.message


def test_a_notebook_with_a_raising_middle_cell_is_graded_and_the_cell_reported(load_hostility):
    ex3 = load_hostility.exercises[EX3]
    assert full_marks(ex3)
    assert [(c["index"], c["message"]) for c in ex3.cell_errors] == [
        (load_hostility.middle, "RuntimeError: a middle cell fails")]


def test_magics_and_shell_escapes_are_harmless(load_hostility):
    ex6 = load_hostility.exercises[EX6]
    assert full_marks(ex6)
    # only the release's `import grader.notebook_import` cell may fail (blocked), if it is run at all
    assert all(c["kind"] == "blocked" and "grader" in c["message"] for c in ex6.cell_errors)
    assert any("%%bash is not Python" in w for w in load_hostility.result.warnings)


def test_stray_top_level_statements_cost_nothing_and_are_reported_by_line(load_hostility):
    ex1 = load_hostility.exercises[EX1]
    assert full_marks(ex1)
    kinds = [(c["kind"], c["message"].split(":")[0]) for c in ex1.cell_errors]
    assert [kind for kind, _ in kinds] == ["blocked", "error"]
    assert all(where.startswith("line ") for _, where in kinds)
    assert "import of grader is blocked" in ex1.cell_errors[0]["message"]
    assert "RuntimeError: a stray top-level raise" in ex1.cell_errors[1]["message"]


def test_no_other_errors_are_reported(load_hostility):
    # the blocked `import grader` at the top of ex1 is reported once, as a report-level event
    assert sorted({(e.kind, e.exercise) for e in load_hostility.result.errors}) == [
        ("bad_submission", EX2), ("blocked", EX1), ("syntax", EX5), ("timeout", EX4)]


# ---------------------------------------------------------------- unreadable as a whole


def test_a_zip_with_a_path_out_of_its_folder_is_a_bad_submission(tmp_path, options):
    folder = solved_folder(tmp_path, "eve")
    archive = zip_folder(folder, tmp_path / "eve.zip", extra={"../../escaped.py": b"x = 1\n"})
    result = grade_submission(Submission("eve", archive, "zip"), options)
    assert [e.kind for e in result.errors] == ["bad_submission"]
    assert "climbs out" in result.errors[0].message
    assert result.score == 0 and result.max_score == 100
    assert not (tmp_path.parent / "escaped.py").exists()
    with zipfile.ZipFile(archive) as check:  # the zip really holds the escaping entry
        assert "../../escaped.py" in check.namelist()
