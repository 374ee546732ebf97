"""What a hostile submission costs the grader's own process: peak memory and seconds.

    python bench/hostile_cost.py [--runs 1]

Exercise 1 is graded in a fresh Python process per row (so each peak is that row's alone), once
for the solution and once for each hostile variant of tests/grader/hostile/test_reply_trust.py:
a function answering 480 MB of zeros (the grader refuses it at the reply's header), forged failure
replies (NaN event, kind "grader", unknown events), and integers beyond float range. The grader
holds at most one reply of max(16 MiB, 32 x its request) at a time, so the hostile rows should
stay within about 2 x 16 MiB of the honest one. The workers' memory is the sandbox's and not
counted here.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.worker.client import REPLY_FLOOR_BYTES  # noqa: E402
from tests.grader.hostile.submissions import EX1, append_code, solution_module  # noqa: E402
from tests.grader.hostile.test_reply_trust import FORGED_CALLS, HUGE_ANSWER, HUGE_INTS, grade_in_a_child  # noqa: E402

VARIANTS = {"solution": "", "480 MB answer": HUGE_ANSWER, "forged replies": FORGED_CALLS,
            "ints beyond float": HUGE_INTS}


def variant_folder(root: Path, name: str, code: str) -> Path:
    folder = root / name.replace(" ", "_")
    folder.mkdir()
    (folder / f"{EX1}.py").write_text(solution_module(EX1, folder.name), encoding="utf-8")
    if code:
        append_code(folder, EX1, code)
    return folder


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="gradings per row (the median is shown)")
    args = parser.parse_args(argv)
    print(f"exercise 1, {args.runs} run(s) per row; reply cap at least {REPLY_FLOOR_BYTES / 2**20:.0f} MiB")
    print(f"{'submission':<20} {'grader peak MB':>15} {'seconds':>8} {'exercise 1 points':>18}")
    print("-" * 64)
    with tempfile.TemporaryDirectory(prefix="bpg-hostile-cost-") as scratch:
        for name, code in VARIANTS.items():
            folder = variant_folder(Path(scratch), name, code)
            runs = [grade_in_a_child(folder) for _ in range(args.runs)]
            score, max_score = runs[-1]["scores"][EX1]
            print(f"{name:<20} {statistics.median(r['rss_mb'] for r in runs):>15.1f} "
                  f"{statistics.median(r['seconds'] for r in runs):>8.2f} {f'{score:g}/{max_score:g}':>18}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
