"""One control group per sandbox, so its limits hold for the whole process tree.

rlimits are per process: four forked children may each stay under the address-space limit and
together hold twice the sandbox's memory, and sixty spinning processes get sixty times a
neighbour's CPU share. A cgroup counts the worker and everything it forks as one: memory (and
swap) up to `memory_mb`, at most `max_processes` pids, one CPU of quota and an equal share.

Two layouts, detected at run time:

- cgroup v2 (systemd hosts, delegated subtrees): children of the grader's own cgroup. A cgroup
  that enables controllers for its children may hold no processes itself, so the grader's
  processes first move into a leaf of their own (`LEAF`) beside the sandboxes.
- cgroup v1: one child per controller (memory, pids, cpu) under the grader's own cgroup of that
  controller.

The worker joins in the Popen preexec function, after fork and before exec, so no student
instruction ever runs outside it. Without a usable hierarchy (non-root, nothing delegated)
`detect_support()` says why and the limits stay per process.
"""
from __future__ import annotations

import errno
import functools
import os
import secrets
import signal
import time
from dataclasses import dataclass
from typing import Callable, Optional

CONTROLLERS = ("memory", "pids", "cpu")
V2 = "unified"  # the key of the v2 folder in `SandboxCgroup.folders`
LEAF = "bpg-grader"  # the v2 leaf the grader's own processes move to
PREFIX = "bpg-sandbox-"
CPU_PERIOD_US = 100_000
SANDBOX_OVERHEAD_PIDS = 4  # bubblewrap's own processes (outside and as pid 1 inside) count too


@dataclass(frozen=True)
class CgroupLimits:
    """What one sandbox may use, all its processes together."""

    memory_bytes: int
    max_processes: int
    cpus: float = 1.0  # CPU quota, in CPUs


@dataclass(frozen=True)
class CgroupSupport:
    """Where sandbox cgroups go on this host, or why they cannot."""

    version: str  # "v2", "v1" or "none"
    parents: tuple[tuple[str, str], ...] = ()  # (controller, or V2, -> the folder new cgroups go in)
    reason: str = ""  # for "none": what is missing, in words an instructor can act on

    @property
    def usable(self) -> bool:
        return self.version != "none"


@dataclass(frozen=True)
class Mount:
    """A cgroup file system mount from /proc/self/mountinfo."""

    root: str  # the folder of the hierarchy seen at `point` (not "/" inside a container)
    point: str
    fstype: str  # "cgroup" or "cgroup2"
    options: tuple[str, ...]  # super options: the v1 controllers of the hierarchy


# ---------------------------------------------------------------- pure parsing


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """/proc/<pid>/cgroup -> controller -> path; the v2 hierarchy under the key V2."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if not number.isdigit() or not path:
            continue
        if number == "0" and controllers == "":
            out[V2] = path
        for name in filter(None, controllers.split(",")):
            out[name] = path
    return out


def parse_mountinfo(text: str) -> list[Mount]:
    """The cgroup and cgroup2 mounts of a /proc/<pid>/mountinfo text."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or len(tail) < 3 or tail[0] not in ("cgroup", "cgroup2"):
            continue
        mounts.append(Mount(fields[3], fields[4], tail[0], tuple(tail[2].split(","))))
    return mounts


def host_folder(mount: Mount, path: str) -> Optional[str]:
    """The folder of cgroup `path` (as /proc/self/cgroup names it) under `mount`, if visible there."""
    root = mount.root.rstrip("/")
    if root and path != root and not path.startswith(root + "/"):
        return None
    return os.path.join(mount.point, path[len(root):].lstrip("/")).rstrip("/") or "/"


def parse_oom_kills(version: str, text: str, failcnt: int = 0) -> int:
    """OOM kills inside one cgroup: v2 memory.events, v1 memory.oom_control (a count since 4.13;
    on older kernels `under_oom` or the limit's fail count stands in for it)."""
    fields = dict(line.split(None, 1) for line in text.splitlines() if len(line.split()) == 2)
    if version == "v2":
        return int(fields.get("oom_kill", 0))
    if "oom_kill" in fields:
        return int(fields["oom_kill"]) + int(fields.get("under_oom", 0))
    return int(fields.get("under_oom", 0)) or failcnt


