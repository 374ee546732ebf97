"""The student release of da6401-a1: the course skeleton repository, ready to push.

    grade release --assignment da6401-a1 --out DIR

writes the skeleton (`skeleton/`: `src/ann/*.py` with the signatures and docstrings, no
solution), the students' CI workflow as `.github/workflows/checks.yml` (`ci/github-actions.yml`:
`grade check --assignment da6401-a1` on every push) and a README saying how to self-check.
Nothing of `solution/`, `reference/` or the checks is copied.
"""
from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
SKELETON = FOLDER / "skeleton"
WORKFLOW = FOLDER / "ci" / "github-actions.yml"

CHECKING = """
## Checking your work

Install the grader as your course announces it, then, in this folder:

```sh
grade check --assignment da6401-a1
```

It runs the public checks in a sandbox, as your instructor's grading does: `forward` on known
weights for each activation, `backward` against the reference gradients and against central
differences of your own forward, each optimizer's updates, and `python src/train.py` with a few
of the spec's options (it must save best_model.npy, with the layers asked for, that learns).
Every failure says what is wrong and, when it recognises a common mistake, names it.
`.github/workflows/checks.yml` runs the same checks on every push. Your own `best_model.npy` is
scored on the course's real test data, so it is scored when your instructor grades (here the
check says it cannot be scored), and so are the hidden checks.
"""


def release_files() -> dict[str, bytes]:
    """Relative path -> content of every file of the release."""
    files = {path.relative_to(SKELETON).as_posix(): path.read_bytes()
             for path in sorted(SKELETON.rglob("*")) if path.is_file() and "__pycache__" not in path.parts}
    files["README.md"] = files.get("README.md", b"").rstrip() + b"\n" + CHECKING.encode("utf-8")
    files[".github/workflows/checks.yml"] = WORKFLOW.read_bytes()
    return files


def build_release(out_dir: Path) -> Path:
    """Write the release into `out_dir` (new, or an empty folder) and return it."""
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f"{out_dir} is not an empty folder; choose a new one or empty it first")
    files = release_files()  # all read before anything is written
    for relative, data in files.items():
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return out_dir
