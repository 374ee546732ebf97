"""Batch throughput: `grade` against nbgrader's `autograde` on the same class, side by side.

    python bench/throughput.py [--students N] [--jobs 1 2] [--baseline CHECKOUT] [--no-nbgrader]

One course folder is built in a temporary directory: nbgrader's `source/module2a/` (the solution
notebooks), its release made by `nbgrader generate_assignment`, and `submitted/<student>/module2a/`
where every student hands in the six release notebooks with every answer filled in (their own
id and personal case included; see bench/classroom.py). nbgrader's `autograde` grades it in
its kernels, one submission after the other; `grade COURSE/submitted` grades the same files in
the sandbox (bubblewrap when available), once per --jobs value. Both must give every student
full marks: the table says how many got them, and the script exits 1 if any did not.

Each row: wall seconds for the whole command (Python start-up and imports included), seconds
per submission, CPU seconds per submission (every process of the command, sampled; steadier
than wall time on a busy machine), the speed-up over
nbgrader, and peak resident memory of the main process and of each worker (max / median,
number of workers seen). `--baseline DIR` adds rows for another checkout of this repository
(e.g. before a change), run with the same interpreter. nbgrader is installed with pip if
missing (with --install-nbgrader).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.classroom import ASSIGNMENT, ROOT, build_class, write_course_source  # noqa: E402
from bench.measure import Measurement, run_measured  # noqa: E402


@dataclass
class Row:
    label: str
    jobs: int
    measurement: Measurement
    students: int
    full_marks: int

    @property
    def per_submission(self) -> float:
        return self.measurement.wall_s / self.students

    @property
    def cpu_per_submission(self) -> float:
        return self.measurement.cpu_s / self.students


def ensure_nbgrader(install: bool) -> None:
    """nbgrader and a kernel for it, installed with pip when asked and missing."""
    missing = [name for name in ("nbgrader", "ipykernel") if importlib.util.find_spec(name) is None]
    if not missing:
        return
    if not install:
        raise SystemExit(f"{' and '.join(missing)} not installed: pip install nbgrader ipykernel, "
                         "or run with --install-nbgrader (or --no-nbgrader to time only this grader)")
    subprocess.run([sys.executable, "-m", "pip", "install", "nbgrader>=0.9", "ipykernel"], check=True)


def tool_env(extra_path: Optional[Path] = None) -> dict[str, str]:
    """This interpreter's scripts on PATH (nbgrader runs alembic), and optionally another checkout first."""
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(extra_path or ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def nbgrader(course: Path, *args: str) -> Measurement:
    measured = run_measured([sys.executable, "-m", "nbgrader", *args], cwd=str(course), env=tool_env())
    if measured.returncode != 0:
        raise SystemExit(f"nbgrader {args[0]} failed:\n{measured.stderr[-3000:]}")
    return measured


def nbgrader_full_marks(course: Path, students: list[str]) -> int:
    """How many students nbgrader's gradebook gives full marks, in every notebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        full = 0
        for student in students:
            notebooks = gradebook.find_submission(ASSIGNMENT, student).notebooks
            full += bool(notebooks) and all(nb.max_score > 0 and nb.score == nb.max_score for nb in notebooks)
        return full


def our_full_marks(out: Path, students: list[str]) -> int:
    full = 0
    for student in students:
        report = json.loads((out / f"{student}.json").read_text("utf-8"))
        full += report["score"] == report["max_score"] > 0 and not report["errors"]
    return full


def grade(course: Path, out: Path, jobs: int, seed: int, checkout: Optional[Path]) -> Measurement:
    argv = [sys.executable, "-m", "grader.cli", str(course / "submitted"), "--out", str(out),
            "--jobs", str(jobs), "--seed", str(seed), "--force", "--sandbox", "auto"]
    # run from the course folder: `python -m` puts the working directory first on sys.path
    measured = run_measured(argv, cwd=str(course), env=tool_env(checkout))
    if measured.returncode != 0:
        raise SystemExit(f"grade failed:\n{measured.stderr[-3000:]}")
    return measured


def table(rows: list[Row], reference: Optional[Row]) -> str:
    header = (f"{'grader':<26} {'jobs':>4} {'wall s':>8} {'s/sub':>7} {'cpu s/sub':>9} {'speed-up':>8} "
              f"{'full marks':>10} {'main MB':>8}  worker peak max / median")
    lines = [header, "-" * len(header)]
    for row in rows:
        ratio = f"{reference.per_submission / row.per_submission:.1f}x" if reference else "-"
        m = row.measurement
        lines.append(f"{row.label:<26} {row.jobs:>4} {m.wall_s:>8.1f} {row.per_submission:>7.2f} "
                     f"{row.cpu_per_submission:>9.2f} {ratio:>8} {row.full_marks:>5}/{row.students:<4} "
                     f"{m.main_peak_mb:>8.0f}  {m.worker_summary()}")
    return "\n".join(lines)


def chart(rows: list[Row], reference: Optional[Row], path: Path) -> None:
    """Seconds per submission, one bar per row, each labelled with its speed-up (needs matplotlib)."""
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install matplotlib (or the instructor extra)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{row.label}, {row.jobs} job{'s' if row.jobs > 1 else ''}" if row is not reference else row.label
              for row in rows]
    values = [row.per_submission for row in rows]
    figure, axes = plt.subplots(figsize=(7.5, 0.5 * len(rows) + 1.2))
    bars = axes.barh(labels[::-1], values[::-1], color=["#7f7f7f" if row is reference else "#1f77b4"
                                                        for row in rows[::-1]])
    for bar, row in zip(bars, rows[::-1]):
        note = f"{row.per_submission:.2f} s"
        if reference is not None and row is not reference:
            note += f"  ({reference.per_submission / row.per_submission:.1f}x)"
        axes.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, " " + note, va="center", fontsize=9)
    axes.set_xscale("log")
    axes.set_xlabel("wall seconds per solved submission (log scale; lower is better)")
    axes.set_title(f"{rows[0].students} submissions x 6 notebooks, sandbox on, {os.cpu_count()} cores", fontsize=10)
    axes.set_xlim(right=max(values) * 4)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=10, help="class size (default 10)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="--jobs values to time (default 1 2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout to time as well")
    parser.add_argument("--no-nbgrader", action="store_true", help="time only this grader")
    parser.add_argument("--install-nbgrader", action="store_true", help="pip install nbgrader if missing")
    parser.add_argument("--keep", type=Path, default=None, help="build the course here and keep it")
    parser.add_argument("--plot", type=Path, default=None, help="also draw the table as a bar chart (.svg, .png)")
    args = parser.parse_args(argv)
    if args.students < 1 or any(j < 1 for j in args.jobs):
        parser.error("--students and --jobs must be at least 1")
    with_nbgrader = not args.no_nbgrader
    if with_nbgrader:
        ensure_nbgrader(args.install_nbgrader)
    scratch = None if args.keep else tempfile.TemporaryDirectory(prefix="bench-throughput-")
    course = args.keep or Path(scratch.name)
    try:
        return run(course, args, with_nbgrader)
    finally:
        if scratch is not None:
            scratch.cleanup()


def run(course: Path, args: argparse.Namespace, with_nbgrader: bool) -> int:
    course.mkdir(parents=True, exist_ok=True)
    write_course_source(course)
    release = None
    if with_nbgrader:
        nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
        release = course / "release" / ASSIGNMENT
    students = build_class(course, args.students, release)
    rows: list[Row] = []
    reference = None
    if with_nbgrader:
        measured = nbgrader(course, "autograde", ASSIGNMENT, "--create", "--force")
        reference = Row("nbgrader autograde", 1, measured, len(students), nbgrader_full_marks(course, students))
        rows.append(reference)
    checkouts = [("grade", None)] + ([(f"grade ({args.baseline.name})", args.baseline)] if args.baseline else [])
    for label, checkout in checkouts:
        for jobs in args.jobs:
            out = course / f"grades-{len(rows)}"
            measured = grade(course, out, jobs, args.seed, checkout)
            rows.append(Row(label, jobs, measured, len(students), our_full_marks(out, students)))
    summary = json.loads((course / f"grades-{len(rows) - 1}" / "summary.json").read_text("utf-8"))
    sandbox = summary.get("grader", {}).get("sandbox", "?")
    print(f"{len(students)} solved submissions x 6 notebooks, {os.cpu_count()} cores, sandbox {sandbox}, "
          f"seed {args.seed}")
    print(table(rows, reference))
    if args.plot:
        chart(rows, reference, args.plot)
        print(f"chart: {args.plot}")
    return 0 if all(row.full_marks == row.students for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
