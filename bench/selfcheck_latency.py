"""How long a student waits for `grade check` on one solved exercise, from the shell.

    python bench/selfcheck_latency.py [--exercise ex1_activations_losses] [--runs 5] [--baseline CHECKOUT]

A folder holds one solved exercise (the course's solution, as a notebook and, in a second
folder, as a module), and `grade check FOLDER` runs on it as a student would type it: a new
process each time, Python's start-up and every import included, the public checks in the
sandboxed worker. The table gives the median and fastest of --runs runs, next to the cost of
starting Python alone and of importing the command line. Below it, the imports that take
longest when `grade check` runs (from `python -X importtime`, cumulative, top-level packages).
The script exits 1 when the median run on the notebook takes 1 s or more, or a check fails.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.classroom import ROOT  # noqa: E402

LIMIT_S = 1.0


def env_for(checkout: Optional[Path]) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(checkout or ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def timed(argv: list[str], env: dict[str, str], cwd: str, runs: int) -> tuple[list[float], int]:
    """Wall seconds of each run, and the last exit status."""
    times, status = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
        status = done.returncode
    return times, status


def import_breakdown(argv: list[str], env: dict[str, str], cwd: str, top: int) -> list[tuple[float, str]]:
    """(cumulative ms, module) of the slowest imports of one run, from -X importtime.

    The module keeps Python's indentation, so a module's slow imports show under it.
    """
    done = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], env=env, cwd=cwd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            _, cumulative, name = line.split("|")
            if cumulative.strip().isdigit():
                rows.append((int(cumulative) / 1000, name.rstrip()))
    return sorted(rows, key=lambda row: -row[0])[:top]


def folders(scratch: Path, exercise: str) -> dict[str, Path]:
    """One folder with the solved exercise as a notebook, one with it as a module."""
    out = {}
    for kind in ("ipynb", "py"):
        folder = scratch / kind
        folder.mkdir()
        shutil.copy(ROOT / "solutions" / f"{exercise}.{kind}", folder)
        out[kind] = folder
    return out


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exercise", default="ex1_activations_losses")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout to time as well")
    parser.add_argument("--top", type=int, default=15, help="imports listed (default 15)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="bench-selfcheck-") as scratch:
        return run(Path(scratch), args)


def run(scratch: Path, args: argparse.Namespace) -> int:
    python = sys.executable
    cwd = str(scratch)  # `python -m` puts the working directory first on sys.path: keep it neutral
    checkouts = [("this checkout", None)] + ([(args.baseline.name, args.baseline)] if args.baseline else [])
    rows = [("python -c pass", [python, "-c", "pass"], None),
            ("import grader.cli", [python, "-c", "import grader.cli"], None)]
    for kind, folder in folders(scratch, args.exercise).items():
        rows.append((f"grade check (.{kind})", [python, "-m", "grader.cli", "check", str(folder),
                                                 "--exercise", args.exercise], kind))
    print(f"{args.exercise}, {args.runs} runs each, {os.cpu_count()} cores")
    header = f"{'command':<24} {'checkout':<16} {'median s':>9} {'fastest s':>10} {'exit':>5}"
    print(header + "\n" + "-" * len(header))
    failed = False
    for label, command, kind in rows:
        for name, checkout in checkouts:
            times, status = timed(command, env_for(checkout), cwd, args.runs)
            median = statistics.median(times)
            print(f"{label:<24} {name:<16} {median:>9.3f} {min(times):>10.3f} {status:>5}")
            if checkout is None and kind is not None:
                failed |= status != 0 or (kind == "ipynb" and median >= LIMIT_S)
    notebook = next(command for label, command, kind in rows if kind == "ipynb")
    print(f"\nslowest imports of `grade check` on the notebook (cumulative ms, {checkouts[0][0]}):")
    for ms, name in import_breakdown(notebook, env_for(None), cwd, args.top):
        print(f"  {ms:8.1f} {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
