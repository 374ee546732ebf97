"""The sandbox's pieces: config, detection, folders, the bwrap command line, limits, uids."""
from __future__ import annotations

import importlib.util
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from grader.worker import sandbox as sb
from grader.worker.sandbox import Runtime, SandboxConfig, WorkerDirs

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch uids")


# ---------------------------------------------------------------- config and choice


def test_config_defaults():
    config = SandboxConfig()
    assert (config.memory_mb, config.use_bwrap, config.uid) == (2048, "auto", None)


@pytest.mark.parametrize("fields, words", [
    ({"use_bwrap": "yes"}, "use_bwrap"),
    ({"memory_mb": 0}, "memory_mb"),
    ({"memory_mb": 100}, "at least 256"),
    ({"cpu_seconds": -1}, "cpu_seconds"),
    ({"max_processes": 1.5}, "max_processes"),
    ({"max_file_mb": True}, "max_file_mb"),
    ({"max_open_files": 8}, "at least 32"),
    ({"uid": 0}, "uid"),
])
def test_config_rejects_bad_values(fields, words):
    with pytest.raises(ValueError, match=words):
        SandboxConfig(**fields)


@pytest.mark.parametrize("use, usable, expected", [
    ("off", True, "none"), ("auto", True, "bwrap"), ("auto", False, "none"), ("on", True, "bwrap"),
])
def test_choose_sandbox(monkeypatch, use, usable, expected):
    monkeypatch.setattr(sb, "detect_bwrap", lambda: usable)
    assert sb.choose_sandbox(SandboxConfig(use_bwrap=use)) == expected


def test_on_without_a_usable_bwrap_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(sb, "detect_bwrap", lambda: False)
    with pytest.raises(sb.SandboxUnavailableError, match="install bubblewrap"):
        sb.choose_sandbox(SandboxConfig(use_bwrap="on"))


def test_detect_bwrap_really_runs_it_once():
    first = sb.detect_bwrap()
    hits = sb.detect_bwrap.cache_info().hits
    assert sb.detect_bwrap() is first and sb.detect_bwrap.cache_info().hits == hits + 1
    assert sb.detect_bwrap("no-such-bwrap-binary") is False


def test_namespace_flags():
    privileged, unprivileged = sb.namespace_flags(True), sb.namespace_flags(False)
    for flags in (privileged, unprivileged):
        assert "--die-with-parent" in flags and "--new-session" in flags
    assert "--unshare-all" in unprivileged
    # as root: every namespace but the user one, and only the capabilities to drop the uid
    assert {"--unshare-pid", "--unshare-net", "--unshare-ipc"} <= set(privileged)
    assert not any(f.startswith("--unshare-user") or f == "--unshare-all" for f in privileged)
    caps = [privileged[i + 1] for i, f in enumerate(privileged) if f in ("--cap-add", "--cap-drop")]
    assert caps == ["ALL", "CAP_SETUID", "CAP_SETGID"]


# ---------------------------------------------------------------- the runtime and the folders


def test_host_runtime_is_the_bare_interpreter():
    runtime = sb.host_runtime()
    assert os.path.isfile(runtime.python) and not os.path.islink(runtime.python)
    assert any(os.path.isfile(os.path.join(p, "os.py")) for p in runtime.python_path)
    assert os.path.basename(runtime.numpy_dirs[0]) == "numpy"
    assert not any("site-packages" in p or "dist-packages" in p for p in runtime.python_path)
    assert any(os.path.isdir(os.path.join(d, "pytest")) for d in runtime.site_dirs)


@pytest.fixture
def staged(tmp_path):
    folder = tmp_path / "staged"
    folder.mkdir()
    (folder / "ex1_activations_losses.py").write_text("x = 1\n")
    (folder / "ex4_autograd_scalar.cells.json").write_text('{"cells": []}')
    (folder / "notes.txt").write_text("not staged")
    (folder / "bad-name.py").write_text("x = 1\n")
    (folder / "big.py").write_text("x = 1\n" * 10)
    (folder / "link.py").symlink_to(folder / "ex1_activations_losses.py")
    return folder


