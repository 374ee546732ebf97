"""`grade`: the command line, a thin layer over grader's library functions.

    grade PATH... [--out DIR] [--jobs N] [--format F]... [--seed N] [--timeout S] [--shard K/N]
    grade report DIR... [--out DIR] [--format F]...   reports from JSON reports, shards merged
    grade gradescope-bundle [--out autograder.zip]    Gradescope's autograder zip
    grade check [PATH]        a student's self-check on the public checks
                              (--student ID: also exercise 2's personal case)
                              (--format junit --out DIR --fail-under N in a student's CI)
    grade case STUDENT_ID     the personal case for exercise 2
    grade release --out DIR   the student release
    grade assignments         the assignments installed (--assignment NAME on grade, check,
                              release and gradescope-bundle; module-2a by default)
"""
from __future__ import annotations

import secrets
import sys
from collections import Counter
from pathlib import Path
from typing import Optional

import click

import grader
from grader.personal_case import format_case


class GradeContext(click.Context):
    """The default command's context: its usage and error hints read `grade [OPTIONS] PATH...`,
    the way it is typed, not `grade grade ...`."""

    @property
    def command_path(self) -> str:
        return self.parent.command_path if self.parent is not None else super().command_path


class GradeCommand(click.Command):
    context_class = GradeContext


class DefaultGroup(click.Group):
    """A group whose first argument may be a path: `grade subs/` means `grade grade subs/`."""

    default_command = "grade"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "PATH... [OPTIONS]")
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]...", prefix="   or: ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The grading options first (grading is what `grade PATH...` does), then the commands."""
        grading = self.commands[self.default_command]
        rows = [row for row in (param.get_help_record(ctx) for param in grading.params
                                if isinstance(param, click.Option)) if row]
        with formatter.section("Options for grading (grade PATH... [OPTIONS])"):
            formatter.write_dl(rows)
        super().format_options(ctx, formatter)


def sandbox_note(ran: list[str], machine: str, use_bwrap: str) -> Optional[str]:
    """What the terminal says about isolation, or None when every worker ran under bubblewrap.

    `ran`: each result's sandbox ("none" also when no worker ran, e.g. an unreadable zip);
    `machine`: what this machine gives the configuration ("bwrap" or "none"), so a batch in
    which no worker started is not blamed on a missing bubblewrap.
    """
    if "bwrap" in ran or machine == "bwrap":
        return None
    if use_bwrap == "off":
        return ("Note: --sandbox off, so student code ran with resource limits only "
                "(no file-system or network isolation).")
    return ("Note: bubblewrap is not available, so student code runs with resource limits only "
            "(no file-system or network isolation). Install the Debian/Ubuntu package "
            "`bubblewrap` for the full sandbox.")


def limits_note(scopes: list[str]) -> Optional[str]:
    """What the terminal says when some workers' limits held per process only (no usable cgroups)."""
    if "process" not in scopes:
        return None
    from grader.worker.cgroup import detect_support

    why = detect_support().reason
    return ("Note: memory, process and CPU limits held per process only, not for each sandbox as a whole"
            + (f" ({why})" if why else "") + ", so code that forks could use more than its share. "
            "Run the grader as root, or where a cgroup subtree is delegated to it, for per-sandbox limits.")


def machine_sandbox(config) -> str:
    """"bwrap" or "none": the sandbox a worker with `config` gets on this machine."""
    from grader.worker.sandbox import SandboxUnavailableError, choose_sandbox

    try:
        return choose_sandbox(config)
    except SandboxUnavailableError:
        return "none"


class SandboxMemory(click.ParamType):
    """The worker's address-space limit in MB, within the limits `SandboxConfig` accepts (it says why)."""

    name = "MB"

    def convert(self, value, param, ctx):
        from grader.worker.sandbox import SandboxConfig

        try:
            number = value if isinstance(value, int) else int(str(value), 10)
        except ValueError:
            self.fail(f"{value!r} is not a whole number of MB", param, ctx)
        try:
            SandboxConfig(memory_mb=number)
        except ValueError as exc:  # the sandbox's own rule and reason, e.g. at least 256
            self.fail(f"{number}: {exc}", param, ctx)
        return number


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


