"""The real sandboxed worker: values come back right, and hostile code is contained.

Every test runs under both sandboxes: "bwrap" (skipped where bubblewrap cannot run) and "none"
(resource limits, a private uid when root, and the guard). Each containment case asserts the
outcome the grader relies on: the status and event it reports, that the next call works on a
fresh worker, and that nothing is left running or written on the host.
"""
from __future__ import annotations

import json
import os
import socket
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from grader.errors import GraderError, StudentCodeError
from grader.results import GradingError
from grader.worker import sandbox as sb
from grader.worker.client import DEFAULT_OUTPUT_LIMIT, WorkerClient, classify_exit
from grader.worker.inside.protocol import Handle
from tests.grader.worker.workers import readable, sandboxes as _sandboxes

REPO = Path(__file__).resolve().parents[3]
TIMEOUT = 10.0
SHORT = 1.0  # the timeout for code that never finishes
CONFIG = dict(memory_mb=512, max_processes=32, cpu_seconds=120)

STUDENT = '''
import json
import os
import sys

import numpy as np


def add(a, b):
    return a + b


def summary(x):
    return {"mean": float(np.mean(x)), "shape": x.shape, "ends": [x[0], x[-1]], "none": None}


def scale_in_place(x, factor):
    x *= factor
    return None


class Box:
    def __init__(self, value):
        self.value = value

    def doubled(self):
        return Box(self.value * 2)


def spin():
    while True:
        pass


def hog():
    chunks = []
    while True:
        chunks.append(bytearray(64 * 2**20))


def fork_with_os():
    return os.fork()


def storm():
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
    return made


def escaped_child():
    import ctypes
    libc = ctypes.CDLL(None)
    pid = libc.fork()
    if pid == 0:
        libc.setsid()  # leaves the worker's session and process group
        while True:
            libc.pause()
    return pid


def exit_with_sys():
    sys.exit(3)


def exit_with_os():
    os._exit(4)


def segfault():
    import ctypes
    ctypes.string_at(0)


def write_file(path, text):
    with open(path, "w") as file:
        file.write(text)
    with open(path) as file:
        return file.read()


def read_file(path):
    with open(path) as file:
        return file.read()


def exists(path):
    return os.path.exists(path)


def connect(port):
    import socket
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    return "connected"


def flood(lines):
    for i in range(lines):
        print("line", i, "x" * 100)
    print("last line")
    return lines


def fake_report():
    print(json.dumps({"ok": True, "value": 100.0, "score": 100.0}))
    sys.stdout.flush()
    sys.stdout.buffer.write(b"BPG1" + bytes(4))
    return "the real value"


def import_module(name):
    import importlib
    return importlib.import_module(name).__name__


def describe_process(probe=()):
    with open("/proc/self/limits") as file:
        limits = file.read()
    try:
        root = sorted(os.listdir("/"))
    except PermissionError:  # the unsandboxed worker may not list it
        root = None
    return {"uid": os.getuid(), "env": dict(os.environ), "cwd": os.getcwd(), "limits": limits,
            "path": list(sys.path), "root": root, "visible": [p for p in probe if os.path.exists(p)]}


def shout(text):
    print("out:", text)
    print("err:", text, file=sys.stderr)
    return text

'''

NOTEBOOK_CELLS = [
    "from ex_student import add\nimport numpy as np",
    "def before():\n    return 'before'",
    "raise ValueError('the middle cell fails')",
    "def broken(:\n    pass",
    "def after(x):\n    return add(x, 1)",
]

MODULE_USING_NOTEBOOK = "from ex_notebook import after\n\n\ndef twice_after(x):\n    return after(after(x))\n"


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("staged")
    (folder / "ex_student.py").write_text(textwrap.dedent(STUDENT))
    cells = {"cells": [{"index": i, "source": s} for i, s in enumerate(NOTEBOOK_CELLS)]}
    (folder / "ex_notebook.cells.json").write_text(json.dumps(cells))
    (folder / "ex_uses_notebook.py").write_text(MODULE_USING_NOTEBOOK)
    (folder / "ex_loops_at_import.py").write_text("while True:\n    pass\n")
    (folder / "ex_syntax.py").write_text("def f(:\n    pass\n")
    return readable(folder)