def assert_bytecode_checks_its_source(package: Path) -> None:
    """One pyc per module, hash-based and checked, so the worker never runs stale bytecode."""
    sources = sorted(package.glob("*.py"))
    cached = {Path(importlib.util.cache_from_source(str(path))) for path in sources}
    assert set((package / "__pycache__").iterdir()) == cached
    for path in sources:
        header = Path(importlib.util.cache_from_source(str(path))).read_bytes()[:16]
        assert header[:4] == importlib.util.MAGIC_NUMBER
        assert int.from_bytes(header[4:8], "little") == 0b11  # hash-based, checked against the source
        assert header[8:16] == importlib.util.source_hash(path.read_bytes())


def test_worker_dirs_hold_a_readable_snapshot(staged):
    uid = 54321 if os.geteuid() == 0 else None
    dirs = sb.make_worker_dirs(str(staged), uid=uid, max_file_bytes=30)
    try:
        assert sorted(os.listdir(dirs.submission)) == ["ex1_activations_losses.py", "ex4_autograd_scalar.cells.json"]
        for name in os.listdir(dirs.submission):
            assert os.stat(os.path.join(dirs.submission, name)).st_mode & 0o777 == 0o644
        package = Path(dirs.packages) / sb.WORKER_PACKAGE
        assert {"main.py", "protocol.py", "handler.py", "guard.py", "importer.py"} <= set(os.listdir(package))
        assert_bytecode_checks_its_source(package)
        assert os.stat(dirs.root).st_mode & 0o777 == 0o711
        if uid is not None:
            assert os.stat(dirs.tmp).st_uid == uid
        assert os.stat(dirs.tmp).st_mode & 0o777 == 0o700
    finally:
        import shutil

        shutil.rmtree(dirs.root)


def test_link_numpy(tmp_path):
    dirs = WorkerDirs(str(tmp_path), "", "", str(tmp_path / "lib"), "")
    os.makedirs(dirs.lib)
    runtime = Runtime("", (), (), ("/x/numpy", "/x/numpy.libs"), ())
    sb.link_numpy(dirs, runtime, None)
    assert os.readlink(tmp_path / "lib" / "numpy") == "/x/numpy"
    sb.link_numpy(dirs, runtime, {"/x/numpy": 7, "/x/numpy.libs": 8})
    assert os.readlink(tmp_path / "lib" / "numpy.libs") == "/proc/self/fd/8"


# ---------------------------------------------------------------- the command line


@pytest.fixture
def fake_host(tmp_path):
    """A made-up interpreter layout: stdlib with site-packages inside, numpy in a venv."""
    python = tmp_path / "py" / "bin" / "python3.11"
    stdlib = tmp_path / "py" / "lib" / "python3.11"
    venv_site = tmp_path / "venv" / "site-packages"
    for folder in (python.parent, stdlib / "lib-dynload", stdlib / "site-packages",
                   venv_site / "numpy", venv_site / "numpy.libs"):
        folder.mkdir(parents=True)
    python.write_text("")
    runtime = Runtime(str(python), (str(stdlib), str(stdlib / "lib-dynload")), (),
                      (str(venv_site / "numpy"), str(venv_site / "numpy.libs")),
                      (str(stdlib / "site-packages"), str(venv_site)))
    dirs = WorkerDirs(str(tmp_path / "w"), str(tmp_path / "w" / "packages"), str(tmp_path / "w" / "submission"),
                      str(tmp_path / "w" / "lib"), str(tmp_path / "w" / "tmp"))
    return runtime, dirs, stdlib, venv_site


def pairs(args: list[str], flag: str) -> list[tuple[str, str]]:
    return [(args[i + 1], args[i + 2]) for i, a in enumerate(args) if a == flag]