class AssignmentName(click.ParamType):
    """An installed assignment's name (`grade assignments` lists them) or an assignment folder."""

    name = "NAME"

    def convert(self, value, param, ctx):
        from grader.assignments import Assignment, UnknownAssignment, get_assignment

        if isinstance(value, Assignment):
            return value
        try:
            return get_assignment(value)
        except UnknownAssignment as exc:
            self.fail(str(exc), param, ctx)


def _assignment_option(command):
    from grader.assignments import DEFAULT_ASSIGNMENT

    return click.option("--assignment", "assignment", type=AssignmentName(), default=DEFAULT_ASSIGNMENT,
                        show_default=True,
                        help="The assignment (course profile) to grade as; `grade assignments` lists them.")(command)


def _report_options(command):
    """--format, --instructor, --gradebook and --gradebook-assignment: the options of commands that write reports."""
    from grader.reports.formats import FORMAT_NAMES

    options = [
        click.option("--format", "formats", multiple=True, type=click.Choice(FORMAT_NAMES),
                     help="A report format to write besides json (always written); repeat for several."),
        click.option("--instructor", "show_hidden", is_flag=True,
                     help="Put hidden tests' feedback in md, html, junit and gradescope files. Default: the "
                          "students' view, hidden tests by name and points only."),
        click.option("--gradebook", default=None, metavar="PATH",
                     help="nbgrader's gradebook.db (or a database URL), for --format gradebook."),
        click.option("--gradebook-assignment", "gradebook_assignment", default=None, metavar="NAME",
                     help="The assignment's name in nbgrader's gradebook and CSV export "
                          "(default: the assignment's own, module2a_backprop for module-2a)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _report_settings(show_hidden: bool, gradebook_assignment: str, gradebook: Optional[str]):
    from grader.reports.options import ReportOptions

    return ReportOptions(show_hidden=show_hidden, assignment=gradebook_assignment, gradebook=gradebook)


def gradebook_name(results) -> str:
    """nbgrader's name for the assignment `results` were graded as (the first one's)."""
    from grader.assignments import UnknownAssignment, get_assignment

    name = results[0].assignment if results else ""
    try:
        return get_assignment(name or None).nbgrader_name
    except UnknownAssignment:
        return name.replace("-", "_")


def _echo_written(written: dict, out_dir: Path) -> None:
    for name, paths in written.items():
        if name != "json" and paths:
            shown = ", ".join(str(p) for p in paths[-2:])
            click.echo(f"{name}: {len(paths)} file(s), e.g. {shown}")


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(grader.__version__, prog_name="backprop-grader")
def main() -> None:
    """Grade course assignments in a sandbox: by default Module 2A (losses, activations,
    backpropagation and autograd); `grade assignments` lists the others.

    `grade PATH...` grades submissions (a folder, a zip, a notebook or module, or a folder of
    submissions, one per student) and writes a JSON report per student.

    \b
    Examples:
      grade submitted/ --out grades --jobs 2 --format html --format summary-html
      grade check                   # a student: the public checks on the current folder
      grade check --student s001    # ... and the personal case of exercise 2
      grade assignments             # the assignments this grader knows
    """
    grader.skip_unused_imports()  # before any command imports nbformat (and jsonschema under it)


@main.command("grade", cls=GradeCommand, hidden=True)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", default="grades", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the reports.")
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Submissions graded at once (one process each).")
@_assignment_option
@_report_options
@click.option("--shard", type=ShardType(), default=None,
              help="Grade only shard K of N of the class (K from 1), chosen by a hash of the student id, "
                   "to split a class across CI jobs; merge with `grade report DIR... --out DIR`.")
@click.option("--seed", type=int, default=None,
              help="Seed for the hidden checks' random inputs (default: the one of the reports already in --out, "
                   "also with --force; a fresh one for an empty --out).")
@click.option("--timeout", default=None, type=click.FloatRange(0.1, 3600),
              help="Seconds allowed for each call into student code (default: the assignment's, 10 for module-2a).")
@click.option("--memory-mb", default=None, type=SandboxMemory(),
              help="Address-space limit of the student's process (default: the assignment's, 2048 for module-2a).")
@click.option("--sandbox", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True,
              help="Use bubblewrap: when available (auto), always (on: fail without it), never (off).")
@click.option("--force", is_flag=True,
              help="Regrade students whose report is already up to date (with the same seed unless --seed).")
@click.option("--public-only", is_flag=True, help="Run only the public checks.")
@click.option("--exercise", "exercises", multiple=True, metavar="STEM",
              help="Grade only this exercise (part) of the assignment; repeat for several. Default: all.")
def grade_command(paths: tuple[Path, ...], out_dir: Path, jobs: int, formats: tuple[str, ...],
                  show_hidden: bool, gradebook: Optional[str], gradebook_assignment: Optional[str], assignment,
                  shard: Optional[tuple[int, int]], seed: Optional[int], timeout: Optional[float],
                  memory_mb: Optional[int], sandbox: str, force: bool,
                  public_only: bool, exercises: tuple[str, ...]) -> None:
    """Grade submissions and write DIR/<student>.json and DIR/summary.json."""
    from grader.batch import grade_batch
    from grader.errors import BadSubmissionError
    from grader.pipeline import GradingOptions
    from grader.reports.formats import ReportError
    from grader.reports.summary import summary_table, unreadable_lines

    existing = _existing_reports(out_dir)
    seed, seed_origin = choose_seed(seed, [r.seed for r in existing.values()], out_dir)
    unknown = [e for e in exercises if e not in assignment.stems]
    if unknown:
        raise click.BadParameter(f"{', '.join(unknown)}: {assignment.name}'s exercises are "
                                 f"{', '.join(assignment.stems)}", param_hint="--exercise")
    options = GradingOptions(seed=seed, timeout=timeout, hidden=not public_only, assignment=assignment,
                             exercises=exercises, sandbox=_sandbox_config(memory_mb or assignment.memory_mb, sandbox))
    try:
        batch = grade_batch(paths, out_dir=out_dir, options=options, jobs=jobs, force=force,
                            progress=_progress_printer(), shard=shard, formats=formats,
                            report_options=_report_settings(show_hidden, gradebook_assignment
                                                            or assignment.nbgrader_name, gradebook))
    except (BadSubmissionError, ReportError) as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(summary_table(batch.results))
    broken = unreadable_lines(batch.results)
    if broken:
        click.echo("Handed in but cannot be read (no points for these files):\n  " + "\n  ".join(broken))
    _echo_written(batch.written, out_dir)
    if batch.unwritten:
        click.secho(f"Could not write the report of {len(batch.unwritten)} student(s): "
                    f"{', '.join(batch.unwritten)}. Their results are in summary.json; check that {out_dir}/ "
                    "is writable and has space, then run the same command again.", fg="red", err=True)
    if batch.skipped:
        click.echo(f"{len(batch.skipped)} report(s) were already up to date and kept (use --force to regrade).")
    if not force:
        crashed = regraded_after_crash(existing, [r.student for r in batch.results], batch.skipped)
        if crashed:
            click.echo(f"Regraded {len(crashed)} report(s) that recorded a crash ({', '.join(crashed)}): a crash "
                       "can come from the machine (memory pressure, a killed process), so such a report is "
                       "never kept.")
    click.echo(f"Seed {seed}. Reports in {out_dir}/ (summary.json and one <student>.json each).")
    if seed_origin:
        click.echo(seed_origin)
    note = sandbox_note([r.sandbox for r in batch.results], machine_sandbox(options.sandbox), sandbox)
    if note:
        click.secho(note, fg="yellow", err=True)
    note = limits_note([r.limits for r in batch.results])
    if note:
        click.secho(note, fg="yellow", err=True)


def choose_seed(given: Optional[int], existing: list[int], out_dir: Path) -> tuple[int, str]:
    """The seed to grade with, and the sentence saying where it comes from ("" for --seed).

    Without --seed, the reports already in `out_dir` keep theirs (their most common one), also
    under --force: regrading then meets the same hidden inputs. Only an empty folder draws one.
    """
    if given is not None:
        return given, ""
    if existing:
        seed = Counter(existing).most_common(1)[0][0]
        return seed, (f"The seed is kept from the reports already in {out_dir}/ (--force too); "
                      "--seed N gives other hidden inputs.")
    return secrets.randbelow(2**31), "The seed is new, drawn at random; --seed N chooses one."


def regraded_after_crash(existing: dict, graded: list[str], skipped: list[str]) -> list[str]:
    """Students graded again because their previous report recorded a crash (never kept)."""
    kept = set(skipped)
    return [student for student in graded if student not in kept and student in existing
            and any(e.kind == "crash" for e in existing[student].errors)]


def _existing_reports(out_dir: Path) -> dict:
    """The reports already in `out_dir`, by student: their seeds and crash events decide what the
    terminal says. Files that are not reports are ignored here (grading overwrites or skips them)."""
    from grader.reports.json_report import read_report

    if not out_dir.is_dir():
        return {}
    found = {}
    for path in sorted(out_dir.glob("*.json")):
        if path.name == "summary.json":
            continue
        try:
            report = read_report(path)
        except Exception:  # not a report: ignore it
            continue
        found[report.student] = report
    return found


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
@click.option("--timeout", default=None, type=click.FloatRange(0.1, 3600),
              help="Seconds allowed for each call into your code (default: the assignment's, 10 for module-2a).")
@_assignment_option
@click.option("--format", "formats", multiple=True, type=click.Choice(_format_names()),
              help="For CI: also write this report format into --out (json always); repeat for several.")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="For CI: folder for the report files (default: reports).")
