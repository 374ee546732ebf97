"""Write everything derived from the solution notebooks, or check that it is up to date.

    python -m grader.authoring.generate            # rewrite the derived files
    python -m grader.authoring.generate --check    # exit 1 and name the files that drifted

`solutions/<stem>.ipynb` (nbgrader's source notebook, solutions and hidden tests included) is the
only file an author edits. From each one this writes:

- `solutions/<stem>.py`: the solution module, made of the notebook's module cells with the
  `### BEGIN/END SOLUTION` marker lines dropped;
- `exercises/<stem>.ipynb`: the student notebook, made by nbgrader's own preprocessors
  (see `student_notebook.py`);
- `exercises/<stem>.py`: the student module, the student notebook's module cells.

Which cells are module cells: exactly the code cells tagged "module" (see `module_source.py`).
The output is a pure function of the source notebooks, so `--check` can compare it byte for byte.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click
import nbformat

from grader.authoring.check_groups import EXERCISES
from grader.authoring.module_source import module_text, notebook_title
from grader.authoring.student_notebook import student_notebook

SOURCE_DIR = "solutions"
STUDENT_DIR = "exercises"
COMMAND = "python -m grader.authoring.generate"


def default_root() -> Path:
    """The repository this package sits in (grader/authoring/ is two levels below it)."""
    return Path(__file__).resolve().parents[2]


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """A notebook as `nbformat.write` puts it on disk."""
    text = nbformat.writes(notebook, version=4)
    return text if text.endswith("\n") else text + "\n"


def _solution_docstring(title: str, stem: str) -> str:
    return (f"{title} (solution).\n\n"
            f"Generated from `{stem}.ipynb`: edit the notebook, then run\n"
            f"`{COMMAND}`. A copy that drifts from the notebook fails the tests.")


def _student_docstring(title: str, stem: str) -> str:
    return (f"{title}.\n\n"
            f"The code of `{stem}.ipynb` as a plain module: a submission may hold either file.\n"
            f"Replace each `raise NotImplementedError()` with your code.")


def files_for(source: nbformat.NotebookNode, stem: str) -> dict[str, str]:
    """The three derived files of one source notebook: relative path -> text."""
    title = notebook_title(source)
    student = student_notebook(source)
    return {
        f"{SOURCE_DIR}/{stem}.py": module_text(source, _solution_docstring(title, stem),
                                               strip_markers=True),
        f"{STUDENT_DIR}/{stem}.ipynb": notebook_text(student),
        f"{STUDENT_DIR}/{stem}.py": module_text(student, _student_docstring(title, stem)),
    }


def read_source(root: Path, stem: str) -> nbformat.NotebookNode:
    path = root / SOURCE_DIR / f"{stem}.ipynb"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: every exercise needs its source notebook")
    return nbformat.read(path, as_version=4)


def generated_files(root: Path) -> dict[str, str]:
    """Every derived file of every exercise: path relative to `root` (with '/') -> text."""
    files: dict[str, str] = {}
    for stem in EXERCISES:
        files.update(files_for(read_source(root, stem), stem))
    return files


def drifted_files(root: Path) -> list[str]:
    """The derived files that are missing or differ from what the notebooks generate."""
    drifted = []
    for relative, text in generated_files(root).items():
        path = root / relative
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            drifted.append(relative)
    return drifted


def write_generated(root: Path) -> list[str]:
    """Write the derived files; return those whose content changed."""
    changed = []
    for relative, text in generated_files(root).items():
        path = root / relative
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        changed.append(relative)
    return changed


@click.command()
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 if a derived file differs from its notebook.")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The repository root (default: the one this package is in).")
def main(check_only: bool, root: Optional[Path]) -> None:
    """Generate the solution modules and the student notebooks and modules."""
    root = root or default_root()
    if check_only:
        drifted = drifted_files(root)
        for relative in drifted:
            click.echo(f"out of date: {relative}", err=True)
        if drifted:
            click.echo(f"run `{COMMAND}` to regenerate them from {SOURCE_DIR}/*.ipynb", err=True)
            sys.exit(1)
        click.echo("all generated files match their notebooks")
        return
    changed = write_generated(root)
    for relative in changed:
        click.echo(f"wrote {relative}")
    if not changed:
        click.echo("nothing to write: all generated files match their notebooks")


if __name__ == "__main__":
    main()