def test_bwrap_arguments_bind_only_what_the_worker_needs(fake_host):
    runtime, dirs, stdlib, venv_site = fake_host
    args = sb.bwrap_arguments(runtime, dirs, SandboxConfig(tmp_mb=8), {"A": "1"})
    binds = dict((dest, src) for src, dest in pairs(args, "--ro-bind"))
    assert "--clearenv" in args and ["--setenv", "A", "1"] == args[args.index("--setenv"):args.index("--setenv") + 3]
    assert binds["/usr"] == "/usr"
    assert binds[str(stdlib)] == str(stdlib) and binds[runtime.python] == runtime.python
    assert binds["/opt/numpy/numpy"] == str(venv_site / "numpy")
    assert binds["/opt/numpy/numpy.libs"] == str(venv_site / "numpy.libs")
    assert binds["/submission"] == dirs.submission and binds["/opt/worker"] == dirs.packages
    assert str(venv_site) not in binds.values()  # the venv's other packages stay outside
    hidden = [args[i + 1] for i, a in enumerate(args) if a == "--tmpfs"]
    assert str(stdlib / "site-packages") in hidden and str(venv_site) not in hidden
    # the tmpfs must come after the bind it covers, or the bind would cover it instead
    assert args.index(str(stdlib / "site-packages")) > args.index(str(stdlib))
    size = args.index("--size")
    assert args[size + 1] == str(8 * 2**20) and args[size + 2:size + 4] == ["--tmpfs", "/tmp"]
    assert args[-3:] == ["--chdir", "/tmp", "--"]
    assert "--bind" not in args and "--dev-bind" not in args  # nothing writable from the host


def test_bwrap_parents_are_made_readable_before_binds(fake_host):
    runtime, dirs, stdlib, _ = fake_host
    args = sb.bwrap_arguments(runtime, dirs, SandboxConfig(), {})
    made = [args[i + 1] for i, a in enumerate(args) if a == "--dir"]
    assert str(Path(runtime.python).parent) in made and "/opt/numpy" in made
    for i, a in enumerate(args):
        if a == "--dir":
            assert args[i - 2:i] == ["--perms", "0755"]
    assert args.index(str(Path(runtime.python).parent)) < args.index(runtime.python)


def test_worker_settings_say_where_things_are_as_the_worker_sees_them(fake_host):
    runtime, dirs, stdlib, _ = fake_host
    boxed = sb.worker_settings("bwrap", runtime, dirs, request_fd=5, reply_fd=6, uid=1234, fds=None,
                               forbidden=("torch",), first_handle=9)
    assert boxed["python_path"][0] == "/opt/numpy" and (boxed["submission"], boxed["tmp"]) == ("/submission", "/tmp")
    assert boxed["read_dirs"] is None and boxed["write_dirs"] == ["/tmp"]
    assert (boxed["drop"], boxed["forbidden"], boxed["first_handle"]) == ([1234, 1234], ["torch"], 9)
    bare = sb.worker_settings("none", runtime, dirs, request_fd=5, reply_fd=6, uid=None,
                              fds={str(stdlib): 11})
    assert bare["python_path"] == [dirs.lib, "/proc/self/fd/11", str(stdlib / "lib-dynload")]
    assert dirs.submission in bare["read_dirs"] and bare["write_dirs"] == [dirs.tmp] and bare["drop"] is None


def test_build_command(fake_host):
    runtime, dirs, _, _ = fake_host
    settings = {"x": 1}
    boxed = sb.build_command("bwrap", runtime, dirs, SandboxConfig(), settings, {})
    bare = sb.build_command("none", runtime, dirs, SandboxConfig(), settings, {})
    tail = [runtime.python, "-I", "-S", "-B", "-c", sb.BOOTSTRAP]
    assert boxed[-8:] == [*tail, "/opt/worker", json.dumps(settings)] and "bwrap" in boxed[0]
    assert bare == [*tail, dirs.packages, json.dumps(settings)]


