"""`grade`: the command line, a thin layer over grader's library functions.

    grade PATH... [--out DIR] [--jobs N] [--format F]... [--seed N] [--timeout S]
    grade check [PATH]        a student's self-check on the public checks
    grade case STUDENT_ID     the personal case for exercise 2
    grade release --out DIR   the student release
"""
from __future__ import annotations

import os
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


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(grader.__version__, prog_name="backprop-grader")
def main() -> None:
    """Grade Module 2A submissions: losses, activations, backpropagation and autograd.

    `grade PATH...` grades submissions (a folder, a zip, a notebook or module, or a folder of
    submissions, one per student) and writes a JSON report per student.
    """


@main.command("grade", hidden=True)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", default="grades", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the reports.")
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Submissions graded at once (one process each).")
@click.option("--format", "formats", multiple=True, default=("json",), show_default=True,
              type=click.Choice(["json"]), help="Report formats; repeat for several.")
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
                  seed: Optional[int], timeout: float, memory_mb: int, sandbox: str, force: bool,
                  public_only: bool) -> None:
    """Grade submissions and write DIR/<student>.json and DIR/summary.json."""
    from grader.batch import grade_batch
    from grader.errors import BadSubmissionError
    from grader.pipeline import GradingOptions
    from grader.reports.summary import summary_table

    if seed is None:
        seed = _existing_seed(out_dir) if not force else None
        seed = seed if seed is not None else secrets.randbelow(2**31)
    options = GradingOptions(seed=seed, timeout=timeout, hidden=not public_only,
                             sandbox=_sandbox_config(memory_mb, sandbox))
    try:
        batch = grade_batch(paths, out_dir=out_dir, options=options, jobs=jobs, force=force,
                            progress=_progress_printer())
    except BadSubmissionError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(summary_table(batch.results))
    if batch.skipped:
        click.echo(f"{len(batch.skipped)} report(s) were already up to date and kept (use --force to regrade).")
    click.echo(f"Seed {seed}. Reports in {out_dir}/ (summary.json and one <student>.json each).")
    _sandbox_note(next((r.sandbox for r in batch.results), "none"))


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


@main.command("check")
@click.argument("path", required=False, default=".", type=click.Path(exists=True, path_type=Path))
@click.option("--student", "student_id", default=None, envvar="BPG_STUDENT_ID",
              help="Your student id, for the personal case of exercise 2 (or set BPG_STUDENT_ID).")
@click.option("--exercise", "exercises", multiple=True, help="Only these exercises (file stems); repeat for several.")
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(0.1, 3600))
def check_command(path: Path, student_id: Optional[str], exercises: tuple[str, ...], timeout: float) -> None:
    """Run the public checks on your work (default: the current folder) and explain what failed."""
    from grader.selfcheck import run_self_check

    ok = run_self_check(path, student_id=student_id, exercises=exercises, timeout=timeout, echo=click.echo)
    sys.exit(0 if ok else 1)


@main.command("case")
@click.argument("student_id")
def case_command(student_id: str) -> None:
    """Print STUDENT_ID's personal case for exercise 2."""
    try:
        click.echo(format_case(student_id))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


if __name__ == "__main__":  # pragma: no cover
    main()
