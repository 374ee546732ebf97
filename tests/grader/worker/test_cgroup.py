"""Each sandbox's cgroup: found on the host, joined before the worker runs, limited, and removed.

The parsing tests need nothing; the others start real workers and need a host where the grader
can create cgroups (root with cgroup v1, or a delegated cgroup v2 subtree).
"""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from grader.worker import cgroup as cg
from grader.worker import sandbox as sb
from grader.worker.client import WorkerClient, classify_exit
from tests.grader.worker.workers import readable, sandboxes as _sandboxes

SUPPORT = cg.detect_support()
needs_cgroups = pytest.mark.skipif(not SUPPORT.usable,
                                   reason=f"the grader cannot create cgroups here: {SUPPORT.reason}")
CONFIG = dict(memory_mb=512, max_processes=32, cpu_seconds=120)

STUDENT = '''
import os


def my_pid():
    return os.getpid()


def my_cgroups():
    with open("/proc/self/cgroup") as file:
        return file.read()


def orphan():
    """A grandchild in a session of its own, whose parent is gone: only its cgroup still knows it."""
    import ctypes
    libc = ctypes.CDLL(None)
    if libc.fork() == 0:
        libc.setsid()
        if libc.fork() == 0:
            while True:
                libc.pause()
        libc._exit(0)
    return True
'''


# ---------------------------------------------------------------- pure parsing


def test_proc_cgroup_names_the_v1_controllers_and_the_v2_path():
    text = "9:name=systemd:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/x\n0::/user.slice/grader.service\n"
    assert cg.parse_proc_cgroup(text) == {"name=systemd": "/", "memory": "/process_api/abc", "cpu": "/x",
                                          "cpuacct": "/x", cg.V2: "/user.slice/grader.service"}


def test_mountinfo_gives_cgroup_mounts_with_their_controllers_and_root():
    text = ("35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
            "41 31 0:38 /ci/job /sys/fs/cgroup rw,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
            "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n")
    memory, unified = cg.parse_mountinfo(text)
    assert memory == cg.Mount("/", "/sys/fs/cgroup/memory", "cgroup", ("rw", "memory"))
    assert unified.fstype == "cgroup2" and unified.root == "/ci/job"
    # a container sees its hierarchy from its own root: the path maps below the mount point
    assert cg.host_folder(unified, "/ci/job/grader") == "/sys/fs/cgroup/grader"
    assert cg.host_folder(unified, "/elsewhere") is None
    assert cg.host_folder(memory, "/process_api/abc") == "/sys/fs/cgroup/memory/process_api/abc"


