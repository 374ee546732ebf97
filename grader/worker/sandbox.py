"""How a worker process is confined: its folders, its command line and its resource limits.

Two sandboxes, named in every report:

- "bwrap": bubblewrap namespaces. No network, its own pid namespace (killing it kills every
  process inside), a fresh root holding only read-only binds of what the worker needs: the
  interpreter and its standard library (site-packages hidden under an empty tmpfs), numpy, the
  system libraries, the worker package at /opt/worker and the staged submission at /submission
  (a repository's files under /submission/tree, see tree_copy.py).
  Its cwd is a private, size-capped tmpfs /tmp. The grader's repository is not there to be read.
- "none": the same `python -I -S -B` worker with resource limits only, for hosts where bubblewrap
  is missing or cannot create namespaces; the worker's guard then also refuses reads outside
  the folders it needs.

Both apply rlimits in the child before exec (address space, CPU seconds, processes, file size,
open files, no core dumps). Root ignores RLIMIT_NPROC, so a grader running as root starts the
worker as root only long enough for it to drop to a fresh unprivileged uid of its own before any
student code runs; a uid no other process uses also lets the client kill every process the
worker ever made, even ones that left its session.

rlimits count one process at a time; where the host allows it, each worker also joins a cgroup
of its own in the same preexec function (see cgroup.py), so memory, processes and CPU are
limited for everything the worker forks together.
"""
from __future__ import annotations

import functools
import importlib.util
import json
import os
import py_compile
import random
import resource
import shutil
import site
import stat
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from grader.errors import GraderError
from grader.worker.tree_copy import TREE_FOLDER, copy_tree

SANDBOXES = ("bwrap", "none")
USE_BWRAP = ("auto", "on", "off")
WORKER_PACKAGE = "runner"  # the name the worker package runs under inside the sandbox
INSIDE_PACKAGE = Path(__file__).resolve().parent / "inside"
# where things appear inside the bwrap sandbox
BOX_SUBMISSION, BOX_PACKAGES, BOX_NUMPY, BOX_TMP = "/submission", "/opt/worker", "/opt/numpy", "/tmp"
SYSTEM_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# uids handed to workers when the grader runs as root: far above ordinary and subordinate ranges
PRIVATE_UID_RANGE = (1_900_000_000, 1_901_000_000)
MAX_STAGED_FILE_BYTES = 16 * 2**20  # a staged file larger than this is not the loader's output
BOOTSTRAP = ("import sys; sys.path.insert(0, sys.argv[1]); "
             f"from {WORKER_PACKAGE}.main import main; sys.exit(main(sys.argv[2:]))")


class SandboxUnavailableError(GraderError):
    """The requested sandbox cannot run on this machine."""


