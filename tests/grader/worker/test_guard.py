"""The guard's decisions, as pure functions (its installed form is tested through the real worker,
since an audit hook cannot be removed from the test process)."""
from __future__ import annotations

import os
import sys
import types

import pytest

from grader.worker.inside import guard
from grader.worker.inside.guard import BlockedImportError, BlockedOperationError, Guard, Policy


@pytest.fixture
def dirs(tmp_path):
    tmp, readable, other = tmp_path / "tmp", tmp_path / "readable", tmp_path / "other"
    for folder in (tmp, readable, other):
        folder.mkdir()
    (tmp_path / "link_out").symlink_to(other)
    return tmp_path


@pytest.fixture
def policy(dirs):
    return Policy(write_dirs=(str(dirs / "tmp"),), read_dirs=(str(dirs / "readable"),))


@pytest.mark.parametrize("relative, mode, flags, allowed", [
    ("tmp/a.txt", "w", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, True),
    ("tmp/sub/../a.txt", "a", os.O_WRONLY | os.O_APPEND, True),
    ("other/a.txt", "w", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, False),
    ("tmp/../other/a.txt", "w", os.O_WRONLY, False),
    ("tmp_sibling/a.txt", "w", os.O_WRONLY, False),  # a prefix of the name is not inside
    ("readable/a.txt", "r+", os.O_RDWR, False),
    ("readable/a.txt", None, os.O_RDWR, False),  # os.open passes no mode
    ("readable/a.txt", "r", os.O_RDONLY, True),
    ("tmp/a.txt", "r", os.O_RDONLY, True),
    ("other/a.txt", "r", os.O_RDONLY, False),
    ("link_out/a.txt", "r", os.O_RDONLY, False),  # symlinks are resolved first
])
def test_open(policy, dirs, relative, mode, flags, allowed):
    reason = guard.check_open(policy, str(dirs / relative), mode, flags)
    assert (reason is None) is allowed, reason


def test_reads_are_free_without_a_read_list_and_writes_never_are(dirs):
    open_policy = Policy(write_dirs=(str(dirs / "tmp"),))
    assert guard.check_open(open_policy, str(dirs / "other" / "x"), "r", os.O_RDONLY) is None
    assert guard.check_open(open_policy, str(dirs / "other" / "x"), "w", os.O_WRONLY) is not None


def test_system_places_and_open_descriptors_stay_readable(policy):
    assert guard.check_open(policy, "/usr/lib/os-release", "r", os.O_RDONLY) is None
    assert guard.check_open(policy, "/proc/self/status", "r", os.O_RDONLY) is None
    assert guard.check_open(policy, "/dev/null", "w", os.O_WRONLY) is None
    assert guard.check_open(policy, 5, "w", os.O_WRONLY) is None
    assert guard.check_open(policy, "/root/secret", "r", os.O_RDONLY) is not None


@pytest.mark.parametrize("event, args, words", [
    ("os.fork", (), "processes"),
    ("os.system", (b"ls",), "processes"),
    ("subprocess.Popen", ("ls", ["ls"], None, None), "processes"),
    ("os.posix_spawn", ("ls", ["ls"], {}), "processes"),
    ("os.exec", ("ls", ["ls"], None), "processes"),
    ("os.kill", (1, 9), "processes"),
    ("socket.__new__", (None, 2, 1, 0), "network"),
    ("socket.connect", (None, ("127.0.0.1", 80)), "network"),
    ("socket.getaddrinfo", ("example.org", 80, 0, 0, 0), "network"),
    ("resource.setrlimit", (9, (10, 10)), "limits"),
])
def test_processes_network_and_limits_are_refused(policy, event, args, words):
    assert words in guard.check_event(policy, event, args)


def test_changing_files_is_checked_on_every_path_argument(policy, dirs):
    tmp, other = str(dirs / "tmp"), str(dirs / "other")
    assert guard.check_event(policy, "os.mkdir", (tmp + "/new", 0o777, None)) is None
    assert guard.check_event(policy, "os.mkdir", (other + "/new", 0o777, None)) is not None
    assert guard.check_event(policy, "os.rename", (tmp + "/a", tmp + "/b", None, None)) is None
    assert guard.check_event(policy, "os.rename", (tmp + "/a", other + "/b", None, None)) is not None
    assert guard.check_event(policy, "os.rename", (other + "/a", tmp + "/b", None, None)) is not None
    assert guard.check_event(policy, "os.remove", (other + "/a", None)) is not None
    assert guard.check_event(policy, "shutil.rmtree", (other, None)) is not None
    assert guard.check_event(policy, "os.symlink", (other, tmp + "/l", None)) is None  # only the link is made


def test_paths_relative_to_a_directory_descriptor_are_resolved_through_it(policy, dirs, monkeypatch):
    monkeypatch.chdir(dirs / "tmp")
    fd = os.open(dirs / "other", os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert guard.check_event(policy, "os.mkdir", ("new", 0o777, fd)) is not None
        assert guard.check_event(policy, "os.mkdir", ("new", 0o777, None)) is None  # relative to the cwd
    finally:
        os.close(fd)


def test_listing_follows_the_read_list(policy, dirs):
    assert guard.check_event(policy, "os.listdir", (str(dirs / "readable"),)) is None
    assert guard.check_event(policy, "os.scandir", (str(dirs / "other"),)) is not None


def test_other_events_pass(policy):
    assert guard.check_event(policy, "compile", (b"", "<string>")) is None
    assert guard.check_event(policy, "ctypes.dlopen", ("libc.so.6",)) is None


def test_blocked_errors_are_the_exceptions_code_expects():
    assert issubclass(BlockedImportError, ImportError) and issubclass(BlockedOperationError, PermissionError)
    assert guard.is_blocked(BlockedImportError("x")) and not guard.is_blocked(ImportError("x"))


def test_import_blocker_refuses_packages_and_their_submodules(policy):
    sandbox_guard = Guard(policy)
    sandbox_guard.block_private(guard.PRIVATE_PACKAGES)
    for name in ("grader", "grader.worker", "reference.mlp", "solutions"):
        with pytest.raises(BlockedImportError, match="not available"):
            sandbox_guard.blocker.find_spec(name)
    assert sandbox_guard.blocker.find_spec("graders") is None
    assert sandbox_guard.blocker.find_spec("numpy") is None


def test_forbid_blocks_from_then_on_and_forgets_earlier_imports(policy, monkeypatch):
    fake = types.ModuleType("fake_autograd")
    monkeypatch.setitem(sys.modules, "fake_autograd", fake)
    monkeypatch.setitem(sys.modules, "fake_autograd.numpy", fake)
    sandbox_guard = Guard(policy)
    assert sandbox_guard.blocker.find_spec("fake_autograd") is None
    sandbox_guard.forbid(["fake_autograd.numpy"])
    assert "fake_autograd" not in sys.modules and "fake_autograd.numpy" not in sys.modules
    with pytest.raises(BlockedImportError, match="hand-written"):
        sandbox_guard.blocker.find_spec("fake_autograd")


def test_a_check_that_fails_refuses_rather_than_allows(policy):
    sandbox_guard = Guard(policy)
    with pytest.raises(BlockedOperationError, match="cannot check"):
        sandbox_guard._hook("open", (object(), "r", 0))
    sandbox_guard._hook("import", ("anything",))  # not audited: passes without a look
