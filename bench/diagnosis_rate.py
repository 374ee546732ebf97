"""How often the grader names the right mistake: the mistake catalog, graded for real.

    python bench/diagnosis_rate.py [--jobs N] [--seed N]

Every broken submission of tests/grader/mistakes/catalog.py (the course's solutions with one
known mistake) is graded by the real pipeline, in the sandbox, for its exercise only. The table
has one row per submission: the mistake, the code expected, the codes the report carries, and
the points lost. Below it: the share of single-mistake submissions diagnosed correctly (the
expected code on a failed test, and no code the catalog does not allow), the number of
diagnoses given on correct code written differently (the catalog's CORRECT list), and on
mistakes no code names (UNNAMED: nothing may be named there either). Exits 1 when the share is
under 90% or any correct code got a diagnosis.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.grader.mistakes.catalog import CORRECT, MISTAKES, UNNAMED, Mutation  # noqa: E402
from tests.grader.mistakes.submissions import grade_all  # noqa: E402

TARGET_SHARE = 0.9


def codes_of(result) -> list[str]:
    return sorted({t.diagnosis for e in result.exercises for t in e.tests if t.diagnosis})


def diagnosed(mutation: Mutation, codes: list[str]) -> bool:
    """The expected code is there, and nothing the catalog does not allow."""
    return mutation.expected in codes and set(codes) <= {mutation.expected, *mutation.allowed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="the grading seed (hidden checks' inputs)")
    args = parser.parse_args(argv)

    started = time.monotonic()
    results = grade_all(MISTAKES + UNNAMED + CORRECT, jobs=args.jobs, seed=args.seed)

    print(f"{'mistake':42} {'expected':34} {'got':48} {'lost':>6}")
    right = 0
    for mutation in MISTAKES:
        result = results[mutation.id]
        codes = codes_of(result)
        ok = diagnosed(mutation, codes)
        right += ok
        lost = result.max_score - result.score
        print(f"{mutation.id:42} {mutation.expected:34} {', '.join(codes) or '-':48} {lost:6.2f}"
              f"{'' if ok else '  <-- wrong'}")
    print()
    print(f"{'mistake no code names':42} {'got':83} {'lost':>6}")
    unnamed_given = 0
    for mutation in UNNAMED:
        result = results[mutation.id]
        unnamed_given += sum(1 for e in result.exercises for t in e.tests if t.diagnosis)
        print(f"{mutation.id:42} {', '.join(codes_of(result)) or '-':83} {result.max_score - result.score:6.2f}")
    false_diagnoses = 0
    print()
    print(f"{'correct code':42} {'got':83} {'lost':>6}")
    for mutation in CORRECT:
        result = results[mutation.id]
        given = [t for e in result.exercises for t in e.tests if t.diagnosis]
        false_diagnoses += len(given)
        print(f"{mutation.id:42} {', '.join(codes_of(result)) or '-':83} {result.max_score - result.score:6.2f}")

    share = right / len(MISTAKES)
    print()
    print(f"single-mistake submissions diagnosed correctly: {right} of {len(MISTAKES)} ({share:.1%})")
    print(f"diagnoses given on correct code: {false_diagnoses} (in {len(CORRECT)} submissions)")
    print(f"diagnoses given to mistakes no code names: {unnamed_given} (in {len(UNNAMED)} submissions)")
    print(f"graded {len(results)} submissions in {time.monotonic() - started:.1f} s with --jobs {args.jobs}, "
          f"seed {args.seed}")
    return 0 if share >= TARGET_SHARE and false_diagnoses == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