@click.option("--fail-under", type=click.FloatRange(0, 100), default=None,
              help="For CI: exit 1 when the score is below this percentage of the public checks' points.")
def check_command(path: Path, student_id: Optional[str], exercises: tuple[str, ...], timeout: Optional[float],
                  assignment, formats: tuple[str, ...], out_dir: Optional[Path], fail_under: Optional[float]) -> None:
    """Run the public checks on your work (default: the current folder) and explain what failed."""
    if formats or out_dir is not None or fail_under is not None:
        from grader.errors import BadSubmissionError
        from grader.ci_check import run_ci_check
        from grader.reports.formats import ReportError

        try:
            outcome = run_ci_check(path, out_dir=out_dir or Path("reports"), formats=formats,
                                   fail_under=100.0 if fail_under is None else fail_under, student_id=student_id,
                                   exercises=exercises, timeout=timeout, assignment=assignment,
                                   echo=click.echo)
        except (BadSubmissionError, ReportError) as exc:
            raise click.UsageError(str(exc)) from None
        sys.exit(0 if outcome.passed else 1)
    from grader.selfcheck import run_self_check

    ok = run_self_check(path, student_id=student_id, exercises=exercises, timeout=timeout, assignment=assignment,
                        echo=click.echo)
    sys.exit(0 if ok else 1)


