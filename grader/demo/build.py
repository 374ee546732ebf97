"""Build the demo class in `grader/demo/class/` from the solution modules.

    python -m grader.demo.build          # rewrite the demo class
    python -m grader.demo.build --check  # exit 1 if the files on disk differ from a fresh build

Four students, each showing something a newcomer should see once:
- ada: everything right, as notebooks (full marks);
- ben: modules with two classic mistakes (softmax without the max shift; the batch mean taken twice);
- cleo: a zip of notebooks, `=` instead of `+=` in the scalar engine, broadcast gradients not
  reduced, and no exercise 6;
- dev: broken work: an unreadable notebook, a memory hog, a notebook that kills its own process.
Each demo file is a solution module with exact text patches; a patch that no longer matches the
solutions fails the build loudly, so the demo never silently turns correct.
"""
from __future__ import annotations

import argparse
import ast
import io
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader.personal_case import personal_case
from grader.submission.exercises import EXERCISES

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
CLASS_DIR = Path(__file__).resolve().parent / "class"
ZIP_DATE = (2026, 1, 1, 0, 0, 0)  # fixed, so the zip's bytes do not change between builds


@dataclass(frozen=True)
class DemoStudent:
    student: str
    form: str  # "py" or "ipynb"
    zipped: bool = False
    patches: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    omit: tuple[str, ...] = ()
    corrupt: tuple[str, ...] = ()  # written as a truncated, unreadable notebook


STUDENTS = (
    DemoStudent("ada", "ipynb"),
    DemoStudent("ben", "py", patches={
        "ex1_activations_losses": (("exps = np.exp(z - z.max(axis=-1, keepdims=True))", "exps = np.exp(z)"),),
        "ex3_mlp_backprop": (("grads.append((A[layer].T @ delta, delta.sum(axis=0)))",
                              "grads.append((A[layer].T @ delta / rows, delta.sum(axis=0) / rows))"),),
    }),
    DemoStudent("cleo", "ipynb", zipped=True, omit=("ex6_gradient_descent",), patches={
        "ex4_autograd_scalar": (("            self.grad += out.grad\n            other.grad += out.grad",
                                 "            self.grad = out.grad\n            other.grad = out.grad"),),
        "ex5_autograd_tensor": (("    return grad.reshape(shape)", "    return grad"),
                                ("        grad = grad.sum(axis=stretched, keepdims=True)", "        pass")),
    }),
    DemoStudent("dev", "ipynb", corrupt=("ex1_activations_losses",), patches={
        "ex3_mlp_backprop": (('    if loss not in _OUTPUT_FOR_LOSS:\n',
                              '    scratch = np.ones((1 << 40,))  # 8 TiB: far beyond any memory limit\n'
                              '    if loss not in _OUTPUT_FOR_LOSS:\n'),),
        "ex5_autograd_tensor": (("import numpy as np\n", "import os\n\nimport numpy as np\n\nos._exit(3)\n"),),
    }),
)


def hand_answers_source(student: str) -> str:
    """The personal case of exercise 2, worked to 3 decimals at each step, as a literal dict."""
    from reference.hand_network import forward_backward_221_rounded

    answers = forward_backward_221_rounded(*personal_case(student))

    def literal(value) -> str:
        if hasattr(value, "tolist"):
            value = value.tolist()
        if isinstance(value, list):
            return "[" + ", ".join(literal(v) for v in value) + "]"
        return f"{float(value):.3f}"

    body = "".join(f"    {key!r}: {literal(value)},\n".replace("'", '"') for key, value in answers.items())
    return f"\n\n# Worked by hand for student {student!r}.\nHAND_ANSWERS = {{\n{body}}}\n"


def patched_source(stem: str, student: DemoStudent) -> str:
    source = (SOLUTIONS / f"{stem}.py").read_text("utf-8")
    for old, new in student.patches.get(stem, ()):
        if source.count(old) != 1:
            raise SystemExit(f"demo patch for {student.student}/{stem} matches {source.count(old)} times "
                             f"(needs exactly 1): {old!r}. Update grader/demo/build.py to the solutions.")
        source = source.replace(old, new)
    if stem == "ex2_hand_calculation":
        source += hand_answers_source(student.student)
    return source


def as_notebook(source: str, title: str) -> str:
    """A module as a notebook: the docstring as markdown, then one code cell per top-level block."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    body = tree.body
    cells = [nbformat.v4.new_markdown_cell(f"# {title}")]
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    starts = [(node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno) - 1
              for node in body]
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(lines)
        cells.append(nbformat.v4.new_code_cell("".join(lines[start:end]).strip("\n")))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index}"  # stable ids, so a rebuild is byte-identical
    return nbformat.writes(nb)


def student_files(student: DemoStudent) -> dict[str, bytes]:
    files = {}
    for stem in EXERCISES:
        if stem in student.omit:
            continue
        source = patched_source(stem, student)
        if student.form == "py":
            files[f"{stem}.py"] = source.encode("utf-8")
        else:
            text = as_notebook(source, f"{stem} ({student.student})")
            if stem in student.corrupt:
                text = text[: len(text) // 2]  # a notebook cut off mid-save
            files[f"{stem}.ipynb"] = text.encode("utf-8")
    return files


def zipped(student: str, files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(f"{student}/{name}", ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def build() -> dict[str, bytes]:
    """Every file of the demo class, by path relative to the class folder."""
    out: dict[str, bytes] = {}
    for student in STUDENTS:
        files = student_files(student)
        if student.zipped:
            out[f"{student.student}.zip"] = zipped(student.student, files)
        else:
            out.update({f"{student.student}/{name}": data for name, data in files.items()})
    return out


def on_disk() -> dict[str, bytes]:
    if not CLASS_DIR.is_dir():
        return {}
    return {p.relative_to(CLASS_DIR).as_posix(): p.read_bytes() for p in CLASS_DIR.rglob("*") if p.is_file()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if grader/demo/class is out of date")
    args = parser.parse_args(argv)
    fresh, current = build(), on_disk()
    if args.check:
        drifted = sorted(set(fresh) ^ set(current) | {k for k in fresh.keys() & current.keys() if fresh[k] != current[k]})
        for name in drifted:
            print(f"out of date: grader/demo/class/{name}")
        return 1 if drifted else 0
    for name in set(current) - set(fresh):
        (CLASS_DIR / name).unlink()
    for name, data in fresh.items():
        path = CLASS_DIR / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"wrote {len(fresh)} files to {CLASS_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