@pytest.fixture(scope="module", params=_sandboxes())
def sandbox(request) -> str:
    return request.param


def _client(staged: Path, sandbox: str) -> WorkerClient:
    return WorkerClient(staged, config=sb.SandboxConfig(use_bwrap="on" if sandbox == "bwrap" else "off", **CONFIG))


@pytest.fixture
def client(staged, sandbox):
    """A fresh worker, for tests that kill it, restart it or change its state."""
    worker = _client(staged, sandbox)
    yield worker
    worker.close()


@pytest.fixture(scope="module")
def shared(staged, sandbox):
    """One worker for the tests that leave it as they found it (keeps the file fast)."""
    worker = _client(staged, sandbox)
    yield worker
    worker.close()


def call(client, name, *args, module="ex_student", timeout=TIMEOUT, **kwargs):
    return client.request({"op": "call", "module": module, "name": name, "args": list(args),
                           "kwargs": kwargs}, timeout)


def failure(client, name, *args, module="ex_student", timeout=TIMEOUT) -> StudentCodeError:
    with pytest.raises(StudentCodeError) as caught:
        call(client, name, *args, module=module, timeout=timeout)
    return caught.value


def leftovers(client, popen_pid: int) -> list[int]:
    return sb.pids_of(uid=client.uid, session=popen_pid)


def assert_recovers(client, starts_before: int) -> None:
    assert call(client, "add", 2, 3) == 5
    assert client.starts == starts_before + 1  # a fresh worker answered


# ---------------------------------------------------------------- answers


def test_calls_return_plain_values(shared, sandbox):
    assert shared.sandbox_name == sandbox
    x = np.arange(6, dtype=np.float64).reshape(3, 2)
    np.testing.assert_array_equal(call(shared, "add", x, 1.5), x + 1.5)
    out = call(shared, "summary", x)
    assert out["mean"] == pytest.approx(2.5)
    assert out["shape"] == (3, 2) and out["none"] is None
    np.testing.assert_array_equal(out["ends"][1], x[-1])