@dataclass(frozen=True)
class SandboxConfig:
    """Limits for one worker process (and everything it starts)."""

    memory_mb: int = 2048  # address space
    cpu_seconds: int = 600  # CPU time over the worker's life; a backstop to the wall-clock timeouts
    max_processes: int = 64  # processes and threads of the worker's uid
    max_file_mb: int = 64  # largest file it may write
    max_open_files: int = 256
    use_bwrap: str = "auto"  # "auto": bwrap when usable; "on": bwrap or an error; "off": limits only
    tmp_mb: int = 256  # size of the private /tmp under bwrap
    uid: Optional[int] = None  # uid for the worker when the grader is root; None: a fresh one each worker

    def __post_init__(self) -> None:
        if self.use_bwrap not in USE_BWRAP:
            raise ValueError(f"use_bwrap must be one of {', '.join(USE_BWRAP)}, not {self.use_bwrap!r}")
        for name in ("memory_mb", "cpu_seconds", "max_processes", "max_file_mb", "max_open_files", "tmp_mb"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive int, not {value!r}")
        if self.memory_mb < 256:
            raise ValueError("memory_mb must be at least 256: numpy alone needs about 100 MB")
        if self.max_open_files < 32:
            raise ValueError("max_open_files must be at least 32: the interpreter needs some")
        if self.uid is not None and (not isinstance(self.uid, int) or self.uid <= 0):
            raise ValueError(f"uid must be a positive int (not root), not {self.uid!r}")


# ---------------------------------------------------------------- which sandbox


def is_root() -> bool:
    return os.geteuid() == 0


def namespace_flags(privileged: bool) -> list[str]:
    """bwrap's isolation flags.

    As root, no user namespace: inside one, the worker's later switch to an unprivileged uid would
    be impossible (only root is mapped) and RLIMIT_NPROC would still not count. So root gets
    every other namespace, and keeps only the capabilities needed to drop its uid.
    """
    common = ["--die-with-parent", "--new-session"]
    if privileged:
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", *common]
    return ["--unshare-all", *common]


@functools.lru_cache(maxsize=None)
def detect_bwrap(executable: str = "bwrap") -> bool:
    """Whether bubblewrap really runs here with the flags the worker needs (tried once, cached)."""
    path = shutil.which(executable)
    if path is None:
        return False
    command = [path, *namespace_flags(is_root()), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
               "--perms", "1777", "--size", str(2**20), "--tmpfs", "/tmp", "--chdir", "/tmp",
               "--", host_runtime().python, "-I", "-S", "-c", "pass"]
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def choose_sandbox(config: SandboxConfig) -> str:
    """"bwrap" or "none", as `config.use_bwrap` asks and this machine allows."""
    if config.use_bwrap == "off":
        return "none"
    if detect_bwrap():
        return "bwrap"
    if config.use_bwrap == "on":
        raise SandboxUnavailableError(
            "use_bwrap='on' but bubblewrap cannot create a sandbox here: install bubblewrap (package "
            "bubblewrap) and allow it namespaces, or set use_bwrap='auto' to grade with limits only")
    return "none"


# ---------------------------------------------------------------- what the worker needs


@dataclass(frozen=True)
class Runtime:
    """The host files a worker runs from."""

    python: str  # the real interpreter binary (not a venv symlink)
    python_path: tuple[str, ...]  # sys.path of `python -I -S`: the standard library
    shared_libraries: tuple[str, ...]  # libpython, when the interpreter links it
    numpy_dirs: tuple[str, ...]  # numpy/ and, for wheels, numpy.libs/ beside it
    site_dirs: tuple[str, ...]  # site-packages folders that must stay hidden


@functools.lru_cache(maxsize=None)
def host_runtime() -> Runtime:
    import numpy

    python = os.path.realpath(sys.executable)
    probe = subprocess.run([python, "-I", "-S", "-c", "import sys, json; print(json.dumps(sys.path))"],
                           capture_output=True, text=True, timeout=30, check=True)
    python_path = tuple(os.path.realpath(p) for p in json.loads(probe.stdout) if p)
    libraries = []
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        candidate = os.path.join(sysconfig.get_config_var("LIBDIR") or "", sysconfig.get_config_var("INSTSONAME") or "")
        if os.path.isfile(candidate):
            libraries.append(os.path.realpath(candidate))
    numpy_dir = os.path.realpath(os.path.dirname(numpy.__file__))
    numpy_dirs = [numpy_dir] + [d for d in [numpy_dir + ".libs"] if os.path.isdir(d)]
    return Runtime(python, python_path, tuple(libraries), tuple(numpy_dirs), _site_dirs())


def _site_dirs() -> tuple[str, ...]:
    found = set(site.getsitepackages()) | {site.getusersitepackages()}
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        paths = sysconfig.get_paths(vars={"base": prefix, "platbase": prefix})
        found |= {paths["purelib"], paths["platlib"]}
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    found |= {"/usr/lib/python3/dist-packages", f"/usr/local/lib/{version}/dist-packages",
              f"/usr/lib/{version}/site-packages", f"/usr/local/lib/{version}/site-packages"}
    return tuple(sorted(os.path.realpath(d) for d in found if d and os.path.isdir(d)))


# ---------------------------------------------------------------- the worker's folders


@dataclass(frozen=True)
class WorkerDirs:
    """Host folders made for one worker client (`root` holds all of them)."""

    root: str
    packages: str  # holds the worker package under WORKER_PACKAGE
    submission: str  # a snapshot of the staged submission
    lib: str  # `numpy` for the unsandboxed worker (links)
    tmp: str  # the unsandboxed worker's private temp dir


def make_worker_dirs(staged_dir: Optional[str], *, uid: Optional[int],
                     max_file_bytes: int = MAX_STAGED_FILE_BYTES) -> WorkerDirs:
    """Copy what the worker may see into a fresh folder readable by `uid`.

    The submission is copied, not bound in place: the worker then sees a snapshot the loader can
    no longer change, only staged file types, no links, and permissions the worker's uid can read.
    With `staged_dir` None the submission folder stays empty until `fill_submission`.
    """
    root = tempfile.mkdtemp(prefix="bpg-worker-")
    os.chmod(root, 0o711)  # traversable by the worker's uid, not listable by other users
    dirs = WorkerDirs(root, os.path.join(root, "packages"), os.path.join(root, "submission"),
                      os.path.join(root, "lib"), os.path.join(root, "tmp"))
    _copy_package(INSIDE_PACKAGE, os.path.join(dirs.packages, WORKER_PACKAGE))
    os.makedirs(dirs.submission, mode=0o755)
    os.chmod(dirs.submission, 0o755)
    if staged_dir is not None:
        fill_submission(dirs, staged_dir, max_file_bytes)
    os.makedirs(dirs.lib, mode=0o755)
    reset_tmp(dirs, uid)
    return dirs


def fill_submission(dirs: WorkerDirs, staged_dir: str, max_file_bytes: int = MAX_STAGED_FILE_BYTES) -> None:
    """Copy the staged files into the worker's (empty) submission folder."""
    _copy_submission(staged_dir, dirs.submission, max_file_bytes)


def _copy_package(source: Path, target: str) -> None:
    """The worker package's sources, and their bytecode so that no worker compiles them again."""
    os.makedirs(os.path.join(target, "__pycache__"), mode=0o755)
    os.chmod(target, 0o755)
    os.chmod(os.path.dirname(target), 0o755)
    for name, text, bytecode in compiled_package(source):
        for path, data in ((os.path.join(target, name), text),
                           (importlib.util.cache_from_source(os.path.join(target, name)), bytecode)):
            with open(path, "wb") as file:
                file.write(data)
            os.chmod(path, 0o644)


@functools.lru_cache(maxsize=None)
def compiled_package(source: Path) -> tuple[tuple[str, bytes, bytes], ...]:
    """(file name, source, bytecode) of each module in `source`, compiled once per grader process.

    The bytecode is checked-hash: the worker's interpreter (this one's binary, so the same
    bytecode version) verifies it against the source's hash, never its timestamp, so a copy made
    at any time is valid and a stale one is simply recompiled.
    """
    modules = []
    with tempfile.TemporaryDirectory(prefix="bpg-bytecode-") as scratch:
        for path in sorted(source.glob("*.py")):
            compiled = os.path.join(scratch, path.name + "c")
            py_compile.compile(str(path), cfile=compiled, doraise=True, optimize=0,
                               invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
            with open(compiled, "rb") as file:
                modules.append((path.name, path.read_bytes(), file.read()))
    return tuple(modules)


def _copy_submission(staged_dir: str, target: str, max_file_bytes: int) -> None:
    """The loader's files (`NAME.py`, `NAME.cells.json`) and, for a repository, its `tree/`."""
    from .inside.importer import MODULE_SUFFIX, NOTEBOOK_SUFFIX, STEM

    tree = os.path.join(staged_dir, TREE_FOLDER)
    if os.path.isdir(tree) and not os.path.islink(tree):
        copy_tree(tree, os.path.join(target, TREE_FOLDER))
    for name in sorted(os.listdir(staged_dir)):
        stem = name[: -len(NOTEBOOK_SUFFIX)] if name.endswith(NOTEBOOK_SUFFIX) else name[: -len(MODULE_SUFFIX)]
        if not (name.endswith(MODULE_SUFFIX) or name.endswith(NOTEBOOK_SUFFIX)) or not STEM.match(stem):
            continue
        source = os.path.join(staged_dir, name)
        info = os.lstat(source)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_file_bytes:
            continue  # links and oversized files are not the loader's output; leave them out
        shutil.copyfile(source, os.path.join(target, name))
        os.chmod(os.path.join(target, name), 0o644)


def reset_tmp(dirs: WorkerDirs, uid: Optional[int]) -> None:
    """An empty private temp dir for the next worker process."""
    shutil.rmtree(dirs.tmp, ignore_errors=True)
    os.makedirs(dirs.tmp, mode=0o700)
    if uid is not None:
        os.chown(dirs.tmp, uid, uid)


def link_numpy(dirs: WorkerDirs, runtime: Runtime, fds: Optional[dict[str, int]]) -> None:
    """Put `numpy` (and `numpy.libs`) in `dirs.lib` for the unsandboxed worker.

    With `fds` the links point at /proc/self/fd/N: the worker opens them through descriptors the
    grader opened as root, so a dropped uid needs no permission on the folders above numpy.
    """
    for source in runtime.numpy_dirs:
        link = os.path.join(dirs.lib, os.path.basename(source))
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(f"/proc/self/fd/{fds[source]}" if fds else source, link)


def open_runtime_fds(runtime: Runtime) -> dict[str, int]:
    """Descriptors for the folders a dropped uid could not reach by path (passed to the worker)."""
    fds = {}
    for path in (*runtime.python_path, *runtime.numpy_dirs):
        if os.path.isdir(path):
            fds[path] = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    return fds


# ---------------------------------------------------------------- the command line


@dataclass
class _Mounts:
    """bwrap mount arguments, creating readable parent folders on the way."""

    args: list[str] = field(default_factory=list)
    binds: list[str] = field(default_factory=list)  # destinations showing host folders
    made: set[str] = field(default_factory=set)

    def covered(self, path: str) -> bool:
        return any(path == b or path.startswith(b.rstrip("/") + "/") for b in self.binds)

    def parents(self, path: str) -> None:
        # bwrap makes missing parents 0700; the worker's uid must be able to pass through them
        for parent in reversed([str(p) for p in Path(path).parents if str(p) != "/"]):
            if parent not in self.made and not self.covered(parent):
                self.args += ["--perms", "0755", "--dir", parent]
                self.made.add(parent)

    def bind(self, source: str, dest: Optional[str] = None) -> None:
        dest = dest or source
        if dest == source and self.covered(dest):
            return  # already visible at the same place
        self.parents(dest)
        self.args += ["--ro-bind", source, dest]
        self.binds.append(dest)

    def hide(self, path: str) -> None:
        """An empty tmpfs over a host folder that a bind made visible (e.g. site-packages)."""
        if self.covered(path):
            self.args += ["--perms", "0755", "--tmpfs", path]


def bwrap_arguments(runtime: Runtime, dirs: WorkerDirs, config: SandboxConfig, env: dict[str, str]) -> list[str]:
    """Everything before the worker's own command: namespaces, environment and mounts."""
    args = [shutil.which("bwrap") or "bwrap", *namespace_flags(is_root()), "--clearenv"]
    for key, value in sorted(env.items()):
        args += ["--setenv", key, value]
    mounts = _Mounts()
    mounts.bind("/usr")
    for system_dir in SYSTEM_DIRS:
        if os.path.islink(system_dir):
            mounts.args += ["--symlink", os.readlink(system_dir), system_dir]
        elif os.path.isdir(system_dir):
            mounts.bind(system_dir)
    for system_file in ("/etc/ld.so.cache", "/etc/ld.so.conf"):
        if os.path.isfile(system_file):
            mounts.bind(system_file)
    # the private /tmp comes before the runtime binds, so an interpreter under /tmp stays visible
    mounts.args += ["--proc", "/proc", "--dev", "/dev",
                    "--perms", "1777", "--size", str(config.tmp_mb * 2**20), "--tmpfs", BOX_TMP]
    for path in (runtime.python, *runtime.shared_libraries, *runtime.python_path):
        if os.path.exists(path):
            mounts.bind(path)
    for site_dir in runtime.site_dirs:
        mounts.hide(site_dir)
    for numpy_dir in runtime.numpy_dirs:
        mounts.bind(numpy_dir, f"{BOX_NUMPY}/{os.path.basename(numpy_dir)}")
    mounts.bind(dirs.packages, BOX_PACKAGES)
    mounts.bind(dirs.submission, BOX_SUBMISSION)
    return [*args, *mounts.args, "--chdir", BOX_TMP, "--"]


def worker_settings(sandbox: str, runtime: Runtime, dirs: WorkerDirs, *, request_fd: int, reply_fd: int,
                    uid: Optional[int], fds: Optional[dict[str, int]], forbidden: tuple[str, ...] = (),
                    first_handle: int = 1) -> dict:
    """The config JSON main.py reads: every path as the worker sees it."""
    if sandbox == "bwrap":
        python_path = [BOX_NUMPY, *runtime.python_path]
        where = {"submission": BOX_SUBMISSION, "tmp": BOX_TMP, "read_dirs": None}
    else:
        stdlib = [f"/proc/self/fd/{fds[p]}" if fds and p in fds else p for p in runtime.python_path]
        python_path = [dirs.lib, *stdlib]
        read_dirs = [dirs.packages, dirs.submission, dirs.lib, *runtime.python_path, *runtime.numpy_dirs,
                     os.path.dirname(runtime.python)]
        where = {"submission": dirs.submission, "tmp": dirs.tmp, "read_dirs": read_dirs}
    return {"request_fd": request_fd, "reply_fd": reply_fd, "python_path": python_path,
            "write_dirs": [where["tmp"]], "drop": [uid, uid] if uid is not None else None,
            "forbidden": list(forbidden), "first_handle": first_handle, **where}


def build_command(sandbox: str, runtime: Runtime, dirs: WorkerDirs, config: SandboxConfig,
                  settings: dict, env: dict[str, str]) -> list[str]:
    """The full argv that starts one worker."""
    packages = BOX_PACKAGES if sandbox == "bwrap" else dirs.packages
    worker = [runtime.python, "-I", "-S", "-B", "-c", BOOTSTRAP, packages, json.dumps(settings)]
    if sandbox == "bwrap":
        return [*bwrap_arguments(runtime, dirs, config, env), *worker]
    return worker


def worker_environment(sandbox: str, dirs: WorkerDirs, extra: Optional[dict[str, str]] = None) -> dict[str, str]:
    """The worker's whole environment: nothing inherited from the grader."""
    tmp = BOX_TMP if sandbox == "bwrap" else dirs.tmp
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": tmp, "TMPDIR": tmp,
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env.update({str(k): str(v) for k, v in (extra or {}).items()})
    return env


# ---------------------------------------------------------------- limits and uids


def process_limits(config: SandboxConfig, *, nproc: int) -> dict[int, tuple[int, int]]:
    """rlimits for the worker: resource -> (soft, hard). Soft equals hard so they cannot be raised."""
    mib = 2**20
    return {
        resource.RLIMIT_AS: (config.memory_mb * mib, config.memory_mb * mib),
        # SIGXCPU at the soft limit, SIGKILL a little later if it is caught
        resource.RLIMIT_CPU: (config.cpu_seconds, config.cpu_seconds + 5),
        resource.RLIMIT_NPROC: (nproc, nproc),
        resource.RLIMIT_FSIZE: (config.max_file_mb * mib, config.max_file_mb * mib),
        resource.RLIMIT_NOFILE: (config.max_open_files, config.max_open_files),
        resource.RLIMIT_CORE: (0, 0),
    }


def make_preexec(limits: dict[int, tuple[int, int]],
                 join: Optional[Callable[[], None]] = None) -> Callable[[], None]:
    """The function Popen runs in the child between fork and exec.

    `join` (moving the child into its sandbox's cgroup) runs first, so the worker and everything
    it ever starts are inside the cgroup before the first instruction of the worker's own.
    """
    items = sorted(limits.items())

    def apply_limits() -> None:
        if join is not None:
            join()
        for which, (soft, hard) in items:
            resource.setrlimit(which, (soft, hard))

    return apply_limits


def nproc_limit(config: SandboxConfig, uid: Optional[int]) -> int:
    """RLIMIT_NPROC counts every process of the uid: a private uid starts from zero, a shared one
    (the grader's own, when not root) already has some."""
    if uid is not None:
        return config.max_processes
    return len(pids_of(uid=os.getuid())) + config.max_processes


def fresh_uid(config: SandboxConfig) -> Optional[int]:
    """The uid a worker drops to: None unless the grader is root."""
    if not is_root():
        return None
    if config.uid is not None:
        return config.uid
    busy = {uid for uid in _process_uids().values()}
    rng = random.SystemRandom()
    while True:
        uid = rng.randrange(*PRIVATE_UID_RANGE)
        if uid not in busy:
            return uid


def _process_uids() -> dict[int, int]:
    """pid -> real uid of every process (those that vanish while we look are skipped)."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as file:
                    for line in file:
                        if line.startswith("Uid:"):
                            out[int(entry)] = int(line.split()[1])
                            break
            except (OSError, ValueError, IndexError):
                continue
    return out


def _state_and_session(pid: int) -> tuple[str, Optional[int]]:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            fields = file.read().rpartition(")")[2].split()
        return fields[0], int(fields[3])  # after the name: state, ppid, pgrp, session
    except (OSError, ValueError, IndexError):
        return "X", None


def pids_of(*, uid: Optional[int] = None, session: Optional[int] = None) -> list[int]:
    """Running processes with that real uid or in that session.

    Zombies are left out: they are already dead, and a container's pid 1 may never reap them.
    """
    found = []
    for pid, owner in _process_uids().items():
        if pid == os.getpid():
            continue
        state, pid_session = _state_and_session(pid)
        if state in "ZX":
            continue
        if (uid is not None and owner == uid) or (session is not None and pid_session == session):
            found.append(pid)
    return found


def kill_uid(uid: int) -> None:
    """SIGKILL every process of `uid` at once (kill(-1) as that uid), so a fork storm cannot outrun
    a one-by-one sweep. Only for a uid private to one worker."""
    kill = shutil.which("kill")
    if kill is None or not is_root():
        return
    # kill(-1) spares the caller, so the status says nothing useful; callers check /proc instead
    subprocess.run([kill, "-9", "-1"], user=uid, group=uid, extra_groups=[],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=10, check=False)