def settings_for(version: str, limits: CgroupLimits) -> list[tuple[str, str, str, bool]]:
    """(controller, file, value, required) to write, in order, for a new sandbox cgroup.

    Optional files (swap, group OOM kill) are absent on some kernels or without swap accounting.
    """
    memory, pids = str(limits.memory_bytes), str(limits.max_processes + SANDBOX_OVERHEAD_PIDS)
    quota = str(int(limits.cpus * CPU_PERIOD_US))
    if version == "v2":
        return [(V2, "memory.max", memory, True), (V2, "memory.swap.max", "0", False),
                (V2, "memory.oom.group", "1", False), (V2, "pids.max", pids, True),
                (V2, "cpu.max", f"{quota} {CPU_PERIOD_US}", True), (V2, "cpu.weight", "100", True)]
    return [("memory", "memory.limit_in_bytes", memory, True),
            ("memory", "memory.memsw.limit_in_bytes", memory, False),  # memory + swap, after the limit
            ("pids", "pids.max", pids, True),
            ("cpu", "cpu.cfs_period_us", str(CPU_PERIOD_US), True), ("cpu", "cpu.cfs_quota_us", quota, True),
            ("cpu", "cpu.shares", "1024", True)]


# ---------------------------------------------------------------- detection


def _read(path: str) -> str:
    with open(path, encoding="ascii", errors="replace") as file:
        return file.read()


def _write(path: str, value: str) -> None:
    with open(path, "w", encoding="ascii") as file:
        file.write(value)


@functools.lru_cache(maxsize=None)
def detect_support() -> CgroupSupport:
    """The usable hierarchy (v2 preferred), tried once per grader process."""
    try:
        own = parse_proc_cgroup(_read("/proc/self/cgroup"))
        mounts = parse_mountinfo(_read("/proc/self/mountinfo"))
    except OSError as exc:
        return CgroupSupport("none", reason=f"cannot read this process's cgroups ({exc.strerror})")
    v2 = _v2_support(own, mounts)
    if v2.usable:
        return v2
    v1 = _v1_support(own, mounts)
    if v1.usable:
        return v1
    return CgroupSupport("none", reason=f"{v2.reason}; {v1.reason}")