def test_call_with_return_args_shows_in_place_changes(shared):
    x = np.ones(3)
    reply = shared.request({"op": "call", "module": "ex_student", "name": "scale_in_place",
                            "args": [x, 4.0], "kwargs": {}, "return_args": True}, TIMEOUT)
    assert reply["value"] is None
    np.testing.assert_array_equal(reply["args_after"][0], [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(x, np.ones(3))  # the grader's own array is untouched


def test_objects_stay_in_the_worker_as_handles(shared):
    box = call(shared, "Box", 21)
    assert isinstance(box, Handle) and box.type == "Box"
    bigger = shared.request({"op": "method", "handle": box, "name": "doubled", "args": [], "kwargs": {}}, TIMEOUT)
    assert shared.request({"op": "getattr", "handle": bigger, "name": "value"}, TIMEOUT) == 42
    assert shared.request({"op": "free", "handles": [box, bigger]}, TIMEOUT) is None
    with pytest.raises(StudentCodeError, match="unknown"):
        shared.request({"op": "getattr", "handle": box, "name": "value"}, TIMEOUT)


def test_large_arrays_cross_the_pipes_both_ways(shared):
    x = np.random.default_rng(0).normal(size=(1000, 1000))  # 8 MB, far more than a pipe holds
    np.testing.assert_array_equal(call(shared, "add", x, x), 2 * x)


def test_missing_module_and_name_are_reported_as_missing(shared):
    assert failure(shared, "nope").status == "missing"
    assert failure(shared, "add", module="ex_absent").status == "missing"


def test_student_errors_carry_a_short_student_traceback(shared):
    error = failure(shared, "add", 1, "x")
    assert error.status == "error" and error.event is None
    assert error.message.startswith("TypeError:")
    assert 'File "ex_student.py"' in error.traceback
    assert "handler.py" not in error.traceback and "runner" not in error.traceback


def test_notebook_imports_a_module_and_keeps_going_after_a_failing_cell(shared):
    loaded = shared.request({"op": "load", "module": "ex_notebook"}, TIMEOUT)
    assert {"before", "after"} <= set(loaded["defined"])
    assert "broken" not in loaded["defined"]
    errors = {e["index"]: e for e in loaded["cell_errors"]}
    assert sorted(errors) == [2, 3]
    assert errors[2]["type"] == "ValueError" and "the middle cell fails" in errors[2]["message"]
    assert errors[3]["kind"] == "syntax"
    assert call(shared, "after", 41, module="ex_notebook") == 42


def test_module_imports_a_notebook(shared):
    assert call(shared, "twice_after", 1, module="ex_uses_notebook") == 3


def test_module_that_does_not_compile_is_a_load_error_with_a_syntax_event(client):
    error = failure(client, "f", module="ex_syntax")
    assert error.status == "error" and error.event == "syntax"
    assert "SyntaxError" in error.message
    assert [e.kind for e in client.events] == ["syntax"]


def test_student_output_is_captured_apart_from_replies(shared):
    assert call(shared, "shout", "hello") == "hello"
    assert "out: hello" in shared.stdout_tail
    assert "err: hello" in shared.stderr_tail


# ---------------------------------------------------------------- the environment


def test_worker_sees_a_clean_environment_and_its_limits(shared, sandbox):
    secrets = [str(REPO / "reference"), str(REPO / "solutions"), str(REPO / "grader"), str(REPO / "tests")]
    seen = call(shared, "describe_process", secrets)
    assert "PYTEST_CURRENT_TEST" not in seen["env"]
    assert seen["env"]["OPENBLAS_NUM_THREADS"] == "1" and seen["env"]["OMP_NUM_THREADS"] == "1"
    limits = {line[:26].strip(): line[26:].split() for line in seen["limits"].splitlines()[1:]}
    assert limits["Max address space"][0] == str(512 * 2**20)
    if shared.uid is not None:
        assert limits["Max processes"][0] == str(CONFIG["max_processes"])
    assert limits["Max core file size"][0] == "0"
    if os.geteuid() == 0:
        assert seen["uid"] == shared.uid and seen["uid"] != 0
    if sandbox == "bwrap":
        assert seen["cwd"] == "/tmp"
        assert seen["visible"] == []  # the repository is not even visible
        assert "home" not in seen["root"]


def test_site_packages_are_not_importable(shared):
    error = failure(shared, "import_module", "click")
    assert error.status == "error" and "ModuleNotFoundError" in error.message


# ---------------------------------------------------------------- containment


def test_endless_loop_in_a_function_times_out_and_the_next_call_works(client):
    client.start()
    starts = client.starts
    began = time.monotonic()
    error = failure(client, "spin", timeout=SHORT)
    assert time.monotonic() - began < SHORT + 3
    assert error.status == "timeout" and error.event == "timeout"
    assert client.events == [GradingError("timeout", error.message, "ex_student")]
    assert_recovers(client, starts)


def test_endless_loop_at_import_times_out_once(client):
    with pytest.raises(StudentCodeError) as caught:
        client.request({"op": "load", "module": "ex_loops_at_import"}, SHORT)
    assert caught.value.status == "timeout"
    began = time.monotonic()
    again = failure(client, "anything", module="ex_loops_at_import", timeout=SHORT)
    assert again.status == "timeout" and time.monotonic() - began < 0.5  # not run a second time
    assert len(client.events) == 1
    assert call(client, "add", 1, 1) == 2


def test_memory_hog_is_an_error_with_a_memory_event_and_a_restart(client):
    client.start()
    starts = client.starts
    error = failure(client, "hog")
    assert error.status == "error" and error.event == "memory"
    assert "MemoryError" in error.message
    assert [e.kind for e in client.events] == ["memory"]
    assert_recovers(client, starts)


def test_fork_through_os_is_blocked(shared):
    error = failure(shared, "fork_with_os")
    assert error.status == "blocked" and error.event == "blocked"


def test_fork_storm_is_capped_and_leaves_no_process(client):
    made = call(client, "storm", timeout=20)
    assert 0 <= made < CONFIG["max_processes"]
    popen_pid = client.worker_pid
    client.close()
    assert leftovers(client, popen_pid) == []


def test_sys_exit_is_a_crash_and_the_worker_restarts(client):
    client.start()
    starts = client.starts
    error = failure(client, "exit_with_sys")
    assert error.status == "error" and error.event == "crash"
    assert "status 3" in error.message
    assert_recovers(client, starts)


def test_os_exit_is_a_crash_and_the_worker_restarts(client):
    client.start()
    starts = client.starts
    error = failure(client, "exit_with_os")
    assert error.event == "crash" and "status 4" in error.message
    assert_recovers(client, starts)


def test_segfault_is_a_crash(client):
    client.start()
    starts = client.starts
    error = failure(client, "segfault")
    assert error.status == "error" and error.event == "crash"
    assert "SIGSEGV" in error.message
    assert_recovers(client, starts)


def test_writing_outside_the_temp_dir_never_reaches_the_host(shared, tmp_path):
    target_dir = tmp_path / "open_to_all"
    target_dir.mkdir()
    target_dir.chmod(0o777)  # so only the sandbox, not file permissions, can stop the write
    target = target_dir / "pwned.txt"
    error = failure(shared, "write_file", str(target), "owned")
    assert error.status in ("blocked", "error")
    assert not target.exists()
    assert failure(shared, "write_file", "/submission/x.py" if shared.sandbox_name == "bwrap"
                   else str(Path(shared.staged_dir) / "x.py"), "owned").status in ("blocked", "error")
    assert not (Path(shared.staged_dir) / "x.py").exists()
    assert call(shared, "write_file", "scratch.txt", "mine") == "mine"  # its own temp dir works


def test_network_is_blocked(shared):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(0.2)
        error = failure(shared, "connect", server.getsockname()[1])
        assert error.status == "blocked"
        with pytest.raises(socket.timeout):
            server.accept()


def test_output_flood_is_truncated_and_the_worker_is_fine(shared):
    assert call(shared, "flood", 60_000) == 60_000  # about 6.5 MB of prints
    tail = shared.stdout_tail
    assert tail.startswith("[... ") and tail.rstrip().endswith("last line")
    assert len(tail.encode()) < DEFAULT_OUTPUT_LIMIT + 100
    assert call(shared, "add", 1, 2) == 3


def test_a_printed_fake_report_is_only_output(shared):
    assert call(shared, "fake_report") == "the real value"
    assert '"score": 100.0' in shared.stdout_tail
    assert call(shared, "add", 2, 2) == 4


@pytest.mark.parametrize("name", ["grader", "reference", "solutions", "grader.worker.inside", "runner"])
def test_the_graders_own_packages_cannot_be_imported(shared, name):
    error = failure(shared, "import_module", name)
    assert error.status == "blocked"


def test_the_graders_files_cannot_be_read(shared, sandbox):
    secret = REPO / "grader" / "worker" / "inside" / "protocol.py"
    error = failure(shared, "read_file", str(secret))
    assert error.status in ("blocked", "error")
    if sandbox == "bwrap":
        assert call(shared, "exists", str(REPO)) is False
    else:
        assert error.status == "blocked"


def test_forbidden_modules_are_blocked_after_a_load_asks(client):
    assert call(client, "import_module", "fractions") == "fractions"
    client.request({"op": "load", "module": "ex_student", "forbidden": ["fractions"]}, TIMEOUT)
    error = failure(client, "import_module", "fractions")
    assert error.status == "blocked" and "fractions" in error.message


def test_no_process_outlives_close(client):
    child = call(client, "escaped_child")
    assert isinstance(child, int) and child > 0
    popen_pid = client.worker_pid
    client.close()
    client.close()  # idempotent
    assert not Path(f"/proc/{popen_pid}").exists()
    assert leftovers(client, popen_pid) == []
    with pytest.raises(GraderError):
        call(client, "add", 1, 2)


def test_context_manager_passes_settings_and_cleans_up(staged, sandbox):
    use = "on" if sandbox == "bwrap" else "off"
    with WorkerClient(staged, config=sb.SandboxConfig(use_bwrap=use), forbidden=("fractions",),
                      env={"COURSE_SEED": "7"}) as worker:
        popen_pid = worker.worker_pid
        assert Path(f"/proc/{popen_pid}").exists()
        assert call(worker, "describe_process")["env"]["COURSE_SEED"] == "7"
        assert failure(worker, "import_module", "fractions").status == "blocked"  # forbidden from the start
    assert not Path(f"/proc/{popen_pid}").exists() and leftovers(worker, popen_pid) == []


def test_handles_from_a_restarted_worker_are_refused(client):
    box = call(client, "Box", 1)
    failure(client, "exit_with_os")
    with pytest.raises(StudentCodeError, match="restarted"):
        client.request({"op": "getattr", "handle": box, "name": "value"}, TIMEOUT)


# ---------------------------------------------------------------- pure parts


@pytest.mark.parametrize("status, box, stderr, kind, words", [
    (3, "none", "", "crash", "status 3"),
    (-11, "none", "", "crash", "SIGSEGV"),
    (139, "bwrap", "", "crash", "SIGSEGV"),
    (-9, "none", "", "memory", "memory"),
    (137, "bwrap", "", "memory", "memory"),
    (-6, "none", "terminate called after throwing an instance of 'std::bad_alloc'", "memory", "memory"),
    (-24, "none", "", "timeout", "CPU"),
    (None, "none", "", "crash", "stopped answering"),
])
def test_classify_exit(status, box, stderr, kind, words):
    got_kind, message = classify_exit(status, box, stderr, "ex.f", sb.SandboxConfig())
    assert got_kind == kind and words in message


def test_a_missing_staged_folder_is_a_grader_error(tmp_path):
    with pytest.raises(GraderError, match="does not exist"):
        WorkerClient(tmp_path / "absent")


@pytest.mark.parametrize("timeout", [0, -1, None, True])
def test_timeouts_must_be_positive(staged, timeout):
    client = WorkerClient(staged, config=sb.SandboxConfig(use_bwrap="off"))
    with pytest.raises(ValueError, match="timeout"):
        client.request({"op": "ping"}, timeout)
    client.close()


def test_startup_is_fast(staged, sandbox):
    use = "on" if sandbox == "bwrap" else "off"
    sb.host_runtime()
    durations = []
    for _ in range(3):
        client = WorkerClient(staged, config=sb.SandboxConfig(use_bwrap=use))
        began = time.perf_counter()
        client.start()
        durations.append(time.perf_counter() - began)
        client.close()
    # the goal is ~0.15 s; the bound leaves room for a busy shared machine
    assert min(durations) < 1.5, durations


# ---------------------------------------------------------------- standby and attach


def _standby(sandbox: str) -> WorkerClient:
    return WorkerClient(config=sb.SandboxConfig(use_bwrap="on" if sandbox == "bwrap" else "off", **CONFIG))


def test_a_standby_worker_starts_before_its_submission_and_serves_it_once_attached(staged, sandbox):
    client = _standby(sandbox)
    try:
        client.start()  # interpreter and numpy up, no submission yet
        assert client.staged_dir is None and client.worker_pid is not None
        with pytest.raises(GraderError, match="attach"):
            call(client, "add", 1, 2)
        client.attach(staged)
        assert call(client, "add", 2, 3) == 5
        assert client.starts == 1  # the standby worker itself answered
        with pytest.raises(GraderError, match="already serves"):
            client.attach(staged)
    finally:
        client.close()


def test_attaching_before_the_start_loads_the_submission_at_the_start(staged, sandbox):
    client = _standby(sandbox)
    try:
        client.attach(staged)  # nothing runs yet: the folder is copied in when the worker starts
        assert client.worker_pid is None
        assert call(client, "add", 2, 3) == 5 and client.starts == 1
    finally:
        client.close()


def test_a_restarted_worker_is_attached_to_the_same_submission(staged, sandbox):
    client = _standby(sandbox)
    try:
        client.start()
        client.attach(staged)
        starts = client.starts
        assert failure(client, "exit_with_os").event == "crash"
        assert_recovers(client, starts)
    finally:
        client.close()


def test_attaching_a_missing_folder_is_a_grader_error(tmp_path):
    client = WorkerClient(config=sb.SandboxConfig(use_bwrap="off"))
    try:
        with pytest.raises(GraderError, match="does not exist"):
            client.attach(tmp_path / "absent")
        assert client.staged_dir is None
    finally:
        client.close()


def test_a_standby_worker_that_is_never_attached_leaves_nothing_behind(sandbox):
    client = _standby(sandbox)
    client.start()
    popen_pid, root = client.worker_pid, client._dirs.root
    client.close()
    assert leftovers(client, popen_pid) == [] and not os.path.exists(root)


# ---------------------------------------------------------------- the pipes


def test_arrays_of_every_size_near_the_pipe_buffers_cross_exactly(shared):
    rng = np.random.default_rng(1)
    for count in (1, 8191, 8192, 8193, 65536, 131073, 784 * 256):  # 8-byte values around 64 KiB and 1 MiB
        x = rng.normal(size=count)
        np.testing.assert_array_equal(call(shared, "add", x, 0.0), x)


def test_a_reply_with_more_arrays_than_one_writev_takes_arrives_whole(shared):
    arrays = [np.full(2, float(i)) for i in range(1500)]  # 1500 buffers, over IOV_MAX
    out = call(shared, "add", arrays, [])
    assert len(out) == 1500 and all(np.array_equal(a, b) for a, b in zip(out, arrays))


def test_pipes_are_widened_when_the_kernel_allows():
    import fcntl

    from grader.worker.client import PIPE_BYTES, widen_pipe

    read_fd, write_fd = os.pipe()
    try:
        before = fcntl.fcntl(write_fd, fcntl.F_GETPIPE_SZ)
        widen_pipe(write_fd)
        after = fcntl.fcntl(write_fd, fcntl.F_GETPIPE_SZ)
        assert after == PIPE_BYTES or (after == before and os.geteuid() != 0)
        for size in (1 << 40, 100):  # a C int would wrap 2**40 to 0, which shrinks the pipe to a page
            with pytest.raises(ValueError, match="between"):
                widen_pipe(write_fd, size)
        assert fcntl.fcntl(write_fd, fcntl.F_GETPIPE_SZ) == after
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_the_workers_own_objects_are_left_out_of_the_students_collections(tmp_path, sandbox):
    (tmp_path / "ex_gc.py").write_text("import gc\n\n\ndef frozen():\n    return gc.get_freeze_count()\n")
    for path in (tmp_path, tmp_path / "ex_gc.py"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    client = _standby(sandbox)
    try:
        client.attach(tmp_path)
        assert call(client, "frozen", module="ex_gc") > 10_000  # numpy's and the interpreter's objects
    finally:
        client.close()
