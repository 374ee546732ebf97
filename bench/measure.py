"""Wall time, CPU time and peak memory of a command and every process it starts.

`run_measured(argv)` runs a command to its end while a sampler thread walks its process tree
in /proc every few milliseconds, keeping each process's peak resident memory (VmHWM) and CPU
time. Processes are told apart by their command line: the grader's own processes, the
sandboxed workers (and bubblewrap around them), and anything else (nbgrader's kernels).
A process that lives less than one sampling period can be missed; its memory is still in
`tree_max_rss_kb`, the largest process the kernel saw in the tree (from wait4). Sampling runs
on one core of its own for a few percent of it; CPU figures are the sampled ones.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WORKER_MARK = "runner.main"  # the worker's bootstrap imports the worker package under this name


@dataclass
class ProcessSample:
    pid: int
    role: str  # "main", "grader" (pool and fork server), "worker", "bwrap" or "other"
    peak_rss_kb: int = 0
    cpu_s: float = 0.0


@dataclass
class Measurement:
    argv: list[str]
    returncode: int
    wall_s: float
    tree_max_rss_kb: int  # the largest process of the tree, as the kernel counted it (wait4)
    processes: dict[int, ProcessSample] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""

    def of_role(self, role: str) -> list[ProcessSample]:
        return [p for p in self.processes.values() if p.role == role]

    @property
    def main_peak_mb(self) -> float:
        return sum(p.peak_rss_kb for p in self.of_role("main")) / 1024

    @property
    def grader_peak_mb(self) -> float:
        """The largest grading process: the main one or a pool process."""
        return max([p.peak_rss_kb for p in self.of_role("main") + self.of_role("grader")] or [0]) / 1024

    @property
    def worker_peaks_mb(self) -> list[float]:
        return [p.peak_rss_kb / 1024 for p in self.of_role("worker")]

    def worker_summary(self) -> str:
        peaks = self.worker_peaks_mb
        if not peaks:
            return "-"
        return f"{max(peaks):.0f} / {statistics.median(peaks):.0f} MB ({len(peaks)})"

    @property
    def cpu_s(self) -> float:
        """CPU seconds of every process of the tree, as last sampled (a process's last few
        milliseconds before it ends can be missed: workers die with their sandbox, so no one
        waits for them and the kernel's own totals do not include them)."""
        return sum(p.cpu_s for p in self.processes.values())


def _read(path: str) -> Optional[str]:
    try:
        with open(path, "rb") as file:
            return file.read().decode("utf-8", "replace")
    except OSError:
        return None


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process (those that vanish while we look are skipped)."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _read(f"/proc/{entry}/stat")
            if stat:
                out[int(entry)] = int(stat.rpartition(")")[2].split()[1])
    return out


def descendants(root: int, parents: dict[int, int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def classify(pid: int, root: int, cmdline: str) -> str:
    if pid == root:
        return "main"
    if cmdline.split("\0", 1)[0].endswith("bwrap"):  # its arguments name the worker too
        return "bwrap"
    if WORKER_MARK in cmdline:
        return "worker"
    if "multiprocessing" in cmdline or "grader" in cmdline:
        return "grader"
    return "other"


def sample(root: int, seen: dict[int, ProcessSample]) -> None:
    """Add the current peak memory and CPU of every process under `root` to `seen`."""
    for pid in descendants(root, _parents()):
        status = _read(f"/proc/{pid}/status")
        stat = _read(f"/proc/{pid}/stat")
        if status is None or stat is None:
            continue
        entry = seen.get(pid)
        if entry is None:
            entry = seen[pid] = ProcessSample(pid, "other")
        if entry.role not in ("main", "worker"):  # seen between fork and exec it looked like its parent
            cmdline = _read(f"/proc/{pid}/cmdline")
            if cmdline:  # empty once it has ended
                entry.role = classify(pid, root, cmdline)
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                entry.peak_rss_kb = max(entry.peak_rss_kb, int(line.split()[1]))
        fields = stat.rpartition(")")[2].split()
        entry.cpu_s = max(entry.cpu_s, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)


def run_measured(argv: list[str], *, cwd: Optional[str] = None, env: Optional[dict] = None,
                 period: float = 0.01, capture: bool = True) -> Measurement:
    """Run `argv` to its end, sampling its process tree every `period` seconds."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE if capture else None,
                               stderr=subprocess.PIPE if capture else None)
    seen: dict[int, ProcessSample] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            sample(process.pid, seen)
            done.wait(period)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, err = [], []
    readers = [threading.Thread(target=lambda s=s, b=b: b.append(s.read()), daemon=True)
               for s, b in ((process.stdout, out), (process.stderr, err)) if s is not None]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    watcher.join()
    for reader in readers:
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    text = [b"".join(chunks).decode("utf-8", "replace") for chunks in (out, err)]
    return Measurement(argv, process.returncode, wall, usage.ru_maxrss, seen, *text)


def rss_mb(pid: str = "self") -> float:
    """Current resident memory of a process (VmRSS), in MB."""
    for line in (_read(f"/proc/{pid}/status") or "").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