def _probe(parents: dict[str, str]) -> str:
    """'' when a child cgroup can be made (and removed) under each parent, else why not."""
    for controller, parent in parents.items():
        probe = os.path.join(parent, f"{PREFIX}probe-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            os.mkdir(probe)
            os.rmdir(probe)
        except OSError as exc:
            return f"cannot create a {controller} cgroup under {parent} ({exc.strerror})"
    return ""


def _v2_support(own: dict[str, str], mounts: list[Mount]) -> CgroupSupport:
    mount = next((m for m in mounts if m.fstype == "cgroup2"), None)
    if mount is None or V2 not in own:
        return CgroupSupport("none", reason="cgroup v2 is not mounted")
    folder = host_folder(mount, own[V2])
    if folder is None:
        return CgroupSupport("none", reason="this process's cgroup v2 folder is not visible")
    if os.path.basename(folder) == LEAF:  # an earlier grader process already made the leaf
        folder = os.path.dirname(folder)
    try:
        available = set(_read(os.path.join(folder, "cgroup.controllers")).split())
    except OSError as exc:
        return CgroupSupport("none", reason=f"cgroup v2: {exc.strerror}")
    missing = [c for c in CONTROLLERS if c not in available]
    if missing:
        return CgroupSupport("none", reason=f"cgroup v2 does not delegate {', '.join(missing)} here")
    problem = _enable_v2_controllers(folder) or _probe({V2: folder})
    if problem:
        return CgroupSupport("none", reason=f"cgroup v2: {problem}")
    return CgroupSupport("v2", ((V2, folder),))


def _enable_v2_controllers(folder: str) -> str:
    """Enable the controllers for `folder`'s children; '' on success, else why not.

    A non-root cgroup with processes cannot enable them ("no internal processes"): its processes
    (this grader, and any other in the same cgroup) move into the leaf LEAF first.
    """
    control = os.path.join(folder, "cgroup.subtree_control")
    request = " ".join(f"+{c}" for c in CONTROLLERS)
    try:
        if set(CONTROLLERS) <= set(_read(control).split()):
            return ""
        try:
            _write(control, request)
            return ""
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise
        leaf = os.path.join(folder, LEAF)
        os.makedirs(leaf, exist_ok=True)
        for pid in _read(os.path.join(folder, "cgroup.procs")).split():
            try:
                _write(os.path.join(leaf, "cgroup.procs"), pid)
            except ProcessLookupError:
                continue
        _write(control, request)
        return ""
    except OSError as exc:
        return f"cannot enable {request} in {control} ({exc.strerror})"


def _v1_support(own: dict[str, str], mounts: list[Mount]) -> CgroupSupport:
    parents = {}
    for controller in CONTROLLERS:
        mount = next((m for m in mounts if m.fstype == "cgroup" and controller in m.options), None)
        folder = host_folder(mount, own.get(controller, "/")) if mount else None
        if folder is None or not os.path.isdir(folder):
            return CgroupSupport("none", reason=f"cgroup v1 has no usable {controller} hierarchy")
        parents[controller] = folder
    problem = _probe(parents)
    if problem:
        return CgroupSupport("none", reason=f"cgroup v1: {problem}")
    return CgroupSupport("v1", tuple(parents.items()))


# ---------------------------------------------------------------- one sandbox's cgroup


@dataclass
class SandboxCgroup:
    """The cgroup (v2) or cgroups (v1, one per controller) of one sandbox."""

    version: str
    folders: dict[str, str]  # controller (or V2) -> folder

    @property
    def procs_files(self) -> tuple[str, ...]:
        return tuple(os.path.join(folder, "cgroup.procs") for folder in self.folders.values())

    def preexec_join(self) -> Callable[[], None]:
        """A function for the child between fork and exec: it moves itself into the cgroup."""
        files = self.procs_files

        def join() -> None:
            pid = str(os.getpid())
            for path in files:
                _write(path, pid)

        return join

    def pids(self) -> list[int]:
        """Every process still in the cgroup (zombies included until reaped)."""
        found: set[int] = set()
        for path in self.procs_files:
            try:
                found |= {int(p) for p in _read(path).split()}
            except (OSError, ValueError):
                continue
        return sorted(found)

    def oom_kills(self) -> int:
        """How many processes the kernel killed for the cgroup's memory limit."""
        folder = self.folders.get(V2 if self.version == "v2" else "memory")
        if folder is None:
            return 0
        try:
            if self.version == "v2":
                return parse_oom_kills("v2", _read(os.path.join(folder, "memory.events")))
            failcnt = int(_read(os.path.join(folder, "memory.failcnt")).strip() or 0)
            return parse_oom_kills("v1", _read(os.path.join(folder, "memory.oom_control")), failcnt)
        except (OSError, ValueError):
            return 0

    def kill(self, patience: float = 5.0) -> None:
        """SIGKILL everything in the cgroup, until it is empty (cgroup.kill where the kernel has it)."""
        kill_file = os.path.join(self.folders.get(V2, ""), "cgroup.kill")
        if self.version == "v2" and os.path.exists(kill_file):
            try:
                _write(kill_file, "1")
            except OSError:
                pass
        stop = time.monotonic() + patience
        while time.monotonic() < stop:
            left = self.pids()
            if not left:
                return
            for pid in left:  # the pids limit bounds how many can be forked meanwhile
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)

    def remove(self, patience: float = 5.0) -> None:
        """Kill what is left and delete the folders (an exiting process may hold one a moment)."""
        self.kill(patience)
        stop = time.monotonic() + patience
        for folder in self.folders.values():
            while os.path.isdir(folder):
                try:
                    os.rmdir(folder)
                except OSError as exc:
                    if exc.errno != errno.EBUSY or time.monotonic() > stop:
                        break
                    time.sleep(0.01)


def create_cgroup(support: CgroupSupport, limits: CgroupLimits) -> SandboxCgroup:
    """A fresh, empty cgroup with `limits` under the grader's own; raises OSError if refused."""
    if not support.usable:
        raise OSError(errno.ENOTSUP, f"no usable cgroups: {support.reason}")
    name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
    cgroup = SandboxCgroup(support.version, {})
    try:
        for controller, parent in support.parents:
            folder = os.path.join(parent, name)
            os.mkdir(folder)
            cgroup.folders[controller] = folder
        for controller, file_name, value, required in settings_for(support.version, limits):
            path = os.path.join(cgroup.folders[controller], file_name)
            try:
                _write(path, value)
            except OSError:
                if required:
                    raise
    except BaseException:
        cgroup.remove(patience=1.0)
        raise
    return cgroup
