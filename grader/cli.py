"""`grade`: the command line, a thin layer over grader's library functions.

    grade PATH... [--out DIR] [--jobs N] [--format F]... [--seed N] [--timeout S] [--shard K/N]
    grade report DIR... [--out DIR] [--format F]...   reports from JSON reports, shards merged
    grade gradescope-bundle [--out autograder.zip]    Gradescope's autograder zip
    grade check [PATH]        a student's self-check on the public checks
                              (--format junit --out DIR --fail-under N in a student's CI)
    grade case STUDENT_ID     the personal case for exercise 2
    grade release --out DIR   the student release
"""
from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Optional

import click

import grader
from grader.personal_case import format_case


class DefaultGroup(click.Group):
    """A group whose first argument may be a path: `grade subs/` means `grade grade subs/`."""

    default_command = "grade"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


def _sandbox_note(name: str) -> None:
    if name != "bwrap":
        click.secho("Note: bubblewrap is not available, so student code runs with resource limits only "
                    "(no file-system or network isolation). Install the Debian/Ubuntu package "
                    "`bubblewrap` for the full sandbox.", fg="yellow", err=True)


def _sandbox_config(memory_mb: int, sandbox: str):
    from grader.worker.sandbox import SandboxConfig

    return SandboxConfig(memory_mb=memory_mb, use_bwrap=sandbox)


class ShardType(click.ParamType):
    """`K/N`: the K-th of N shards of a class, K counting from 1."""

    name = "K/N"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            k, n = (int(part) for part in str(value).split("/"))
        except ValueError:
            self.fail(f"{value!r} is not K/N: write e.g. 2/4 for the second of four shards", param, ctx)
        if not 1 <= k <= n:
            self.fail(f"shard {k}/{n} does not exist: K must be between 1 and N", param, ctx)
        return (k, n)


