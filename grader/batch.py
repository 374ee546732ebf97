"""Grade a class: discover submissions, grade them (in parallel), write each report as it lands.

One bad submission never stops the batch: each is graded on its own and any failure becomes that
student's report. Reports already on disk for the same submission hash, grader version, seed and
visibility are kept (a re-run after an interruption only grades what is left); `force` regrades.
"""
from __future__ import annotations

import gc
import hashlib
import importlib
import json
import multiprocessing
import traceback
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

import grader
from grader.pipeline import GradingOptions, WorkerSupply, grade_submission, workers_started_ahead
from grader.reports.formats import check_formats, writable_results, write_formats
from grader.reports.json_report import read_report, report_path, write_json_atomic, write_report
from grader.reports.options import ReportOptions
from grader.reports.redaction import without_host_paths
from grader.reports.summary import summarize
from grader.results import ExerciseResult, GradingError, SubmissionResult, TestResult, capped_result
from grader.submission.discover import Submission, discover
from grader.submission.staging import submission_sha256

YOUNG_COLLECTION = (20_000, 10, 10)  # gc thresholds while grading: fewer, larger young collections

Progress = Callable[[int, int, SubmissionResult, bool], None]  # done, total, result, skipped


@dataclass
class BatchResult:
    results: list[SubmissionResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # students whose existing report was kept
    out_dir: Optional[Path] = None
    written: dict[str, list[Path]] = field(default_factory=dict)  # report format -> files written
    unwritten: list[str] = field(default_factory=list)  # students whose report could not be written


def in_shard(student: str, shard: tuple[int, int]) -> bool:
    """Whether `student` is graded by shard K of N (K counts from 1).

    The shard comes from a hash of the student id alone, so each student has the same shard in
    every job, whoever else the job's copy of the class folder holds: N jobs never grade a
    student twice or miss one, even when a late submission lands between their starts.
    """
    k, n = shard
    if not 1 <= k <= n:
        raise ValueError(f"shard {k}/{n} does not exist: K must be between 1 and N")
    return int.from_bytes(hashlib.sha256(student.encode("utf-8")).digest()[:8], "big") % n == k - 1


def _safe_grade(submission: Submission, options: GradingOptions,
                supply: Optional[WorkerSupply] = None) -> SubmissionResult:
    """grade_submission, with any failure of the grader itself turned into this student's report."""
    try:
        return grade_submission(submission, options, supply=supply)
    except Exception as exc:  # the batch goes on; the instructor sees why in this report
        result = SubmissionResult(student=submission.student, path=str(submission.path), sha256="",
                                  seed=options.seed, grader_version=grader.__version__,
                                  assignment=options.assignment.name)
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        result.errors.append(GradingError("crash", "grading stopped for this submission: "
                                          + without_host_paths(detail, submission.path)))
        return result


def report_failed(result: SubmissionResult, exc: Exception, options: GradingOptions) -> SubmissionResult:
    """What stands for `result` when its report could not be written: every test of the rubric
    at zero, so max_score is still everyone's, and a `crash` error saying why (no host path)."""
    from grader.checks.registry import checks_for

    failed = SubmissionResult(student=result.student, path=result.path, sha256="", seed=result.seed,
                              sandbox=result.sandbox, duration_s=result.duration_s,
                              grader_version=result.grader_version, student_name=result.student_name,
                              assignment=options.assignment.name)
    reason = "This report could not be written, so nothing of this grading was kept; grade again."
    for exercise in options.exercises:
        rubric, checks = checks_for(exercise, hidden=options.hidden, rubric_dir=options.rubric_dir,
                                    assignment=options.assignment)
        failed.exercises.append(ExerciseResult(name=exercise, source=None, tests=[
            TestResult(c.name, 0.0, rubric.tests[c.name].points, "error", rubric.tests[c.name].visibility, reason)
            for c in checks]))
    detail = without_host_paths(f"{type(exc).__name__}: {exc}", Path(result.path))
    failed.errors.append(GradingError("crash", f"the report could not be written ({detail})"))
    return failed


def _start_pool_process() -> None:
    """Set up one pool process before its first submission, as `grade` sets up its own process."""
    grader.skip_unused_imports()
    importlib.import_module("grader.pipeline")  # its imports paid now, not in the first grade
    gc.collect()
    gc.freeze()  # as in `collections_spare_what_exists`, for the process's life
    gc.set_threshold(*YOUNG_COLLECTION)


@contextmanager
def collections_spare_what_exists() -> Iterator[None]:
    """Within the block, garbage collections leave alone every object that exists when it starts.

    Grading makes many short-lived containers, and each full collection used to walk every
    object of numpy, nbformat and the checks as well: about 0.1 s per submission. Those live
    for the whole batch, so they are frozen (`gc.freeze`) and given back to the collector after.
    """
    gc.collect()
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(*YOUNG_COLLECTION)  # decoding replies makes many small containers at once
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def share_tests(result: SubmissionResult, shared: dict[TestResult, TestResult]) -> SubmissionResult:
    """`result` with each test result replaced by an equal one already held, if any.

    Test results are immutable, and across a class most are equal (a passed test has the same
    name, points and empty feedback for everyone), so a batch holds each distinct one once: its
    memory grows by a few kilobytes per student, not by every student's full set of tests.
    """
    for exercise in result.exercises:
        exercise.tests = [shared.setdefault(test, test) for test in exercise.tests]
    return result


def _reusable(path: Path, sha256: str, options: GradingOptions) -> Optional[SubmissionResult]:
    """The existing report at `path` if it graded the same bytes the same way."""
    try:
        old = read_report(path)
    except (OSError, ValueError, KeyError, json.JSONDecodeError):
        return None
    if old.sha256 == sha256 and old.grader_version == grader.__version__ and old.seed == options.seed \
            and old.assignment == options.assignment.name and sha256 and not any(e.kind == "crash" for e in old.errors) and _same_tests(old, options):
        return old
    return None


def _same_tests(old: SubmissionResult, options: GradingOptions) -> bool:
    """Whether `old` ran the tests `options` asks for: a --public-only report (or one from an
    older rubric, or for other exercises) is not a full one."""
    from grader.checks.registry import checks_for

    ran = {ex.name: [t.name for t in ex.tests] for ex in old.exercises}
    if list(ran) != list(options.exercises):
        return False
    return all(ran[exercise] == [c.name for c in checks_for(exercise, hidden=options.hidden,
                                                             rubric_dir=options.rubric_dir,
                                                             assignment=options.assignment)[1]]
               for exercise in options.exercises)


def grade_batch(paths: Iterable[Path], *, out_dir: Path, options: GradingOptions = GradingOptions(),
                jobs: int = 1, force: bool = False, progress: Optional[Progress] = None,
                shard: Optional[tuple[int, int]] = None, formats: Iterable[str] = (),
                report_options: ReportOptions = ReportOptions()) -> BatchResult:
    """Grade every submission found under `paths`, writing `out_dir/<student>.json` and `summary.json`.

    `shard=(K, N)` grades only the students of shard K of N (see `in_shard`); `formats` names
    further report formats (`grader.reports.formats`) written over the results at the end.
    """
    formats = check_formats(formats, report_options)  # a wrong option fails now, not after the class
    submissions = discover([Path(p) for p in paths], layout=options.assignment.layout)
    if shard is not None:
        submissions = [s for s in submissions if in_shard(s.student, shard)]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    batch = BatchResult(out_dir=out_dir)
    todo: list[Submission] = []
    for sub in submissions:
        old = None if force else _reusable(report_path(out_dir, sub.student),
                                           submission_sha256(sub, options.assignment.layout), options)
        if old is not None:
            batch.results.append(old)
            batch.skipped.append(sub.student)
        else:
            todo.append(sub)
    total = len(submissions)
    if progress:
        for done, old in enumerate(batch.results, start=1):
            progress(done, total, old, True)

    shared: dict[TestResult, TestResult] = {}

    def finish(result: SubmissionResult, sub: Submission) -> None:
        # Nothing about one student's report may stop the batch or cost another student theirs.
        result = capped_result(result)
        result.student_name = result.student_name or sub.name
        try:
            write_report(result, out_dir)
        except Exception as exc:  # noqa: BLE001 - whatever it is, it is this student's alone
            result = report_failed(result, exc, options)
            try:
                write_report(result, out_dir)
            except Exception:  # noqa: BLE001 - even the stand-in cannot be written there
                batch.unwritten.append(result.student)
        batch.results.append(share_tests(result, shared))
        if progress:
            progress(len(batch.results), total, result, False)

    if jobs <= 1 or len(todo) <= 1:
        with workers_started_ahead(options, count=len(todo)) as supply, collections_spare_what_exists():
            for sub in todo:
                finish(_safe_grade(sub, options, supply), sub)
    else:
        # Processes, not threads: checks do numpy work in the grader too. forkserver keeps the
        # pool's processes free of this process's threads and open files.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["grader"])  # numpy, imported once for every pool process
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start_pool_process) as pool:
            futures: dict[Future, Submission] = {pool.submit(_safe_grade, sub, options): sub for sub in todo}
            for future in as_completed(futures):
                sub = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # the pool process itself died
                    result = SubmissionResult(student=sub.student, path=str(sub.path), sha256="",
                                              seed=options.seed, grader_version=grader.__version__,
                                              assignment=options.assignment.name)
                    result.errors.append(GradingError("crash", "grading process failed: "
                                                      + without_host_paths(repr(exc), sub.path)))
                finish(result, sub)
    # a student whose submission could not be read ran no worker: their "none" says nothing
    sandbox = next((r.sandbox for r in batch.results if r.sandbox != "none"), "none")
    write_json_atomic(out_dir / "summary.json",
                      summarize(batch.results, grader_version=grader.__version__, seed=options.seed,
                                sandbox=sandbox))
    batch.results.sort(key=lambda r: r.student)
    batch.unwritten += [s for s in writable_results(batch.results)[1] if s not in batch.unwritten]
    batch.written = write_formats(formats, batch.results, out_dir, report_options, with_json=False)
    return batch
