"""A class of Assignment-1 repositories (`--assignment da6401-a1`) graded with `grade --jobs N`.

    python bench/da6401_class.py [--students 100] [--jobs 2]

The class is built in a temporary folder from the course solution and the catalogue of
mistakes (tests/assignments/da6401_a1/catalogue.py): student k hands in the solution or one
of the catalogued variants, in turn. The same class is graded three times, each by the real
`grade` command with the sandbox: the network parts only (forward, gradients, optimizers), the
training parts only (`train.py` runs and the handed-in model), and everything. Each row gives
seconds per repository (wall and CPU, every process of the command), the grader's and the
workers' peak memory, and how many repositories got every point of the parts graded.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import run_measured  # noqa: E402
from tests.assignments.da6401_a1.catalogue import CORRECT, MISTAKES, SOLUTION, materialise  # noqa: E402

NETWORK_PARTS = ("a1_forward", "a1_gradients", "a1_optimizers")
TRAINING_PARTS = ("a1_training", "a1_model")  # graded once the assignment has them


def build_class(root: Path, students: int) -> Path:
    """`root/class/sNNN/`: the solution or a catalogued variant, in turn."""
    variants = [None, *CORRECT, *MISTAKES]
    klass = root / "class"
    klass.mkdir(parents=True)
    for k in range(students):
        variant = variants[k % len(variants)]
        dest = klass / f"s{k + 1:03d}"
        if variant is None:
            import shutil

            shutil.copytree(SOLUTION, dest)
        else:
            materialise(variant, dest)
    return klass


def grade_parts(klass: Path, out: Path, jobs: int, parts: tuple[str, ...]):
    argv = [sys.executable, "-m", "grader.cli", str(klass), "--assignment", "da6401-a1", "--out", str(out),
            "--jobs", str(jobs), "--seed", "1", "--force"]
    for part in parts:
        argv += ["--exercise", part]
    measured = run_measured(argv)
    if measured.returncode != 0:
        raise SystemExit(f"grade failed ({measured.returncode}):\n{measured.stderr[-3000:]}")
    full = 0
    for path in out.glob("*.json"):
        if path.name == "summary.json":
            continue
        report = json.loads(path.read_text("utf-8"))
        full += report["score"] == report["max_score"]
    return measured, full


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    from grader.assignments import get_assignment

    stems = get_assignment("da6401-a1").stems
    training = tuple(p for p in TRAINING_PARTS if p in stems)
    rows = [("network parts (forward, gradients, optimizers)", NETWORK_PARTS)]
    if training:
        rows += [("training parts (train.py runs, best_model.npy)", training), ("everything", stems)]
    with tempfile.TemporaryDirectory(prefix="bpg-da6401-bench-") as scratch:
        klass = build_class(Path(scratch), args.students)
        print(f"{args.students} repositories, --jobs {args.jobs}, sandbox on")
        print(f"{'parts graded':<48} {'s/repo':>7} {'cpu s/repo':>10} {'grader MB':>9} "
              f"{'worker MB max':>13} {'full marks':>10}")
        print("-" * 102)
        for label, parts in rows:
            measured, full = grade_parts(klass, Path(scratch) / f"out-{len(parts)}", args.jobs, parts)
            workers = measured.worker_peaks_mb or [0.0]
            print(f"{label:<48} {measured.wall_s / args.students:>7.2f} {measured.cpu_s / args.students:>10.2f} "
                  f"{measured.grader_peak_mb:>9.0f} {max(workers):>13.0f} {full:>6}/{args.students:<4}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
