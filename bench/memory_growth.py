"""Memory over a long batch: does the grader's resident memory grow with the number of students?

    python bench/memory_growth.py [--students 200] [--jobs 1] [--checkpoints 4]

A class of solved submissions (bench/classroom.py) is graded by `grade_batch` in this process,
as `grade` would. At each checkpoint (by default after 50, 100, 150 and 200 students) the table
shows this process's resident memory, that of the pool processes when --jobs > 1, and the
largest worker seen so far (workers are sampled in the background). Growth is the change from
the first checkpoint to the last: a grader that keeps something per student (results, caches,
threads, open files) shows it there. The script exits 1 when the grading processes grow by
more than --limit-mb (default 20 MB) or any student misses full marks.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.classroom import build_class  # noqa: E402
from bench.measure import ProcessSample, rss_mb, sample  # noqa: E402


def checkpoints(students: int, count: int) -> list[int]:
    """`count` evenly spaced student counts ending at `students` (50, 100, 150, 200 for 200 and 4)."""
    return sorted({max(1, round(students * (i + 1) / count)) for i in range(count)})


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--checkpoints", type=int, default=4)
    parser.add_argument("--limit-mb", type=float, default=20.0, help="growth allowed from first to last checkpoint")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.students < 1 or args.jobs < 1 or args.checkpoints < 1:
        parser.error("--students, --jobs and --checkpoints must be at least 1")
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as scratch:
        return run(Path(scratch), args)


def run(course: Path, args: argparse.Namespace) -> int:
    from grader.batch import grade_batch
    from grader.pipeline import GradingOptions

    started = time.perf_counter()
    build_class(course, args.students)
    print(f"{args.students} solved submissions built in {time.perf_counter() - started:.0f} s; "
          f"grading with {args.jobs} job(s)")
    seen: dict[int, ProcessSample] = {}
    done = threading.Event()

    def watch() -> None:  # the tree under this process: pool processes, bubblewrap, workers
        while not done.is_set():
            sample(os.getpid(), seen)
            done.wait(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    marks = checkpoints(args.students, args.checkpoints)
    rows: list[tuple[int, float, float, float, float, int]] = []
    full = 0

    def progress(count: int, total: int, result, skipped: bool) -> None:
        nonlocal full
        full += result.score == result.max_score > 0 and not result.errors
        if count in marks:
            pool = [rss_mb(str(p.pid)) for p in seen.values() if p.role == "grader"]
            workers = [p.peak_rss_kb / 1024 for p in seen.values() if p.role == "worker"]
            rows.append((count, time.perf_counter() - started, rss_mb(), max(pool, default=0.0),
                         max(workers, default=0.0), open_files()))

    started = time.perf_counter()
    baseline = rss_mb()
    grade_batch([course / "submitted"], out_dir=course / "grades", jobs=args.jobs, progress=progress,
                options=GradingOptions(seed=args.seed))
    done.set()
    watcher.join()
    print(f"grader RSS before grading: {baseline:.0f} MB")
    header = f"{'graded':>7} {'seconds':>8} {'grader MB':>10} {'pool MB':>8} {'worker peak MB':>15} {'open fds':>9}"
    print(header + "\n" + "-" * len(header))
    for count, seconds, grader_mb, pool_mb, worker_mb, fds in rows:
        print(f"{count:>7} {seconds:>8.0f} {grader_mb:>10.1f} {pool_mb or float('nan'):>8.1f} {worker_mb:>15.1f} {fds:>9}")
    first, last = rows[0], rows[-1]
    growth = max(last[2] - first[2], (last[3] - first[3]) if args.jobs > 1 else 0.0)
    per_student = growth / max(1, last[0] - first[0]) * 1024
    print(f"growth from {first[0]} to {last[0]} students: {growth:+.1f} MB ({per_student:+.0f} KB per student); "
          f"full marks: {full}/{args.students}")
    return 0 if growth <= args.limit_mb and full == args.students else 1


if __name__ == "__main__":
    sys.exit(main())
