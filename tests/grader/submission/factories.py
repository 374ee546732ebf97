"""Small builders for submissions on disk: notebooks, modules, zips, folders."""
from __future__ import annotations

import stat
import zipfile
from pathlib import Path
from typing import Optional, Union

import nbformat
from nbformat import v3, v4

EX1, EX2, EX3, EX4, EX5, EX6 = (
    "ex1_activations_losses",
    "ex2_hand_calculation",
    "ex3_mlp_backprop",
    "ex4_autograd_scalar",
    "ex5_autograd_tensor",
    "ex6_gradient_descent",
)

Cell = Union[str, dict]


def code(source: str, **nbgrader: object) -> dict:
    """A code cell; keyword arguments become its nbgrader metadata."""
    cell = v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = dict(nbgrader)
    return cell


def notebook_text(*cells: Cell, markdown_first: bool = False) -> str:
    """A version 4 notebook; plain strings become code cells."""
    built = [code(c) if isinstance(c, str) else c for c in cells]
    if markdown_first:
        built.insert(0, v4.new_markdown_cell("# Exercise"))
    return nbformat.writes(v4.new_notebook(cells=built))


def v3_notebook_text(*sources: str) -> str:
    """A version 3 notebook (worksheets, `input` fields), as old Jupyter wrote it."""
    cells = [v3.new_text_cell("markdown", source="# Old notebook")]
    cells += [v3.new_code_cell(input=source) for source in sources]
    return nbformat.writes(v3.new_notebook(worksheets=[v3.new_worksheet(cells=cells)]), version=3)


def write(path: Path, content: Union[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_notebook(folder: Path, stem: str, *cells: Cell) -> Path:
    return write(folder / f"{stem}.ipynb", notebook_text(*cells))


def write_module(folder: Path, stem: str, source: str = "x = 1\n") -> Path:
    return write(folder / f"{stem}.py", source)


def student_folder(root: Path, name: str, *stems: str) -> Path:
    """A folder holding a small notebook for each stem."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    for stem in stems:
        write_notebook(folder, stem, f"ANSWER = {stem!r}")
    return folder


def make_zip(path: Path, entries: dict[str, Union[str, bytes]], *,
             modes: Optional[dict[str, int]] = None,
             compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """A zip whose entries are written verbatim (names unchecked), with optional Unix modes."""
    modes = modes or {}
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = compression
            if name in modes:
                info.external_attr = modes[name] << 16
                info.create_system = 3
            archive.writestr(info, content)
    return path


LINK_MODE = stat.S_IFLNK | 0o777
FIFO_MODE = stat.S_IFIFO | 0o644
