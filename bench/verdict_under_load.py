"""Whether the timing-sensitive hostile verdicts hold while the machine is busy.

    python bench/verdict_under_load.py [--runs 3] [--hog stress-ng|python|none]

The hostile submission of tests/grader/test_hostile_submissions.py (an endless loop, a memory
hog, a fork storm, sys.exit, os._exit, a segfault, forged replies, ...) has its exercise 1
graded --runs times on an idle machine and --runs times under a CPU hog on every core
(`stress-ng --cpu N` when installed, else N busy Python processes). For each hostile function
the table counts the runs whose verdict (the status of its first test and the kind of its error
event) differs from the one the tests expect. Every count should be 0: a verdict must not depend
on the machine's load. The script exits 1 when any verdict flipped. A default run takes about
two minutes on two cores.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.worker import sandbox as sb  # noqa: E402
from tests.grader.hostile.submissions import EX1, append_code, exercises_of, grade_folder, grading_options, solved_folder  # noqa: E402
from tests.grader.test_hostile_submissions import EX1_EXPECTED, EX1_HOSTILE, MAX_PROCESSES, TIMEOUT  # noqa: E402

Verdict = tuple[str, Optional[str]]  # status of the function's first test, kind of its error event (if any)


def _spin() -> None:
    while True:
        pass


@contextmanager
def cpu_hog(kind: str) -> Iterator[str]:
    """Every core busy while the block runs; yields what is running."""
    cores = os.cpu_count() or 1
    if kind == "stress-ng" and shutil.which("stress-ng") is None:
        kind = "python"
    if kind == "none":
        yield "none"
        return
    if kind == "stress-ng":
        hog = subprocess.Popen(["stress-ng", "--cpu", str(cores), "--timeout", "600s", "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            yield f"stress-ng --cpu {cores}"
        finally:
            os.killpg(hog.pid, signal.SIGTERM)
            hog.wait()
        return
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(cores)]
    for spinner in spinners:
        spinner.start()
    try:
        yield f"{cores} busy Python processes"
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.join()


def hostile_folder(root: Path) -> Path:
    """The hostile exercise 1 of the tests, with harmless targets for its write attempts."""
    folder = solved_folder(root, "mallory")
    outside = root / "outside"
    outside.mkdir()
    outside.chmod(0o777)  # so only the sandbox, not file permissions, can stop the write
    # /var/tmp first, as in the tests: world-writable on the host, outside the sandbox's own temp
    # folder, so the worker's guard refuses the write before the file system is asked
    targets = [f"/var/tmp/{root.name}-pwned.txt", str(outside / "pwned.txt")]
    settings = f"TARGETS = {targets!r}\nUSE_CTYPES = False\nPORT = 9\n"
    append_code(folder, EX1, settings + EX1_HOSTILE)
    return folder


def verdicts(folder: Path) -> dict[str, Verdict]:
    """Each hostile function's verdict in one grading of exercise 1."""
    uid = sb.fresh_uid(sb.SandboxConfig())
    options = grading_options(exercises=(EX1,), timeout=TIMEOUT,
                              sandbox=sb.SandboxConfig(uid=uid, memory_mb=1024, max_processes=MAX_PROCESSES))
    result = grade_folder(folder, options)
    tests = exercises_of(result)[EX1].tests
    kinds = {e.kind for e in result.errors if e.exercise == EX1}
    out = {}
    for function, (_, kind, _) in EX1_EXPECTED.items():
        own = [t for t in tests if t.name.split(".")[0] == function]
        out[function] = (own[0].status if own else "absent", kind if kind in kinds else None)
    return out


def expected(function: str) -> Verdict:
    status, kind, _ = EX1_EXPECTED[function]
    return status, kind


def flips(runs: list[dict[str, Verdict]]) -> dict[str, list[Verdict]]:
    """function -> the unexpected verdicts it got over `runs`."""
    return {f: [run[f] for run in runs if run[f] != expected(f)] for f in EX1_EXPECTED}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="gradings per condition (default 3)")
    parser.add_argument("--hog", choices=("stress-ng", "python", "none"), default="stress-ng")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bpg-load-") as tmp:
        folder = hostile_folder(Path(tmp))
        conditions = {}
        for label, hog in (("idle", "none"), ("cpu hog", args.hog)):
            with cpu_hog(hog) as running:
                started = time.monotonic()
                runs = [verdicts(folder) for _ in range(args.runs)]
                conditions[f"{label} ({running})"] = (flips(runs), time.monotonic() - started)
    print(f"{'function':<12} {'expected':<22}" + "".join(f" {name:>34}" for name in conditions))
    total = 0
    for function in EX1_EXPECTED:
        status, kind = expected(function)
        cells = []
        for flipped, _ in conditions.values():
            total += len(flipped[function])
            shown = ", ".join(sorted({f"{s}/{k}" for s, k in flipped[function]}))
            cells.append(f"{len(flipped[function])}/{args.runs}" + (f" ({shown})" if shown else ""))
        print(f"{function:<12} {status + '/' + str(kind):<22}" + "".join(f" {c:>34}" for c in cells))
    print(f"{'seconds':<35}" + "".join(f" {seconds:>34.1f}" for _, seconds in conditions.values()))
    print(f"verdicts flipped: {total} of {len(EX1_EXPECTED) * args.runs * len(conditions)}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