@main.command("report")
@click.argument("dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the reports (default: DIR itself, when there is one DIR).")
@_report_options
def report_command(dirs: tuple[Path, ...], out_dir: Optional[Path], formats: tuple[str, ...], show_hidden: bool,
                   gradebook: Optional[str], gradebook_assignment: Optional[str]) -> None:
    """Write report formats from folders of JSON reports, without grading again.

    Several folders (shards graded apart) are merged into --out; a student in two folders is an
    error unless both reports graded the same submission.
    """
    from grader.reports.formats import ReportError, check_formats, write_formats
    from grader.reports.merge import merge_report_folders

    if out_dir is None and len(dirs) > 1:
        raise click.UsageError("merging several folders needs --out DIR for the merged reports")
    out_dir = out_dir or dirs[0]
    options = _report_settings(show_hidden, gradebook_assignment or "", gradebook)
    # Converting one folder in place leaves its JSON reports as they are; a merge writes them all.
    in_place = len(dirs) == 1 and out_dir.resolve() == dirs[0].resolve()
    try:
        check_formats(formats, options)
        merged = merge_report_folders(dirs)
        if not gradebook_assignment:  # the name nbgrader knows the graded assignment by
            options = _report_settings(show_hidden, gradebook_name(merged.results), gradebook)
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
@click.option("--timeout", default=None, type=click.FloatRange(0.1, 3600),
              help="Seconds allowed for each call into student code (default: the assignment's, 10 for module-2a).")
