"""The grader's side of the worker: start it, talk to it, restart it, and clean up after it.

`WorkerClient` is the `Transport` checks use (see grader/checks/base.py). Each request gets a
wall-clock deadline; past it, the whole sandbox is killed and the request raises
`StudentCodeError("timeout", ...)`. A worker that dies (sys.exit, a segfault, the OOM killer)
makes the request raise too, and the next request starts a fresh worker transparently, loading
again the modules the old one had. What happened is kept in `events` for the report's `errors`.

A module whose loading timed out or crashed is not loaded again: later requests for it fail at
once with the same error, so one endless loop at import costs one timeout, not one per check.
"""
from __future__ import annotations

import fcntl
import os
import select
import shutil
import signal
import struct
import subprocess
import termios
import threading
import time
import weakref
from typing import Any, Optional

from grader.errors import GraderError, StudentCodeError
from grader.results import GradingError
from grader.worker import cgroup as cg
from grader.worker import sandbox as sb
from grader.worker.inside import protocol
from grader.worker.inside.channel import ATTACH, HELLO, IOV_MAX, STANDBY, byte_views, unwritten
from grader.worker.replies import describe, reply_value

DEFAULT_OUTPUT_LIMIT = 64 * 1024
READ_CHUNK = 1 << 16
PIPE_BYTES = 1 << 20  # large arrays cross in a few writes instead of one per 64 KiB
WATCH_INTERVAL_S = 0.02  # how soon a dead worker's leftovers are stopped
MEMORY_MARKERS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory")
# A reply may be at most REPLY_MULTIPLE times its request's size (the arrays the grader sent),
# and never less than REPLY_FLOOR_BYTES; a request's "max_reply_bytes" field overrides both.
REPLY_FLOOR_BYTES = 16 * 2**20
REPLY_MULTIPLE = 32


class OutputTail:
    """The last `limit` bytes written to one of the worker's output pipes."""

    def __init__(self, limit: int = DEFAULT_OUTPUT_LIMIT):
        self.limit = limit
        self.total = 0
        self._data = bytearray()
        self._lock = threading.Lock()
        self._pipe_fd: Optional[int] = None
        self._waiting = False  # the drainer is (about to be) blocked in read with all it read added
        self._reads = 0

    def add(self, chunk: bytes) -> None:
        with self._lock:
            self.total += len(chunk)
            self._data += chunk
            if len(self._data) > self.limit:
                del self._data[: len(self._data) - self.limit]

    def settle(self, patience: float = 0.25) -> None:
        """Wait until the drainer has taken in everything already written to the pipe.

        Settled when the pipe is empty and the drainer is waiting in read, twice in a row with no
        read in between (so a chunk it just read is not still on its way to the tail).
        """
        stop = time.monotonic() + patience
        seen = None
        while time.monotonic() < stop:
            fd = self._pipe_fd
            if fd is None:
                return
            try:
                pending = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
            except OSError:
                return
            state = (self._reads, self._waiting and pending == 0)
            if state[1] and state == seen:
                return
            seen = state
            time.sleep(0.001)

    def text(self) -> str:
        with self._lock:
            dropped = self.total - len(self._data)
            body = bytes(self._data).decode("utf-8", errors="replace")
        return f"[... {dropped} bytes of output dropped ...]\n{body}" if dropped else body

    def drain(self, pipe: Any) -> threading.Thread:
        """Read `pipe` to its end in a daemon thread, so the worker never blocks on printing."""

        fd = pipe.fileno()
        self._pipe_fd = fd

        def run() -> None:
            try:
                while True:
                    self._waiting = True
                    chunk = os.read(fd, 65536)
                    self._waiting = False
                    if not chunk:
                        break
                    self.add(chunk)
                    self._reads += 1
            except (OSError, ValueError):
                pass
            finally:
                self._pipe_fd = None
                self._waiting = False
                try:
                    pipe.close()
                except OSError:
                    pass

        thread = threading.Thread(target=run, name="worker-output", daemon=True)
        thread.start()
        return thread


