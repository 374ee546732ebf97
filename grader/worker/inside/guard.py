"""What student code may not do inside the worker, enforced from within Python.

Two layers, installed after numpy is imported and before any student code runs:

- an import blocker at the front of `sys.meta_path`: the grader's own packages, this package,
  and the libraries an exercise forbids (torch, jax... where gradients must be hand-written);
- an audit hook (`sys.addaudithook`, which cannot be removed) refusing new processes, sockets,
  signals to other processes, raising resource limits, writing outside the worker's private
  temp dir and, when a read allowlist is given, reading outside it.

Both raise a `Blocked` error, which the handler reports as "blocked". This is defence in depth:
code using ctypes can get past an audit hook, so the real boundary is the sandbox around the
process (bubblewrap namespaces, an unprivileged uid, resource limits).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

# the grader's own code must stay invisible to submissions
PRIVATE_PACKAGES = ("grader", "reference", "solutions")

PROCESS_EVENTS = frozenset({
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "subprocess.Popen", "pty.spawn", "os.startfile", "os.kill", "os.killpg", "signal.pthread_kill",
})
NETWORK_EVENTS = frozenset({
    "socket.__new__", "socket.bind", "socket.connect", "socket.sendto", "socket.sendmsg",
    "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
})
LIMIT_EVENTS = frozenset({"resource.setrlimit", "resource.prlimit"})
# event -> (position of a path it changes, position of the dir fd that path is relative to)
WRITE_EVENTS = {
    "os.mkdir": ((0, 2),), "os.remove": ((0, 1),), "os.rmdir": ((0, 1),), "os.rename": ((0, 2), (1, 3)),
    "os.symlink": ((1, 2),), "os.link": ((1, 3),), "os.truncate": ((0, None),), "os.chmod": ((0, 2),),
    "os.chown": ((0, 3),), "os.utime": ((0, 3),), "os.mkfifo": ((0, 2),), "os.mknod": ((0, 3),),
    "os.setxattr": ((0, None),), "os.removexattr": ((0, None),), "shutil.rmtree": ((0, 1),),
    "shutil.copyfile": ((1, None),), "shutil.copytree": ((1, None),), "shutil.move": ((0, None), (1, None)),
    "shutil.unpack_archive": ((1, None),), "shutil.make_archive": ((0, None),),
}
READ_EVENTS = {"os.listdir": (0,), "os.scandir": (0,), "shutil.copyfile": (0,), "shutil.copytree": (0,)}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

# read-only system places the interpreter and numpy may touch, whatever the host layout
SYSTEM_READ_DIRS = ("/usr", "/lib", "/lib32", "/lib64", "/etc", "/dev", "/proc/self",
                    "/sys/devices/system/cpu")
DEVICE_FILES = ("/dev/null",)


class Blocked:
    """Marker base: the sandbox refused this. The handler replies with kind "blocked"."""


class BlockedImportError(ImportError, Blocked):
    """An import of a module submissions may not use."""


class BlockedOperationError(PermissionError, Blocked):
    """A system operation submissions may not do."""


def is_blocked(exc: BaseException) -> bool:
    return isinstance(exc, Blocked)


@dataclass
class Policy:
    """What the audit hook allows. Paths are compared after resolving symlinks."""

    write_dirs: tuple[str, ...]
    read_dirs: Optional[tuple[str, ...]] = None  # None: reads are not restricted
    blocked_modules: dict[str, str] = field(default_factory=dict)  # top-level name -> reason

    def __post_init__(self) -> None:
        self.write_dirs = tuple(_real(d) for d in self.write_dirs)
        if self.read_dirs is not None:
            own_proc = f"/proc/{os.getpid()}"  # /proc/self resolves to the pid
            dirs = (*self.read_dirs, *SYSTEM_READ_DIRS, own_proc, *self.write_dirs)
            self.read_dirs = tuple(_real(d) for d in dirs)


def _real(path: str) -> str:
    return os.path.realpath(path)


def is_inside(path: str, dirs: Iterable[str]) -> bool:
    """True when the already-resolved `path` is one of `dirs` or below one of them."""
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in dirs)


def _path_of(arg: Any, dir_fd: Any = None) -> Optional[str]:
    """The absolute resolved path an audit argument names, or None for an already open fd."""
    if isinstance(arg, int) or arg is None:
        return None
    path = os.fsdecode(os.fspath(arg))
    if isinstance(dir_fd, int) and not os.path.isabs(path):
        path = os.path.join(f"/proc/self/fd/{dir_fd}", path)
    return _real(path)


def check_open(policy: Policy, path: Any, mode: Optional[str], flags: Optional[int]) -> Optional[str]:
    """Why opening `path` is refused, or None when it is allowed."""
    resolved = _path_of(path)
    if resolved is None:
        return None
    writes = bool((flags or 0) & WRITE_FLAGS) or any(c in (mode or "") for c in "wax+")
    if writes:
        if is_inside(resolved, policy.write_dirs) or resolved in DEVICE_FILES:
            return None
        return f"writing {resolved} is not allowed in the grader's sandbox (only the temp dir is writable)"
    return check_read(policy, resolved)


def check_read(policy: Policy, resolved: Optional[str]) -> Optional[str]:
    if resolved is None or policy.read_dirs is None or is_inside(resolved, policy.read_dirs):
        return None
    return f"reading {resolved} is not allowed in the grader's sandbox"


def check_event(policy: Policy, event: str, args: tuple) -> Optional[str]:
    """Why the audited operation `event(*args)` is refused, or None when it is allowed."""
    if event == "open":
        return check_open(policy, *(tuple(args) + (None, None))[:3])
    if event in PROCESS_EVENTS:
        return f"starting or signalling processes is not allowed in the grader's sandbox ({event})"
    if event in NETWORK_EVENTS:
        return f"network access is not allowed in the grader's sandbox ({event})"
    if event in LIMIT_EVENTS:
        return f"changing resource limits is not allowed in the grader's sandbox ({event})"
    for position, dir_position in WRITE_EVENTS.get(event, ()):
        if position < len(args):
            dir_fd = args[dir_position] if dir_position is not None and dir_position < len(args) else None
            resolved = _path_of(args[position], dir_fd)
            if resolved is not None and not is_inside(resolved, policy.write_dirs):
                return f"changing {resolved} is not allowed in the grader's sandbox ({event})"
    for position in READ_EVENTS.get(event, ()):
        if position < len(args):
            reason = check_read(policy, _path_of(args[position]))
            if reason:
                return reason
    return None


AUDITED_EVENTS = frozenset({"open", *PROCESS_EVENTS, *NETWORK_EVENTS, *LIMIT_EVENTS,
                            *WRITE_EVENTS, *READ_EVENTS})


class ImportBlocker:
    """A meta path finder that refuses blocked top-level packages before anything else looks."""

    def __init__(self, policy: Policy):
        self.policy = policy

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        top = fullname.partition(".")[0]
        reason = self.policy.blocked_modules.get(top)
        if reason is not None:
            raise BlockedImportError(f"import of {fullname} is blocked: {reason}", name=fullname)
        return None


class Guard:
    """Installs the import blocker and the audit hook; `forbid` adds modules later."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self.blocker = ImportBlocker(policy)
        self.installed = False

    def block_private(self, names: Iterable[str]) -> None:
        for name in names:
            self.policy.blocked_modules[name] = "the grader's own code is not available to submissions"

    def forbid(self, names: Iterable[str]) -> None:
        """Block `names` from now on (an exercise that asks for hand-written gradients)."""
        for name in names:
            top = str(name).partition(".")[0]
            self.policy.blocked_modules.setdefault(top, "this exercise asks for hand-written code, "
                                                        f"so {top} may not be used")
            # an earlier import must not stay reachable through sys.modules
            for loaded in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
                del sys.modules[loaded]

    def install(self) -> None:
        if self.installed:
            return
        sys.meta_path.insert(0, self.blocker)
        sys.addaudithook(self._hook)
        self.installed = True

    def _hook(self, event: str, args: tuple) -> None:
        if event not in AUDITED_EVENTS:
            return
        try:
            reason = check_event(self.policy, event, args)
        except Exception as exc:  # an argument we cannot read is refused, never waved through
            reason = f"{event} with arguments the sandbox cannot check ({type(exc).__name__})"
        if reason is not None:
            raise BlockedOperationError(reason)