@click.option("--memory-mb", default=None, type=SandboxMemory(),
              help="Address-space limit of the student's process (default: the assignment's, 2048 for module-2a).")
@click.option("--student-id-field", default="sid", show_default=True,
              help="The field of Gradescope's submission metadata (users[0]) holding the id that exercise 2's "
                   "personal case is made from: sid, email or id.")
@click.option("--instructor", "show_hidden", is_flag=True,
              help="Show hidden tests' feedback to students once grades are published (default: names and points).")
@_assignment_option
def gradescope_bundle_command(out_path: Path, package: Optional[Path], seed: Optional[int], timeout: Optional[float],
                              memory_mb: Optional[int], student_id_field: str, show_hidden: bool, assignment) -> None:
    """Build Gradescope's autograder zip (setup.sh, run_autograder and this grader)."""
    from grader.reports.formats import ReportError
    from grader.gradescope_run import BundleConfig
    from grader.reports.gradescope_bundle import build_bundle

    if assignment.folder is not None:
        raise click.UsageError(f"a Gradescope bundle holds this grader and its installed assignments, and "
                               f"{assignment.name} is not one: install it (grader/assignments/) first")
    config = BundleConfig(seed=seed if seed is not None else secrets.randbelow(2**31),
                          timeout=timeout or assignment.timeout, memory_mb=memory_mb or assignment.memory_mb,
                          student_id_field=student_id_field, show_hidden=show_hidden, assignment=assignment.name)
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
@_assignment_option
def release_command(out_dir: Path, assignment) -> None:
    """Build the student release: notebooks and stubs, public checks and their data, no solutions."""
    import importlib

    if not assignment.release:
        raise click.UsageError(f"{assignment.name} has no student release to build")
    module_name, _, function = assignment.release.partition(":")
    try:
        build_release = getattr(importlib.import_module(module_name), function)
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
    if (Path(path) / "pyproject.toml").is_file():
        click.echo(f"Student release written to {path}/. Students install it with `pip install {path}`.")
    else:
        click.echo(f"Student release written to {path}/: the repository students start from"
                   + (f", with its self-checks in {path}/checks/." if (Path(path) / "checks").is_dir() else "."))


@main.command("assignments")
def assignments_command() -> None:
    """List the assignments (course profiles) this grader can grade: `--assignment NAME` picks one."""
    from grader.assignments import DEFAULT_ASSIGNMENT, installed_assignments
    from grader.checks.registry import hidden_checks_available

    for assignment in installed_assignments():
        default = " (the default)" if assignment.name == DEFAULT_ASSIGNMENT else ""
        hidden = all(hidden_checks_available(stem, assignment) for stem in assignment.stems)
        click.echo(f"{assignment.name}{default}: {assignment.title}")
        click.echo(f"  {len(assignment.stems)} exercise(s): {', '.join(assignment.stems)}")
        click.echo(f"  {assignment.timeout:g} s per call, {assignment.memory_mb} MB; "
                   + ("public and hidden checks" if hidden else "public checks only (a student copy)"))


if __name__ == "__main__":  # pragma: no cover
    main()