class _Deadline(Exception):
    """The reply did not come in time."""


class _Process:
    """One running worker: the Popen, the two pipe ends the client keeps, and their pollers."""

    def __init__(self, popen: subprocess.Popen, request_fd: int, reply_fd: int, threads: list[threading.Thread],
                 cgroup: Optional[cg.SandboxCgroup] = None):
        self.popen = popen
        self.cgroup = cgroup  # the sandbox's own cgroup, None where the host has none usable
        self.stopping = threading.Event()  # set when the client stops it: ends its watcher
        self.request_fd = request_fd
        self.reply_fd = reply_fd
        self.threads = threads
        self.inbox = bytearray()
        self.loaded: set[str] = set()  # modules this process has loaded
        # made once per worker: a request's frame is read in several pieces
        self.can_write = select.poll()
        self.can_write.register(request_fd, select.POLLOUT)
        self.can_read = select.poll()
        self.can_read.register(reply_fd, select.POLLIN)
        self.pipe_bytes = pipe_size(request_fd)


class WorkerClient:
    """A sandboxed worker for one staged submission, speaking the protocol in grader/README.md.

    `staged_dir` may be left out and given later with `attach`: the worker then starts on
    standby (interpreter and numpy loaded, no submission yet), so its start-up can overlap the
    staging. Either way a client, and every worker it starts, serves one submission only.
    """

    def __init__(self, staged_dir: Any = None, *, config: Optional[sb.SandboxConfig] = None,
                 forbidden: tuple[str, ...] = (), env: Optional[dict[str, str]] = None,
                 output_limit: int = DEFAULT_OUTPUT_LIMIT, startup_timeout: float = 30.0):
        self.staged_dir: Optional[str] = None
        if staged_dir is not None:
            self.staged_dir = _existing_folder(staged_dir)
        self.config = config or sb.SandboxConfig()
        self.forbidden = tuple(forbidden)
        self.env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.sandbox_name = sb.choose_sandbox(self.config)
        self.cgroups = cg.detect_support()
        self.events: list[GradingError] = []
        self.starts = 0  # how many worker processes this client has started
        self._stdout = OutputTail(output_limit)
        self._stderr = OutputTail(output_limit)
        self._uid = sb.fresh_uid(self.config)
        # a uid from the config may be shared by several clients: killing all of its processes
        # would kill a neighbour's worker, so only a fresh uid is swept with kill(-1)
        self._uid_private = self._uid is not None and self.config.uid is None
        self._dirs: Optional[sb.WorkerDirs] = None
        self._process: Optional[_Process] = None
        self._next_id = 1
        self._load_requests: dict[str, dict] = {}  # module -> the load request to replay after a restart
        self._poisoned: dict[str, StudentCodeError] = {}
        self._lock = threading.RLock()
        self._closed = False
        # what must not outlive the client even if close() is never called; holds no reference to it
        self._leftovers: dict[str, Any] = {"process": None, "root": None, "cgroup": None,
                                           "uid": self._uid if self._uid_private else None}
        self._finalizer = weakref.finalize(self, _clean_up, self._leftovers)

    # ---------------------------------------------------------------- public

    @property
    def stdout_tail(self) -> str:
        """The end of what the student's code printed (all workers of this client), truncated."""
        self._stdout.settle()
        return self._stdout.text()

    @property
    def stderr_tail(self) -> str:
        self._stderr.settle()
        return self._stderr.text()

    @property
    def uid(self) -> Optional[int]:
        """The private uid workers run as (None when the grader is not root)."""
        return self._uid

    @property
    def worker_pid(self) -> Optional[int]:
        """The host pid of the running worker (or of bubblewrap around it), if one runs."""
        return self._process.popen.pid if self._process else None

    @property
    def failed_loads(self) -> dict[str, StudentCodeError]:
        """The modules this client will not load again (their loading timed out, crashed or
        answered far too much), with the error each request for them raises."""
        return dict(self._poisoned)

    @property
    def limits_scope(self) -> str:
        """"sandbox" when memory, processes and CPU are limited for the worker and everything it forks
        together (a cgroup of its own), "process" when only each process has rlimits."""
        return "sandbox" if self.cgroups.usable else "process"

    @property
    def limits_note(self) -> str:
        """'' or a sentence for reports and the terminal saying the limits are per process only."""
        if self.cgroups.usable:
            return ""
        return ("Memory, process and CPU limits hold per process only (this host gives the grader no "
                "usable cgroups), so code that forks can use more than one process may.")

    def start(self) -> None:
        """Start the worker now (requests also start it when needed); on standby if not attached."""
        with self._lock:
            self._check_open()
            if self._process is None or self._process.popen.poll() is not None:
                self._spawn()

    def attach(self, staged_dir: Any) -> None:
        """Give a client made without a submission its staged folder (once), and attach its worker."""
        with self._lock:
            self._check_open()
            if self.staged_dir is not None:
                raise GraderError(f"this WorkerClient already serves {self.staged_dir}; make a new one")
            self.staged_dir = _existing_folder(staged_dir)
            if self._dirs is not None:
                sb.fill_submission(self._dirs, self.staged_dir)
            if self._process is not None and self._process.popen.poll() is None:
                self._attach_process()

    def request(self, header: dict, timeout: float) -> Any:
        """Send one request and return the reply's value, or raise StudentCodeError."""
        if not isinstance(header, dict) or not isinstance(header.get("op"), str):
            raise ValueError("a request is a dict with an 'op' field")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        _check_reply_cap(header)
        with self._lock:
            self._check_open()
            if self.staged_dir is None:
                raise GraderError("this WorkerClient has no submission yet: attach(staged_dir) first")
            module = header.get("module")
            if isinstance(module, str) and module in self._poisoned:
                known = self._poisoned[module]  # a fresh exception: re-raising one grows its traceback
                raise StudentCodeError(known.status, known.message, known.event, known.traceback)
            self.start()
            if header["op"] == "load":
                return self._load(dict(header, forbidden=self._forbidden_for(header)), timeout)
            if isinstance(module, str):
                self._ensure_loaded(module, timeout)
            return self._value(self._exchange(header, timeout), header)

    def request_many(self, headers: list[dict], timeout: float) -> list[tuple[Any, Optional[Exception]]]:
        """Send several requests without waiting for each reply: the worker goes from one to the
        next while the grader reads. Each reply gets `timeout` from when the worker could start it.

        Returns (value, None) or (None, the error `request` would have raised) for each request in
        order, as if they had been sent one at a time, but only up to the first that stopped the
        worker (a timeout, a crash, a memory error): the caller sends the rest again with `request`.
        Empty when the requests need what only `request` does (a load, a module that failed).
        """
        for header in headers:
            if not isinstance(header, dict) or not isinstance(header.get("op"), str):
                raise ValueError("a request is a dict with an 'op' field")
            _check_reply_cap(header)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        with self._lock:
            self._check_open()
            if self.staged_dir is None:
                raise GraderError("this WorkerClient has no submission yet: attach(staged_dir) first")
            modules = {h["module"] for h in headers if isinstance(h.get("module"), str)}
            if any(h["op"] == "load" for h in headers) or modules & set(self._poisoned):
                return []
            self.start()
            try:
                for module in sorted(modules):
                    self._ensure_loaded(module, timeout)
            except StudentCodeError:
                return []  # one at a time, each request meets the loading error as it would alone
            frames = []  # all encoded before the first is sent: a grader-side ValueError sends nothing
            for header in headers:
                frames.append((header, self._next_id, protocol.encode(dict(header, id=self._next_id))))
                self._next_id += 1
            return self._pipeline(frames, timeout)

    def _pipeline(self, frames: list[tuple[dict, int, protocol.Frame]], timeout: float) -> list[tuple[Any, Optional[Exception]]]:
        process = self._process
        budget = process.pipe_bytes // 2  # unanswered requests always fit in the pipe: a write never blocks
        waiting: list[tuple[dict, int, int, float]] = []  # header, id, size, when it was sent
        outcomes: list[tuple[Any, Optional[Exception]]] = []
        in_flight, ready_at, position, sending = 0, 0.0, 0, True
        while len(outcomes) < len(frames):
            if sending and position < len(frames):
                header, request_id, frame = frames[position]
                size = sum(len(part) for part in frame.parts())
                if not waiting or in_flight + size <= budget:
                    sent_at = time.monotonic()
                    try:
                        self._write(process, frame.parts(), sent_at + timeout)
                    except (_Deadline, OSError) as exc:
                        if waiting:  # an earlier request stopped it: its reply will tell which
                            sending = False
                            continue
                        if isinstance(exc, _Deadline):
                            outcomes.append((None, self._fail(header, "timeout", f"{describe(header)} could "
                                                                                 f"not be sent in {timeout:g} s")))
                        else:
                            outcomes.append((None, self._fail(header, *self._death_cause(header))))
                        return outcomes
                    waiting.append((header, request_id, size, sent_at))
                    in_flight += size
                    position += 1
                    continue
            if not waiting:  # a write failed, yet every reply came: a frame may be cut short, so restart
                self._stop()
                return outcomes
            header, request_id, size, sent_at = waiting.pop(0)
            in_flight -= size
            ready_at = max(ready_at, sent_at)  # the worker starts a request when it has answered the one before
            try:
                reply = self._receive(process, header, request_id, ready_at + timeout, timeout,
                                      reply_limits(reply_byte_cap(header, size)))
                outcomes.append((self._value(reply, header), None))
            except (StudentCodeError, GraderError) as exc:
                outcomes.append((None, exc))
            if self._process is not process:  # stopped: what it had not answered is sent again
                return outcomes
            ready_at = time.monotonic()
        return outcomes

    def close(self) -> None:
        """Kill the worker and everything it started, and delete its folders. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop()
            if self._dirs is not None:
                shutil.rmtree(self._dirs.root, ignore_errors=True)
                self._dirs = None
            self._finalizer.detach()

    def __enter__(self) -> "WorkerClient":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---------------------------------------------------------------- loading

    def _forbidden_for(self, header: dict) -> list[str]:
        extra = header.get("forbidden") or []
        return sorted(set(self.forbidden) | set(extra))

    def _load(self, header: dict, timeout: float) -> Any:
        module = header.get("module")
        reply = self._exchange(header, timeout)
        if reply.get("ok") and isinstance(module, str):
            self._load_requests.setdefault(module, header)
            self._process.loaded.add(module)
        return self._value(reply, header)

    def _ensure_loaded(self, module: str, timeout: float) -> None:
        """Load `module` in this worker before using it, so a hang at import is blamed on loading."""
        if module in self._process.loaded:
            return
        header = self._load_requests.get(module) or {"op": "load", "module": module,
                                                     "forbidden": sorted(self.forbidden)}
        self._load(header, timeout)

    # ---------------------------------------------------------------- one exchange

    def _exchange(self, header: dict, timeout: float) -> dict:
        """Send `header`, wait for its reply; handle timeouts and deaths of the worker."""
        request_id = self._next_id
        self._next_id += 1
        frame = protocol.encode(dict(header, id=request_id))  # a grader-side ValueError propagates
        limits = reply_limits(reply_byte_cap(header, sum(len(part) for part in frame.parts())))
        deadline = time.monotonic() + timeout
        process = self._process
        try:
            self._write(process, frame.parts(), deadline)
        except _Deadline:
            raise self._fail(header, "timeout", f"{describe(header)} did not finish within {timeout:g} s") from None
        except OSError:
            raise self._fail(header, *self._death_cause(header)) from None
        return self._receive(process, header, request_id, deadline, timeout, limits)

    def _receive(self, process: _Process, header: dict, request_id: int, deadline: float, timeout: float,
                 limits: protocol.Limits) -> dict:
        """The reply to `header`, read by `deadline`; a worker that is late, dead or lying is stopped.

        `limits` bound the reply: a larger frame is refused at its header, before its body is read.
        """
        try:
            reply = protocol.decode(protocol.read_frame(lambda n: self._read(process, n, deadline), limits=limits),
                                    limits=limits)
        except _Deadline:
            raise self._fail(header, "timeout", f"{describe(header)} did not finish within {timeout:g} s") from None
        except (EOFError, OSError):
            raise self._fail(header, *self._death_cause(header)) from None
        except protocol.FrameTooLargeError as exc:
            raise self._refuse(header, str(exc)) from None
        except ValueError as exc:  # a reply that is not one: something wrote to the reply channel
            raise self._fail(header, "crash", f"the worker sent a malformed reply during {describe(header)}: "
                                              f"{exc}") from None
        if reply.get("id") != request_id:
            raise self._fail(header, "crash", f"the worker answered {describe(header)} with a reply to another "
                                              "request (did the code write to the grader's channel?)")
        return reply

    def _value(self, reply: dict, header: dict) -> Any:
        """The reply's value, or the StudentCodeError it reports (grader/worker/replies.py: a reply
        outside the schema is the student's malformed answer, never the grader's fault). An event
        it reports is recorded for the report."""
        try:
            return reply_value(header, reply)
        except StudentCodeError as error:
            if error.event:
                self._record(error.event, error.message, header)
            if error.event == "memory":
                self._stop()  # a heap that just ran out is not trusted with the next check
            raise

    def _refuse(self, header: dict, reason: str) -> StudentCodeError:
        """A reply larger than the request allows: the rest of it is still in the pipe, so the
        worker is stopped (the next request starts a fresh one); only this call fails."""
        self._stop()
        error = StudentCodeError("error", f"The answer of {describe(header)} was not read: {reason}. "
                                          "It is far larger than an answer to this call can be.")
        module = header.get("module")
        if header.get("op") == "load" and isinstance(module, str):
            self._poisoned[module] = error
        return error

    def _fail(self, header: dict, kind: str, message: str) -> StudentCodeError:
        """The worker is gone or untrustworthy: kill it, record the event, return the error to raise."""
        if kind == "timeout" and self._ended_by_itself():
            kind, message = self._death_cause(header)  # it died before its reply was due: not a timeout
        self._stop()
        self._record(kind, message, header)
        error = StudentCodeError("timeout" if kind == "timeout" else "error", message, event=kind)
        module = header.get("module")
        if header.get("op") == "load" and isinstance(module, str):
            self._poisoned[module] = error
        return error

    def _record(self, kind: str, message: str, header: dict) -> None:
        module = header.get("module") if isinstance(header.get("module"), str) else None
        event = GradingError(kind, message, module)
        if event not in self.events:  # the same failure on every check is one event
            self.events.append(event)

    def _ended_by_itself(self, grace: float = 0.1) -> bool:
        """Whether the worker had ended (or was ending) when its deadline passed, before we kill it."""
        process = self._process
        if process is None:
            return False
        try:
            process.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            return False
        return True

    def _death_cause(self, header: dict) -> tuple[str, str]:
        """(event kind, message) for a worker that closed its reply pipe."""
        process = self._process
        try:
            status = process.popen.wait(timeout=2) if process else None
        except subprocess.TimeoutExpired:
            status = None
        if process is not None:
            process.threads[1].join(timeout=0.5)  # the last words on stderr tell memory from crash
        oom_kills = process.cgroup.oom_kills() if process is not None and process.cgroup is not None else 0
        return classify_exit(status, self.sandbox_name, self._stderr.text()[-4000:], describe(header),
                             self.config, oom_kills=oom_kills)

    # ---------------------------------------------------------------- pipes

    def _write(self, process: _Process, parts: list, deadline: float) -> None:
        """Write the frame with as few system calls as the pipe allows: the worker wakes once."""
        views = byte_views(parts)
        while views:
            try:
                views = unwritten(views, os.writev(process.request_fd, views[:IOV_MAX]))
            except BlockingIOError:  # the fd is non-blocking, so a full pipe cannot stall us
                if not process.can_write.poll(_remaining_ms(deadline)):
                    raise _Deadline() from None

    def _read(self, process: _Process, size: int, deadline: float) -> bytearray:
        """Exactly `size` bytes of the reply stream; waits (until `deadline`) only when none are there."""
        inbox = process.inbox
        while len(inbox) < size:
            try:
                chunk = os.read(process.reply_fd, max(size - len(inbox), READ_CHUNK))
            except BlockingIOError:
                if not process.can_read.poll(_remaining_ms(deadline)):
                    raise _Deadline() from None
                continue
            if not chunk:
                raise EOFError("the worker closed its reply pipe")
            inbox += chunk
        out = inbox[:size]  # a bytearray of its own: arrays decode from it without another copy
        del inbox[:size]
        return out

    # ---------------------------------------------------------------- processes

    def _check_open(self) -> None:
        if self._closed:
            raise GraderError("this WorkerClient is closed; make a new one")

    def _spawn(self) -> None:
        self._stop()
        runtime = sb.host_runtime()
        if self._dirs is None:
            self._dirs = sb.make_worker_dirs(self.staged_dir, uid=self._uid)
            self._leftovers["root"] = self._dirs.root
        else:
            sb.reset_tmp(self._dirs, self._uid)
        fds = sb.open_runtime_fds(runtime) if self.sandbox_name == "none" and self._uid is not None else None
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        for fd in (request_write, reply_write):
            widen_pipe(fd)
        try:
            if self.sandbox_name == "none":
                sb.link_numpy(self._dirs, runtime, fds)
            settings = sb.worker_settings(self.sandbox_name, runtime, self._dirs, request_fd=request_read,
                                          reply_fd=reply_write, uid=self._uid, fds=fds, forbidden=self.forbidden,
                                          first_handle=(self.starts + 1) << 32)
            env = sb.worker_environment(self.sandbox_name, self._dirs, self.env)
            command = sb.build_command(self.sandbox_name, runtime, self._dirs, self.config, settings, env)
            limits = sb.process_limits(self.config, nproc=sb.nproc_limit(self.config, self._uid))
            group = self._new_cgroup()
            popen = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=(request_read, reply_write, *(fds or {}).values()), start_new_session=True,
                preexec_fn=sb.make_preexec(limits, join=group.preexec_join() if group else None),
                env=env, umask=0o022, cwd=self._dirs.tmp if self.sandbox_name == "none" else "/")
        except BaseException:
            for fd in (request_read, request_write, reply_read, reply_write, *(fds or {}).values()):
                os.close(fd)
            if self._leftovers["cgroup"] is not None:  # made for this worker, never joined
                self._leftovers["cgroup"].remove(patience=1.0)
                self._leftovers["cgroup"] = None
            raise
        for fd in (request_read, reply_write, *(fds or {}).values()):
            os.close(fd)  # the worker's ends; holding them would hide its exit from us
        os.set_blocking(request_write, False)  # so a worker that stops reading cannot outlast a deadline
        os.set_blocking(reply_read, False)  # read what is there; poll only when nothing is
        threads = [self._stdout.drain(popen.stdout), self._stderr.drain(popen.stderr)]
        self._process = _Process(popen, request_write, reply_read, threads, group)
        threads.append(watch_sandbox(popen, group, self._uid if self._uid_private else None, self._process.stopping))
        self._leftovers["process"] = popen
        self.starts += 1
        self._await_startup(STANDBY)
        if self.staged_dir is not None:
            self._attach_process()

    def _new_cgroup(self) -> Optional[cg.SandboxCgroup]:
        """A fresh cgroup for the next worker, limited as the config says (None without cgroups)."""
        if not self.cgroups.usable:
            return None
        limits = cg.CgroupLimits(memory_bytes=self.config.memory_mb * 2**20,
                                 max_processes=self.config.max_processes)
        group = cg.create_cgroup(self.cgroups, limits)
        self._leftovers["cgroup"] = group
        return group

    def _attach_process(self) -> None:
        """Tell the standby worker its submission folder is complete; wait until it is ready."""
        self._await_startup(HELLO, send={"op": ATTACH, "id": ATTACH})

    def _await_startup(self, expected: str, send: Optional[dict] = None) -> None:
        """Send `send` (if any), then wait for the start-up message with id `expected`."""
        process = self._process
        deadline = time.monotonic() + self.startup_timeout
        try:
            if send is not None:
                self._write(process, protocol.encode(send).parts(), deadline)
            message = protocol.decode(protocol.read_frame(lambda n: self._read(process, n, deadline)))
            if message.get("id") != expected or not message.get("ok"):
                raise ValueError(f"expected the {expected!r} message, got {message!r:.200}")
        except (_Deadline, EOFError, OSError, ValueError) as exc:
            status = process.popen.poll()
            self._stop()
            raise GraderError(f"the {self.sandbox_name} worker did not start ({type(exc).__name__}, "
                              f"exit status {status}): {self._stderr.text()[-2000:]}") from None

    def _stop(self) -> None:
        """Kill the current worker and every process it made; wait until they are gone."""
        process, self._process = self._process, None
        self._leftovers["process"] = None
        if process is None:
            return
        process.stopping.set()
        stop_process_tree(process.popen, self._uid if self._uid_private else None, cgroup=process.cgroup)
        if process.cgroup is not None:
            process.cgroup.remove()
            self._leftovers["cgroup"] = None
        for fd in (process.request_fd, process.reply_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        for thread in process.threads:
            thread.join(timeout=2)


def stop_process_tree(popen: subprocess.Popen, uid: Optional[int], *, patience: float = 5.0,
                      cgroup: Optional[cg.SandboxCgroup] = None) -> None:
    """SIGKILL the worker's cgroup, process group, private uid's processes and session, until none is left.

    `uid` must be private to this worker (None otherwise): every process of it is killed.
    """
    session = popen.pid  # start_new_session made the worker (or bwrap) its session leader
    if cgroup is not None:  # first: the cgroup holds every process it forked, wherever it went
        cgroup.kill(patience)
    try:
        os.killpg(popen.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if uid is not None:
        sb.kill_uid(uid)
    try:
        popen.wait(timeout=patience)
    except subprocess.TimeoutExpired:
        pass
    stop = time.monotonic() + patience
    while time.monotonic() < stop:
        left = sb.pids_of(uid=uid, session=session)
        if not left:
            return
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if uid is not None:
            sb.kill_uid(uid)
        time.sleep(0.02)


def watch_sandbox(popen: subprocess.Popen, cgroup: Optional[cg.SandboxCgroup], uid: Optional[int],
                  stopping: threading.Event) -> threading.Thread:
    """Stop the whole sandbox as soon as its worker ends, or the kernel kills one of its processes
    for the cgroup's memory limit.

    Processes the code forked hold copies of the reply pipe: while one lives, a worker that died
    gives no end of file, and the grader would wait for the deadline and call a crash a timeout.
    And an OOM kill takes one victim, often a forked child, while the rest go on; stopping all of
    it makes the memory limit end the request, as a "memory" death. `uid` only if private.
    """

    def run() -> None:
        while not stopping.wait(WATCH_INTERVAL_S):
            if popen.poll() is not None or (cgroup is not None and cgroup.oom_kills() > 0):
                stop_process_tree(popen, uid, patience=2.0, cgroup=cgroup)
                return

    thread = threading.Thread(target=run, name="sandbox-watch", daemon=True)
    thread.start()
    return thread


def _clean_up(leftovers: dict) -> None:
    """Last resort when a client is dropped without close() (or at interpreter exit)."""
    if leftovers.get("process") is not None:
        stop_process_tree(leftovers["process"], leftovers.get("uid"), patience=1.0, cgroup=leftovers.get("cgroup"))
    if leftovers.get("cgroup") is not None:
        leftovers["cgroup"].remove(patience=1.0)
    if leftovers.get("root"):
        shutil.rmtree(leftovers["root"], ignore_errors=True)


def _check_reply_cap(header: dict) -> None:
    cap = header.get("max_reply_bytes")
    if cap is not None and (type(cap) is not int or cap < 1024):
        raise ValueError(f"max_reply_bytes must be an int of at least 1024, not {cap!r}")


def _existing_folder(path: Any) -> str:
    if not os.path.isdir(path):
        raise GraderError(f"staged submission folder {path} does not exist")
    return os.fspath(path)


def widen_pipe(fd: int, size: int = PIPE_BYTES) -> None:
    """Ask for a pipe buffer of `size` bytes; the kernel's default (64 KiB) is kept if refused."""
    if not 4096 <= size < 2**31:  # the kernel reads a C int, and rounds anything smaller up to a page
        raise ValueError(f"a pipe buffer is between 4096 bytes and 2 GiB, not {size}")
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except OSError:  # over /proc/sys/fs/pipe-max-size, or the user's pipe quota: still correct
        pass


