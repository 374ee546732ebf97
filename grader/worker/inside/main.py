"""The worker's entry point, run inside the sandbox.

Started by the grader as `python -I -S -B -c <bootstrap> <config JSON>`, with this package copied
under a neutral name. It reads requests on one inherited fd and writes replies on another, never
on stdout: the student's prints go to stdout/stderr pipes the grader drains and truncates, so a
printed "report" is only ever output.

Order matters: drop privileges before anything else can run, import numpy, then install the
import hook for the staged submission and the guard, then hide this package, and only then
execute student code (on the first `load` or `call`).

Start-up comes in two steps, so the slow one (the interpreter, numpy and this package, about
0.1 s) can run while the grader is still staging the submission. The worker first says
`{"id": "standby"}`; the grader copies the staged files into the submission folder and sends
`{"op": "attach", "id": "attach"}`; only then does the worker scan that folder, install the
import hook and the guard, and say `{"id": "hello"}`. A worker that is never attached (the
grader closed the request pipe) exits quietly.

Config keys: request_fd, reply_fd, submission, tmp, python_path (the complete sys.path),
drop ([uid, gid] or null), read_dirs (list or null), write_dirs, forbidden, first_handle.
"""
from __future__ import annotations

import gc
import json
import os
import sys
from typing import TYPE_CHECKING, Any, Callable, Optional

from .channel import ATTACH, HELLO, IOV_MAX, STANDBY, byte_views, unwritten

if TYPE_CHECKING:
    from .handler import Handler

# guard, importer, protocol and handler import numpy, so they are imported inside prepare(),
# once sys.path points at the sandbox's numpy and privileges are dropped

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
EXIT_BAD_SETUP = 70
EXIT_BAD_STREAM = 65
READ_AHEAD = 1 << 16
YOUNG_COLLECTION = (50_000, 10, 10)  # gc thresholds while serving requests
PACKAGE = __name__.rpartition(".")[0]