def test_worker_environment_inherits_nothing(monkeypatch, fake_host):
    _, dirs, _, _ = fake_host
    monkeypatch.setenv("SECRET_TOKEN", "x")
    env = sb.worker_environment("none", dirs, {"EXTRA": 1})
    assert "SECRET_TOKEN" not in env and env["EXTRA"] == "1" and env["TMPDIR"] == dirs.tmp
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
    assert sb.worker_environment("bwrap", dirs)["HOME"] == "/tmp"


# ---------------------------------------------------------------- limits


def test_process_limits():
    config = SandboxConfig(memory_mb=300, cpu_seconds=7, max_file_mb=3, max_open_files=40)
    limits = sb.process_limits(config, nproc=12)
    assert limits[resource.RLIMIT_AS] == (300 * 2**20, 300 * 2**20)
    assert limits[resource.RLIMIT_CPU] == (7, 12)
    assert limits[resource.RLIMIT_NPROC] == (12, 12)
    assert limits[resource.RLIMIT_FSIZE] == (3 * 2**20, 3 * 2**20)
    assert limits[resource.RLIMIT_NOFILE] == (40, 40)
    assert limits[resource.RLIMIT_CORE] == (0, 0)


def test_preexec_applies_the_limits_in_the_child():
    limits = sb.process_limits(SandboxConfig(memory_mb=300, cpu_seconds=7, max_open_files=40), nproc=500)
    script = ("import resource, json; print(json.dumps([resource.getrlimit(r) for r in "
              "(resource.RLIMIT_AS, resource.RLIMIT_CPU, resource.RLIMIT_NOFILE, resource.RLIMIT_CORE)]))")
    out = subprocess.run([sys.executable, "-I", "-S", "-c", script], preexec_fn=sb.make_preexec(limits),
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [[300 * 2**20] * 2, [7, 12], [40, 40], [0, 0]]


def test_nproc_limit(monkeypatch):
    config = SandboxConfig(max_processes=10)
    assert sb.nproc_limit(config, 123456) == 10
    assert sb.nproc_limit(config, None) == len(sb.pids_of(uid=os.getuid())) + 10


def test_fresh_uid(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert sb.fresh_uid(SandboxConfig()) is None
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert sb.fresh_uid(SandboxConfig(uid=4242)) == 4242
    uids = {sb.fresh_uid(SandboxConfig()) for _ in range(5)}
    assert all(sb.PRIVATE_UID_RANGE[0] <= uid < sb.PRIVATE_UID_RANGE[1] for uid in uids) and len(uids) > 1


@root_only
def test_kill_uid_ends_every_process_of_a_private_uid():
    uid = sb.fresh_uid(SandboxConfig())
    sleepers = [subprocess.Popen(["sleep", "30"], user=uid, group=uid, extra_groups=[], start_new_session=True)
                for _ in range(2)]
    try:
        assert sorted(sb.pids_of(uid=uid)) == sorted(p.pid for p in sleepers)
        sb.kill_uid(uid)
        for sleeper in sleepers:
            assert sleeper.wait(timeout=5) == -9
        assert sb.pids_of(uid=uid) == []
    finally:
        for sleeper in sleepers:
            sleeper.kill()
            sleeper.wait()


def test_worker_dirs_made_before_the_submission_are_filled_later(staged):
    uid = 54321 if os.geteuid() == 0 else None
    dirs = sb.make_worker_dirs(None, uid=uid)
    try:
        assert os.listdir(dirs.submission) == []
        assert os.stat(dirs.submission).st_mode & 0o777 == 0o755
        sb.fill_submission(dirs, str(staged), max_file_bytes=30)
        assert sorted(os.listdir(dirs.submission)) == ["ex1_activations_losses.py", "ex4_autograd_scalar.cells.json"]
    finally:
        import shutil
        shutil.rmtree(dirs.root)


def test_the_worker_package_is_compiled_once_per_process():
    first = sb.compiled_package(sb.INSIDE_PACKAGE)
    assert sb.compiled_package(sb.INSIDE_PACKAGE) is first
    assert {name for name, _, _ in first} == {p.name for p in sb.INSIDE_PACKAGE.glob("*.py")}