def pipe_size(fd: int) -> int:
    """The pipe's buffer in bytes (64 KiB where the kernel cannot say)."""
    try:
        return int(fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ))
    except (OSError, AttributeError):
        return 1 << 16


def _remaining_ms(deadline: float) -> int:
    return max(0, int((deadline - time.monotonic()) * 1000))


def reply_byte_cap(header: dict, request_bytes: int) -> int:
    """The most bytes the reply to `header` may have: its "max_reply_bytes" when given, else
    REPLY_MULTIPLE times the request's own size, at least REPLY_FLOOR_BYTES."""
    override = header.get("max_reply_bytes")
    if override is not None:
        return int(override)
    return max(REPLY_FLOOR_BYTES, REPLY_MULTIPLE * request_bytes)


def reply_limits(cap: int) -> protocol.Limits:
    """Decoding limits for a reply of at most `cap` bytes of arrays and `cap` bytes of header (at
    most the protocol's own header cap), with as few arrays and JSON containers as keep decoding
    cheap: about one per 256 and 64 bytes of the cap."""
    default = protocol.DEFAULT_LIMITS
    return protocol.Limits(max_header_bytes=min(default.max_header_bytes, cap), max_buffer_bytes=cap,
                           max_buffers=min(default.max_buffers, max(1024, cap // 256)),
                           max_ndim=default.max_ndim, max_depth=default.max_depth,
                           max_containers=min(default.max_containers, max(65536, cap // 64)))


def classify_exit(status: Optional[int], sandbox: str, stderr: str, what: str,
                  config: sb.SandboxConfig, *, oom_kills: int = 0) -> tuple[str, str]:
    """(event kind, message) for a worker that ended during `what`, from its exit status and
    `oom_kills`, the kills by its cgroup's memory limit (the sandbox is then killed whole)."""
    if oom_kills > 0:
        return "memory", (f"{what} used more than the sandbox's {config.memory_mb} MB of memory (all its "
                          "processes together), and the sandbox was stopped")
    signal_number = None
    if status is not None and status < 0:
        signal_number = -status
    elif status is not None and sandbox == "bwrap" and status > 128:
        signal_number = status - 128  # bwrap reports a child killed by signal N as 128 + N
    if signal_number is None:
        if status is None:
            return "crash", f"the worker stopped answering during {what}"
        return "crash", (f"the worker exited with status {status} during {what}: "
                         "the code called sys.exit() or os._exit(), which ends the grader's worker")
    name = _signal_name(signal_number)
    if signal_number == signal.SIGXCPU:
        return "timeout", f"{what} used up the worker's {config.cpu_seconds} s of CPU time"
    if signal_number == signal.SIGXFSZ:
        return "crash", f"{what} wrote a file larger than {config.max_file_mb} MB"
    if signal_number == signal.SIGKILL or any(marker in stderr for marker in MEMORY_MARKERS):
        return "memory", (f"the worker was killed ({name}) during {what}, most likely for using more than "
                          f"{config.memory_mb} MB of memory")
    return "crash", f"the worker crashed ({name}) during {what}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