def _report_options(command):
    """--format, --instructor, --gradebook and --assignment: the options of commands that write reports."""
    from grader.reports.formats import FORMAT_NAMES
    from grader.reports.options import DEFAULT_ASSIGNMENT

    options = [
        click.option("--format", "formats", multiple=True, type=click.Choice(FORMAT_NAMES),
                     help="A report format to write besides json (always written); repeat for several."),
        click.option("--instructor", "show_hidden", is_flag=True,
                     help="Put hidden tests' feedback in md, html, junit and gradescope files. Default: the "
                          "students' view, hidden tests by name and points only."),
        click.option("--gradebook", default=None, metavar="PATH",
                     help="nbgrader's gradebook.db (or a database URL), for --format gradebook."),
        click.option("--assignment", default=DEFAULT_ASSIGNMENT, show_default=True,
                     help="The assignment's name in nbgrader's gradebook and CSV export."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _report_settings(show_hidden: bool, assignment: str, gradebook: Optional[str]):
    from grader.reports.options import ReportOptions

    return ReportOptions(show_hidden=show_hidden, assignment=assignment, gradebook=gradebook)


def _echo_written(written: dict, out_dir: Path) -> None:
    for name, paths in written.items():
        if name != "json" and paths:
            shown = ", ".join(str(p) for p in paths[-2:])
            click.echo(f"{name}: {len(paths)} file(s), e.g. {shown}")


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(grader.__version__, prog_name="backprop-grader")
def main() -> None:
    """Grade Module 2A submissions: losses, activations, backpropagation and autograd.

    `grade PATH...` grades submissions (a folder, a zip, a notebook or module, or a folder of
    submissions, one per student) and writes a JSON report per student.
    """
    grader.skip_unused_imports()  # before any command imports nbformat (and jsonschema under it)


@main.command("grade", hidden=True)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", default="grades", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the reports.")
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Submissions graded at once (one process each).")
@_report_options
@click.option("--shard", type=ShardType(), default=None,
              help="Grade only shard K of N of the class (K from 1), chosen by a hash of the student id, "
                   "to split a class across CI jobs; merge with `grade report DIR... --out DIR`.")
@click.option("--seed", type=int, default=None,
              help="Seed for the hidden checks' random inputs (default: a fresh one, or the one of the reports already in --out).")
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds allowed for each call into student code.")
@click.option("--memory-mb", default=2048, show_default=True, type=click.IntRange(64, 1 << 20),
              help="Address-space limit of the student's process.")
@click.option("--sandbox", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True,
              help="Use bubblewrap: when available (auto), always (on: fail without it), never (off).")
@click.option("--force", is_flag=True, help="Regrade students whose report is already up to date.")
@click.option("--public-only", is_flag=True, help="Run only the public checks.")
def grade_command(paths: tuple[Path, ...], out_dir: Path, jobs: int, formats: tuple[str, ...],
                  show_hidden: bool, gradebook: Optional[str], assignment: str, shard: Optional[tuple[int, int]],
                  seed: Optional[int], timeout: float, memory_mb: int, sandbox: str, force: bool,
                  public_only: bool) -> None:
    """Grade submissions and write DIR/<student>.json and DIR/summary.json."""
    from grader.batch import grade_batch
    from grader.errors import BadSubmissionError
    from grader.pipeline import GradingOptions
    from grader.reports.formats import ReportError
    from grader.reports.summary import summary_table

    if seed is None:
        seed = _existing_seed(out_dir) if not force else None
        seed = seed if seed is not None else secrets.randbelow(2**31)
    options = GradingOptions(seed=seed, timeout=timeout, hidden=not public_only,
                             sandbox=_sandbox_config(memory_mb, sandbox))
    try:
        batch = grade_batch(paths, out_dir=out_dir, options=options, jobs=jobs, force=force,
                            progress=_progress_printer(), shard=shard, formats=formats,
                            report_options=_report_settings(show_hidden, assignment, gradebook))
    except (BadSubmissionError, ReportError) as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(summary_table(batch.results))
    _echo_written(batch.written, out_dir)
    if batch.skipped:
        click.echo(f"{len(batch.skipped)} report(s) were already up to date and kept (use --force to regrade).")
    click.echo(f"Seed {seed}. Reports in {out_dir}/ (summary.json and one <student>.json each).")
    _sandbox_note(next((r.sandbox for r in batch.results if r.sandbox != "none"), "none"))


def _existing_seed(out_dir: Path) -> Optional[int]:
    """The seed of reports already in `out_dir`, so an interrupted batch resumes with the same inputs."""
    from grader.reports.json_report import read_report

    if not out_dir.is_dir():
        return None
    for path in sorted(out_dir.glob("*.json")):
        if path.name == "summary.json":
            continue
        try:
            return read_report(path).seed
        except Exception:  # not a report: ignore it
            continue
    return None


def _progress_printer():
    interactive = sys.stderr.isatty()

    def show(done: int, total: int, result, skipped: bool) -> None:
        status = "kept" if skipped else f"{result.duration_s:.1f} s"
        line = f"[{done}/{total}] {result.student}: {result.score:g}/{result.max_score:g} ({status})"
        if interactive:
            width = 24
            filled = int(width * done / max(total, 1))
            click.echo(f"\r[{'#' * filled}{'.' * (width - filled)}] {line[:60]:<60}", err=True, nl=done == total)
        else:
            click.echo(line, err=True)

    return show


def _format_names() -> tuple[str, ...]:
    from grader.reports.formats import FORMAT_NAMES

    return FORMAT_NAMES


@main.command("check")
@click.argument("path", required=False, default=".", type=click.Path(exists=True, path_type=Path))
@click.option("--student", "student_id", default=None, envvar="BPG_STUDENT_ID",
              help="Your student id, for the personal case of exercise 2 (or set BPG_STUDENT_ID).")
@click.option("--exercise", "exercises", multiple=True, help="Only these exercises (file stems); repeat for several.")
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(0.1, 3600))
@click.option("--format", "formats", multiple=True, type=click.Choice(_format_names()),
              help="For CI: also write this report format into --out (json always); repeat for several.")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="For CI: folder for the report files (default: reports).")
@click.option("--fail-under", type=click.FloatRange(0, 100), default=None,
              help="For CI: exit 1 when the score is below this percentage of the public checks' points.")
def check_command(path: Path, student_id: Optional[str], exercises: tuple[str, ...], timeout: float,
                  formats: tuple[str, ...], out_dir: Optional[Path], fail_under: Optional[float]) -> None:
    """Run the public checks on your work (default: the current folder) and explain what failed."""
    if formats or out_dir is not None or fail_under is not None:
        from grader.errors import BadSubmissionError
        from grader.reports.ci import run_ci_check
        from grader.reports.formats import ReportError

        try:
            outcome = run_ci_check(path, out_dir=out_dir or Path("reports"), formats=formats,
                                   fail_under=100.0 if fail_under is None else fail_under, student_id=student_id,
                                   exercises=exercises, timeout=timeout, echo=click.echo)
        except (BadSubmissionError, ReportError) as exc:
            raise click.UsageError(str(exc)) from None
        sys.exit(0 if outcome.passed else 1)
    from grader.selfcheck import run_self_check

    ok = run_self_check(path, student_id=student_id, exercises=exercises, timeout=timeout, echo=click.echo)
    sys.exit(0 if ok else 1)