def test_oom_kills_are_read_from_either_version():
    assert cg.parse_oom_kills("v2", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n") == 1
    assert cg.parse_oom_kills("v1", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n") == 2
    assert cg.parse_oom_kills("v1", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n", failcnt=5) == 0
    assert cg.parse_oom_kills("v1", "oom_kill_disable 0\nunder_oom 0\n", failcnt=3) == 3  # kernels before 4.13


def test_settings_limit_memory_pids_and_one_cpu_in_both_versions():
    limits = cg.CgroupLimits(memory_bytes=2**30, max_processes=10)
    v1 = {(c, f): v for c, f, v, _ in cg.settings_for("v1", limits)}
    v2 = {f: v for _, f, v, _ in cg.settings_for("v2", limits)}
    assert v1[("memory", "memory.limit_in_bytes")] == v1[("memory", "memory.memsw.limit_in_bytes")] == str(2**30)
    assert v1[("cpu", "cpu.cfs_quota_us")] == v1[("cpu", "cpu.cfs_period_us")]
    assert v2["memory.max"] == str(2**30) and v2["memory.swap.max"] == "0" and v2["memory.oom.group"] == "1"
    assert v2["cpu.max"] == f"{cg.CPU_PERIOD_US} {cg.CPU_PERIOD_US}"
    assert v1[("pids", "pids.max")] == v2["pids.max"] == str(10 + cg.SANDBOX_OVERHEAD_PIDS)


def test_a_death_counted_by_the_cgroup_is_memory_whatever_the_exit_status():
    config = sb.SandboxConfig()
    kind, message = classify_exit(4, "bwrap", "", "ex.f", config, oom_kills=1)
    assert kind == "memory" and f"{config.memory_mb} MB" in message
    assert classify_exit(4, "bwrap", "", "ex.f", config)[0] == "crash"


def test_without_usable_cgroups_the_reason_is_given():
    support = cg.CgroupSupport("none", reason="cgroup v2 does not delegate memory here")
    assert not support.usable and "delegate" in support.reason


# ---------------------------------------------------------------- real workers


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("staged")
    (folder / "ex_student.py").write_text(textwrap.dedent(STUDENT))
    return readable(folder)


def _client(staged: Path, sandbox: str, **config) -> WorkerClient:
    use = "on" if sandbox == "bwrap" else "off"
    return WorkerClient(staged, config=sb.SandboxConfig(use_bwrap=use, **{**CONFIG, **config}))


def _read(path: str) -> str:
    with open(path) as file:
        return file.read().strip()


@needs_cgroups
@pytest.mark.parametrize("sandbox", _sandboxes())
def test_the_worker_runs_in_a_limited_cgroup_of_its_own_that_goes_with_it(staged, sandbox):
    with _client(staged, sandbox) as client:
        group = client._process.cgroup
        assert group is not None and client.limits_scope == "sandbox" and client.limits_note == ""
        inside = client.request({"op": "call", "module": "ex_student", "name": "my_pid", "args": [], "kwargs": {}},
                                timeout=10)
        members = group.pids()
        assert client.worker_pid in members  # bwrap (or the worker) joined before exec
        assert sandbox == "bwrap" or inside in members
        if group.version == "v1":
            assert _read(os.path.join(group.folders["memory"], "memory.limit_in_bytes")) == str(512 * 2**20)
            assert _read(os.path.join(group.folders["pids"], "pids.max")) == str(32 + cg.SANDBOX_OVERHEAD_PIDS)
            assert _read(os.path.join(group.folders["cpu"], "cpu.cfs_quota_us")) == str(cg.CPU_PERIOD_US)
        else:
            assert _read(os.path.join(group.folders[cg.V2], "memory.max")) == str(512 * 2**20)
    assert not any(os.path.isdir(folder) for folder in group.folders.values())


@needs_cgroups
@pytest.mark.parametrize("sandbox", _sandboxes())
def test_closing_kills_an_orphan_that_left_the_session(staged, sandbox):
    # with a uid from the config (shared, so never swept), only the cgroup still holds the orphan
    uid = sb.fresh_uid(sb.SandboxConfig())
    with _client(staged, sandbox, uid=uid) as client:
        group = client._process.cgroup
        client.request({"op": "call", "module": "ex_student", "name": "orphan", "args": [], "kwargs": {}}, timeout=10)
        assert len(group.pids()) >= 2
        survivors_before_close = group.pids()
    alive = [pid for pid in survivors_before_close if os.path.exists(f"/proc/{pid}")
             and _read(f"/proc/{pid}/stat").rpartition(")")[2].split()[0] not in "ZX"]
    assert alive == []


@pytest.mark.skipif(not sb.is_root(), reason="a uid of the config is only used when the grader is root")
def test_closing_one_client_never_kills_another_clients_worker_with_the_same_configured_uid(staged):
    uid = sb.fresh_uid(sb.SandboxConfig())
    first = _client(staged, "none", uid=uid)
    second = _client(staged, "none", uid=uid)
    try:
        first.start()
        second.start()
        pid = second.worker_pid
        first.close()
        assert second._process.popen.poll() is None, "the other client's worker was killed"
        assert second.request({"op": "call", "module": "ex_student", "name": "my_pid", "args": [], "kwargs": {}},
                              timeout=10) > 0
        assert second.worker_pid == pid and second.starts == 1
    finally:
        first.close()
        second.close()