class NotAttached(Exception):
    """The grader closed the request pipe before attaching a submission: nothing to do."""


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        config = json.loads(argv[0])
        programs = prepare(config)
        from . import protocol  # the last relative import: the package is hidden after attach

        read_exact = fd_reader(config["request_fd"])
        write_parts(config["reply_fd"], protocol.encode({"ok": True, "value": {"pid": os.getpid()},
                                                         "id": STANDBY}).parts())
        await_attach(protocol, read_exact)
        handler = attach(config, programs)
        hide_package()
        # what exists now (the interpreter's, numpy's and this package's objects) is never
        # garbage: keep it out of the collections the student's code triggers (a few % of CPU)
        gc.freeze()
        # A deep graph makes tens of thousands of nodes and closures at once; with the default
        # young generation (700) collections took a third of a 5,000-node chain's time. Cycles
        # are still collected, just in larger steps.
        gc.set_threshold(*YOUNG_COLLECTION)
    except NotAttached:
        return 0
    except Exception as exc:  # nothing of the student's has run yet: this is the grader's fault
        print(f"worker setup failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_BAD_SETUP
    return serve(handler, protocol, config["request_fd"], config["reply_fd"], read_exact)


def prepare(config: dict) -> Callable[[], Any]:
    """Everything that does not depend on the submission; returns the graph programs' loader."""
    for variable in THREAD_VARIABLES:  # one BLAS thread: workers run side by side on few cores
        os.environ[variable] = "1"
    sys.path[:] = list(config["python_path"])
    follow_path_aliases()
    drop_privileges(config.get("drop"))
    die_with_parent()
    os.umask(0o077)
    os.chdir(config["tmp"])
    os.environ["TMPDIR"] = os.environ["HOME"] = config["tmp"]
    sys.dont_write_bytecode = True

    import numpy  # noqa: F401  (before the guard: numpy's own imports need no permission)

    from . import guard, handler, importer  # noqa: F401  (imported now: attach must not wait for them)

    return _preload_programs()


def await_attach(protocol: Any, read_exact: Callable[[int], bytearray]) -> None:
    """Wait for the grader's attach request (the submission folder is complete when it comes)."""
    try:
        frame = protocol.read_frame(read_exact)
    except EOFError:
        raise NotAttached() from None
    request = protocol.decode(frame)
    if request.get("op") != ATTACH:
        raise ValueError(f"expected the attach request first, got op {request.get('op')!r:.40}")


def attach(config: dict, programs: Callable[[], Any]) -> Handler:
    """The import hook over the (now complete) submission folder, the guard, and the handler."""
    from . import guard, importer
    from .handler import Handler

    finder = importer.install(config["submission"])
    policy = guard.Policy(write_dirs=tuple(config["write_dirs"]),
                          read_dirs=None if config.get("read_dirs") is None else tuple(config["read_dirs"]))
    sandbox_guard = guard.Guard(policy)
    sandbox_guard.block_private((*guard.PRIVATE_PACKAGES, PACKAGE.partition(".")[0]))
    sandbox_guard.forbid(config.get("forbidden") or [])
    sandbox_guard.install()
    return Handler(importer.ImportedModules(finder), sandboxed=True, is_student_file=finder.is_student_file,
                   programs=programs, forbid=sandbox_guard.forbid, first_handle=int(config.get("first_handle", 1)))


def drop_privileges(drop: Optional[list[int]]) -> None:
    """Become the unprivileged uid/gid the grader chose (only when started as root)."""
    if not drop or os.geteuid() != 0:
        return
    uid, gid = int(drop[0]), int(drop[1])
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
        raise PermissionError(f"could not drop privileges to {uid}:{gid}")


def follow_path_aliases() -> None:
    """Point packages imported at startup (encodings, importlib...) at the /proc/self/fd aliases
    the grader put on sys.path. Their __path__ still names the real folders, which an
    unprivileged uid may not reach, and their submodules load lazily (e.g. the idna codec)."""
    aliases = {os.readlink(entry): entry for entry in sys.path if entry.startswith("/proc/self/fd/")}
    for module in list(sys.modules.values()):
        paths = getattr(module, "__path__", None)
        if not isinstance(paths, list):
            continue
        for i, path in enumerate(paths):
            for real, alias in aliases.items():
                if path == real or path.startswith(real + "/"):
                    paths[i] = alias + path[len(real):]


def die_with_parent() -> None:
    """Ask the kernel to kill this process when the grader goes away (set after the uid change,
    which clears it)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except Exception:  # not Linux, or no libc symbol: the closed request pipe still ends us
        pass


def _preload_programs() -> Callable[[], Any]:
    """Import the graph programs now: once the package is hidden, relative imports cannot run."""
    try:
        from . import programs
    except Exception as exc:  # absent in early checkouts, or broken: only `program` requests suffer
        error = exc

        def unavailable() -> Any:
            raise ImportError(f"graph programs are unavailable: {error}")

        return unavailable
    return lambda: programs


def hide_package() -> None:
    """Drop this package from sys.modules so student code cannot import it; the guard blocks the name."""
    top = PACKAGE.partition(".")[0]
    for name in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
        del sys.modules[name]


def serve(handler: Handler, protocol: Any, request_fd: int, reply_fd: int,
          read_exact: Optional[Callable[[int], bytearray]] = None) -> int:
    """Say hello, then answer requests until the grader closes the request pipe."""
    read_exact = read_exact or fd_reader(request_fd)
    write_parts(reply_fd, protocol.encode({"ok": True, "value": {"pid": os.getpid(), "ready": True},
                                           "id": HELLO}).parts())
    while True:
        try:
            frame = protocol.read_frame(read_exact)
        except EOFError:
            return 0
        except ValueError as exc:  # the stream cannot be trusted past a bad frame
            print(f"worker: bad request stream: {exc}", file=sys.stderr)
            return EXIT_BAD_STREAM
        reply = handler.respond(frame)
        flush_student_output()
        write_parts(reply_fd, reply.parts())


def fd_reader(fd: int, read_ahead: int = READ_AHEAD) -> Callable[[int], bytearray]:
    """`read_exact(n)` over a pipe: exactly n bytes, or EOFError when the pipe closes first.

    A frame arrives in one write but is read in pieces (magic, header, each buffer); each read
    also takes up to `read_ahead` bytes past the piece, so the whole frame usually costs one
    system call. What was read ahead is served first on the next call.
    """
    ahead = bytearray()
    spare = bytearray(read_ahead)

    def read_exact(size: int) -> bytearray:
        buffer = bytearray(size)
        got = min(size, len(ahead))
        buffer[:got] = ahead[:got]
        del ahead[:got]
        view = memoryview(buffer)
        while got < size:
            count = os.readv(fd, [view[got:], spare])
            if count == 0:
                raise EOFError("request pipe closed")
            used = min(count, size - got)
            got += used
            if count > used:
                ahead.extend(memoryview(spare)[:count - used])
        return buffer

    return read_exact


def write_parts(fd: int, parts: list) -> None:
    """Write a frame's parts with one system call where the pipe has room (the reader wakes once)."""
    views = byte_views(parts)
    while views:
        views = unwritten(views, os.writev(fd, views[:IOV_MAX]))


def flush_student_output() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:  # the student may have replaced or closed them
            pass


if __name__ == "__main__":
    sys.exit(main())