@main.command("report")
@click.argument("dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the reports (default: DIR itself, when there is one DIR).")
@_report_options
def report_command(dirs: tuple[Path, ...], out_dir: Optional[Path], formats: tuple[str, ...], show_hidden: bool,
                   gradebook: Optional[str], assignment: str) -> None:
    """Write report formats from folders of JSON reports, without grading again.

    Several folders (shards graded apart) are merged into --out; a student in two folders is an
    error unless both reports graded the same submission.
    """
    from grader.reports.formats import ReportError, check_formats, write_formats
    from grader.reports.merge import merge_report_folders

    if out_dir is None and len(dirs) > 1:
        raise click.UsageError("merging several folders needs --out DIR for the merged reports")
    out_dir = out_dir or dirs[0]
    options = _report_settings(show_hidden, assignment, gradebook)
    # Converting one folder in place leaves its JSON reports as they are; a merge writes them all.
    in_place = len(dirs) == 1 and out_dir.resolve() == dirs[0].resolve()
    try:
        check_formats(formats, options)
        merged = merge_report_folders(dirs)
        written = write_formats(formats, merged.results, out_dir, options, with_json=not in_place)
    except ReportError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"{len(merged.results)} student report(s) from {len(dirs)} folder(s) into {out_dir}/.")
    if merged.duplicates:
        click.echo(f"Graded twice with the same submission, kept once: {', '.join(merged.duplicates)}.")
    _echo_written(written, out_dir)


@main.command("gradescope-bundle")
@click.option("--out", "out_path", default="autograder.zip", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The zip to upload to Gradescope.")
@click.option("--package", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A wheel or sdist of backprop-grader to install there (default: this source tree).")
@click.option("--seed", type=int, default=None,
              help="Seed for the hidden checks (default: a fresh one, fixed in the bundle so regrades agree).")
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds allowed for each call into student code.")
@click.option("--memory-mb", default=2048, show_default=True, type=click.IntRange(64, 1 << 20),
              help="Address-space limit of the student's process.")
@click.option("--student-id-field", default="sid", show_default=True,
              help="The field of Gradescope's submission metadata (users[0]) holding the id that exercise 2's "
                   "personal case is made from: sid, email or id.")
@click.option("--instructor", "show_hidden", is_flag=True,
              help="Show hidden tests' feedback to students once grades are published (default: names and points).")
def gradescope_bundle_command(out_path: Path, package: Optional[Path], seed: Optional[int], timeout: float,
                              memory_mb: int, student_id_field: str, show_hidden: bool) -> None:
    """Build Gradescope's autograder zip (setup.sh, run_autograder and this grader)."""
    from grader.reports.formats import ReportError
    from grader.reports.gradescope_autograder import BundleConfig
    from grader.reports.gradescope_bundle import build_bundle

    config = BundleConfig(seed=seed if seed is not None else secrets.randbelow(2**31), timeout=timeout,
                          memory_mb=memory_mb, student_id_field=student_id_field, show_hidden=show_hidden)
    try:
        path = build_bundle(out_path, config=config, package=package)
    except ReportError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"Wrote {path} (seed {config.seed}). Upload it as the assignment's autograder on Gradescope.")


@main.command("case")
@click.argument("student_id")
def case_command(student_id: str) -> None:
    """Print STUDENT_ID's personal case for exercise 2."""
    try:
        click.echo(format_case(student_id))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@main.command("release")
@click.option("--out", "out_dir", default="release", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="A new or empty folder to write it to.")
def release_command(out_dir: Path) -> None:
    """Build the student release: notebooks and stubs, public checks and their data, no solutions."""
    try:
        from grader.release import build_release
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("grader"):  # the release itself ships without the builder
            raise click.UsageError("this is a student copy of the grader; build the release from the "
                                   "instructor's repository") from None
        raise click.UsageError(f"building the release needs {exc.name}: "
                               "pip install 'backprop-grader[instructor]'") from None
    try:
        path = build_release(out_dir)
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"Student release written to {path}/. Students install it with `pip install {path}`.")


if __name__ == "__main__":  # pragma: no cover
    main()
