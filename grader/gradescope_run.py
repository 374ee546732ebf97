"""What runs inside Gradescope for each submission: grade `ROOT/submission`, write `ROOT/results/results.json`.

Started by the bundle's `run_autograder` as `python -m grader.gradescope_run`.
ROOT is Gradescope's `/autograder`, or `$AUTOGRADER_ROOT` (tests and local trials). The student
id, on which exercise 2's personal case depends, comes from Gradescope's
`submission_metadata.json` (the field the bundle names, `sid` by default; the first member of a
group). Whatever goes wrong, a results.json is written: Gradescope then shows the student a
reason, not "the autograder failed to produce any output".

The hidden checks' seed is derived per submission from the bundle's seed and Gradescope's
submission id (the submission's sha256 when there is none), so a resubmission meets new hidden
inputs while a regrade of the same submission meets the same ones. It is the report's seed and
`extra_data.seed` of results.json (with `extra_data.seed_from`), which Gradescope does not show.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from grader.assignments import DEFAULT_ASSIGNMENT
from grader.assignments.spec import DEFAULT_MEMORY_MB
from grader.defaults import CALL_TIMEOUT_S

DEFAULT_ROOT = "/autograder"
ROOT_VARIABLE = "AUTOGRADER_ROOT"
FALLBACK_ID_FIELDS = ("sid", "email", "id")


@dataclass(frozen=True)
class BundleConfig:
    """The grading settings frozen into a bundle (`bundle.json`), the same for every submission."""

    seed: int  # each submission's seed is derived from it (`submission_seed`)
    timeout: float = CALL_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    assignment: str = DEFAULT_ASSIGNMENT  # an installed assignment's name
    student_id_field: str = "sid"
    show_hidden: bool = False

    def to_dict(self) -> dict[str, Any]:
        """bundle.json's content. Module 2A, the default, is not written: a bundle without the key
        grades Module 2A, as every bundle built before assignments existed does."""
        data = dataclasses.asdict(self)
        if data["assignment"] == DEFAULT_ASSIGNMENT:
            del data["assignment"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BundleConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def autograder_root() -> Path:
    return Path(os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT)


def student_id(metadata: dict[str, Any], field: str) -> Optional[str]:
    """The submitter's id from Gradescope's metadata: `field`, else sid, email, id; None if none is set."""
    users = metadata.get("users") or []
    if not users or not isinstance(users[0], dict):
        return None
    for name in (field, *FALLBACK_ID_FIELDS):
        value = users[0].get(name)
        if value not in (None, ""):
            return str(value)
    return None


def _read_metadata(root: Path) -> dict[str, Any]:
    try:
        data = json.loads((root / "submission_metadata.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class SubmissionSeed:
    """The seed one submission is graded with, and what it was derived from."""

    seed: int
    source: str  # "submission_id" or "sha256"


SEED_BITS = 31  # the range of the bundles' own seeds


def submission_seed(bundle_seed: int, metadata: dict[str, Any], sha256: str) -> SubmissionSeed:
    """The hidden checks' seed for one submission: a hash of the bundle's seed and Gradescope's
    submission id (`id` in submission_metadata.json), else of the submission's sha256."""
    submission = metadata.get("id")
    if isinstance(submission, (int, str)) and not isinstance(submission, bool) and str(submission).strip():
        key, source = f"submission_id\x1f{submission}", "submission_id"
    else:
        key, source = f"sha256\x1f{sha256}", "sha256"
    digest = hashlib.sha256(f"{bundle_seed}\x1f{key}".encode("utf-8")).digest()
    return SubmissionSeed(int.from_bytes(digest[:8], "big") % 2**SEED_BITS, source)


def failure_results(message: str, started: float) -> dict[str, Any]:
    """A results.json for a submission that could not be graded at all."""
    return {"score": 0.0, "execution_time": round(time.monotonic() - started, 3), "output_format": "md",
            "output": f"**Your submission could not be graded.**\n\n{message}", "visibility": "visible",
            "stdout_visibility": "hidden", "tests": []}


def grade_gradescope_submission(root: Path, config: BundleConfig) -> dict[str, Any]:
    """Grade `root/submission` as Gradescope lays it out; return the results.json content."""
    from grader.assignments import get_assignment
    from grader.errors import BadSubmissionError
    from grader.grade_path import NotOneSubmission, grade_path
    from grader.pipeline import GradingOptions
    from grader.reports.gradescope import gradescope_results
    from grader.submission.staging import submission_sha256
    from grader.worker.sandbox import SandboxConfig

    started = time.monotonic()
    metadata = _read_metadata(root)
    student = student_id(metadata, config.student_id_field) or "submission"
    assignment = get_assignment(config.assignment)
    options = GradingOptions(seed=config.seed, timeout=config.timeout, hidden=True, assignment=assignment,
                             sandbox=SandboxConfig(memory_mb=config.memory_mb, use_bwrap="auto"))
    seeds: list[SubmissionSeed] = []

    def seed_for(submission) -> int:
        seeds.append(submission_seed(config.seed, metadata, submission_sha256(submission, assignment.layout)))
        return seeds[-1].seed

    try:
        result = grade_path(root / "submission", options=options, student_id=student, seed_for=seed_for)
    except NotOneSubmission as exc:
        names = ", ".join(s.path.name for s in exc.found)
        return failure_results(f"Upload one set of exercise files (or one zip of them), not {len(exc.found)} "
                               f"separate submissions ({names}).", started)
    except BadSubmissionError as exc:
        return failure_results(str(exc), started)
    data = gradescope_results(result, show_hidden=config.show_hidden)
    data["output"] = f"Graded as student id `{student}`.\n\n" + data["output"]
    data["extra_data"]["seed_from"] = seeds[-1].source
    return data


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help=f"default: ${ROOT_VARIABLE} or {DEFAULT_ROOT}")
    parser.add_argument("--config", type=Path, default=None, help="bundle.json (default: ROOT/source/bundle.json)")
    args = parser.parse_args(argv)
    root = args.root or autograder_root()
    started = time.monotonic()
    try:
        config = BundleConfig.from_dict(json.loads((args.config or root / "source" / "bundle.json").read_text("utf-8")))
        data = grade_gradescope_submission(root, config)
    except Exception:  # the student must still see a result; the trace goes to the hidden stdout
        traceback.print_exc()
        data = failure_results("The grader itself failed; your instructor has been given the details.", started)
    from grader.reports.files import write_text_atomic

    write_text_atomic(root / "results" / "results.json", json.dumps(data, indent=2, allow_nan=False) + "\n")
    print(f"score {data['score']} written to {root / 'results' / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
