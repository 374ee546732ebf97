"""Grade a `da6401-a1` repository in this process, the way the worker would see it staged.

`stage(variant, dest)` writes the staged folder: `dest/tree` the repository (the solution with a
catalogue variant's patches), `dest/tree/standins` the grader's stand-ins, and the probe as
`dest/<stem>.py` for every part. `grade(folder)` loads each part through the worker's own
importer and handler (statement by statement, cell errors recorded, replies through the real
wire format), runs every check of the part's rubric, visible and hidden, with the runner, and
applies the rubrics' `requires`. Everything the run imported or put on sys.path is forgotten
afterwards, so the next variant's `ann` is its own.
"""
from __future__ import annotations

import contextlib
import importlib
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

from grader.assignments.da6401_a1.checks.lib.parts import STEMS
from grader.assignments.da6401_a1.inside import PROBE
from grader.checks.base import REGISTRY
from grader.checks.requirements import apply_requirements
from grader.checks.runner import run_exercise
from grader.results import ExerciseResult, GradingError, SubmissionResult, TestResult
from grader.rubric import Rubric, parse_rubric
from grader.worker.in_process import UNEXPLAINED_FAILURE
from grader.worker.inside import protocol
from grader.worker.inside.handler import Handler
from grader.worker.inside.importer import ImportedModules, install
from grader.worker.replies import reply_value
from tests.assignments.da6401_a1.catalogue import Variant, materialise

ASSIGNMENT = Path(PROBE).resolve().parents[1]
STANDINS = ASSIGNMENT / "standins"
RUBRICS = ASSIGNMENT / "rubric"
CHECKS = "grader.assignments.da6401_a1.checks"


def stage(variant: Variant, dest: Path, stems: tuple[str, ...] = STEMS) -> Path:
    """The staged folder of `variant`: its repository under tree/, stand-ins, and the probe per part."""
    dest.mkdir(parents=True)
    materialise(variant, dest / "tree")
    shutil.copytree(STANDINS, dest / "tree" / "standins", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for stem in stems:
        shutil.copyfile(PROBE, dest / f"{stem}.py")
    return dest


def rubric(stem: str) -> Rubric:
    path = RUBRICS / f"{stem}.toml"
    return parse_rubric(path.read_text("utf-8"), source=str(path))


def checks(stem: str, hidden: bool = True) -> tuple[Rubric, list]:
    """The part's rubric and its checks in the rubric's order (hidden ones too, unless told)."""
    importlib.import_module(f"{CHECKS}.{stem}")
    importlib.import_module(f"{CHECKS}.hidden.{stem}")
    parsed = rubric(stem)
    return parsed, [REGISTRY[stem][name] for name, item in parsed.tests.items()
                    if hidden or item.visibility != "hidden"]


class StagedTransport:
    """The worker's handler over the staged folder, in this process, through the wire format."""

    def __init__(self, folder: Path):
        self.finder = install(str(folder))
        self.handler = Handler(ImportedModules(self.finder), sandboxed=False)
        self.next_id = 1

    def request(self, header: dict, timeout: Optional[float] = None) -> Any:
        header = dict(header, id=self.next_id)
        self.next_id += 1
        frame = protocol.read_frame(protocol.BytesReader(protocol.pack(header)))
        reply = protocol.unpack(self.handler.respond(frame).to_bytes())
        return reply_value(header, reply, programs=False, unexplained=UNEXPLAINED_FAILURE)

    def close(self) -> None:
        sys.meta_path.remove(self.finder)


def forget(folder: Path) -> None:
    """Drop `ann`, the parts and every module loaded from `folder`, and `folder`'s sys.path entries."""
    folder = folder.resolve()
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        inside = origin is not None and Path(origin).resolve().is_relative_to(folder)
        if inside or name in STEMS or name == "ann" or name.startswith("ann."):
            del sys.modules[name]
    sys.path[:] = [p for p in sys.path if not Path(p).resolve().is_relative_to(folder)]
    importlib.invalidate_caches()


@contextlib.contextmanager
def transport_for(folder: Path) -> Iterator[StagedTransport]:
    forget(folder)
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    transport = StagedTransport(folder)
    try:
        yield transport
    finally:
        transport.close()
        sys.dont_write_bytecode = writes_bytecode
        forget(folder)


@dataclass(frozen=True)
class Graded:
    """Every part's result, `requires` applied, and the report-level events met on the way."""

    parts: dict[str, ExerciseResult]
    events: list[GradingError]

    def tests(self) -> dict[str, TestResult]:
        """'<stem>:<test>' -> its result."""
        return {f"{stem}:{test.name}": test for stem, part in self.parts.items() for test in part.tests}

    @property
    def score(self) -> float:
        return sum(part.score for part in self.parts.values())


def grade(folder: Path, stems: tuple[str, ...] = STEMS, *, seed: int = 1234, hidden: bool = True,
          grading: bool = True) -> Graded:
    """Every part graded as the pipeline would score it (`grading`: checks draw from `seed`)."""
    rubrics, runs = {}, []
    with transport_for(folder) as transport:
        for stem in stems:
            rubrics[stem], chosen = checks(stem, hidden)
            runs.append(run_exercise(stem, transport, rubric=rubrics[stem], checks=chosen, source=f"{stem}.py",
                                     seed=seed, student_id="s001", folder=folder, grading=grading, forbidden=()))
    result = SubmissionResult("s001", str(folder), "", exercises=[run.result for run in runs],
                              errors=[e for run in runs for e in run.events], assignment="da6401-a1")
    scored = apply_requirements(result, rubrics)
    return Graded({part.name: part for part in scored.exercises}, list(scored.errors))
