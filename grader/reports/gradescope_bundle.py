"""Gradescope's autograder zip: `setup.sh`, `run_autograder`, `bundle.json` and the grader itself.

Gradescope unpacks the zip into `/autograder/source`, runs `setup.sh` once to build the image,
and `run_autograder` for every submission. The grader travels in the zip, as a wheel or sdist
the instructor built (`package/`) or as this installation's source tree (`project/`, the default
in a checkout), so the image installs exactly the grader and hidden checks that made the bundle.
`setup.sh` needs the network (apt for python3-venv and bubblewrap, PyPI for numpy and click);
`run_autograder` does not. Both honour `$AUTOGRADER_ROOT` (default `/autograder`) so a bundle can
be tried in a folder laid out like Gradescope's. The bundle's seed is not the hidden checks' seed:
each submission's is derived from it and the submission (see `grader.gradescope_run.submission_seed`).
"""
from __future__ import annotations

import json
import secrets
import zipfile
from pathlib import Path
from typing import Optional

import grader
from grader.reports.formats import ReportError
from grader.gradescope_run import BundleConfig

PACKAGE_SUFFIXES = (".whl", ".tar.gz", ".zip")
# The source tree pip needs to build the package; nothing else (no tests, no caches, no VCS).
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE")
PROJECT_PACKAGES = ("grader", "reference")
SKIP_PARTS = {"__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints"}

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"

if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip
    # The sandbox: without it the grader still runs, with resource limits only.
    apt-get install -y -qq --no-install-recommends bubblewrap \\
        || echo "setup.sh: bubblewrap could not be installed; grading with resource limits only" >&2
fi

python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --upgrade pip
package=$(find "$HERE/package" -maxdepth 1 -type f \\( -name '*.whl' -o -name '*.tar.gz' -o -name '*.zip' \\) \\
    2>/dev/null | head -n 1)
if [ -n "$package" ]; then
    "$ROOT/venv/bin/python" -m pip install --quiet "$package"
else
    "$ROOT/venv/bin/python" -m pip install --quiet "$HERE/project"
fi
"$ROOT/venv/bin/python" -c "import grader; print('backprop-grader', grader.__version__, 'installed')"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission: grade ROOT/submission into ROOT/results/results.json.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${BPG_PYTHON:-$ROOT/venv/bin/python}"
exec "$PYTHON" -m grader.gradescope_run --root "$ROOT" --config "$ROOT/source/bundle.json"
"""


def project_root() -> Optional[Path]:
    """The source tree this grader runs from, when it is a checkout (editable install), else None."""
    root = Path(grader.__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and 'name = "backprop-grader"' in pyproject.read_text("utf-8"):
        return root
    return None


def _executable(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16  # a regular file, rwxr-xr-x: Gradescope runs it directly
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def _add_tree(archive: zipfile.ZipFile, root: Path, target: str) -> int:
    count = 0
    for name in PROJECT_FILES:
        if (root / name).is_file():
            archive.write(root / name, f"{target}/{name}")
            count += 1
    for package in PROJECT_PACKAGES:
        for path in sorted((root / package).rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not path.is_symlink() and not SKIP_PARTS & set(relative.parts) \
                    and path.suffix not in (".pyc", ".pyo"):
                archive.write(path, f"{target}/{relative.as_posix()}")
                count += 1
    return count


def build_bundle(out: Path, *, config: Optional[BundleConfig] = None, package: Optional[Path] = None,
                 source: Optional[Path] = None) -> Path:
    """Write the autograder zip to `out`: with `package` (a wheel or sdist) if given, else the source tree."""
    config = config or BundleConfig(seed=secrets.randbelow(2**31))
    if package is not None:
        package = Path(package)
        if not package.is_file() or not package.name.endswith(PACKAGE_SUFFIXES):
            raise ReportError(f"{package} is not a wheel or sdist file (.whl, .tar.gz or .zip); build one with "
                              "`python -m build` or leave --package out to bundle the source tree")
    else:
        source = source or project_root()
        if source is None or not (Path(source) / "pyproject.toml").is_file():
            raise ReportError("this grader is not installed from a source checkout, so there is no tree to bundle: "
                              "pass --package with a wheel or sdist of backprop-grader")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _executable(archive, "setup.sh", SETUP_SH)
        _executable(archive, "run_autograder", RUN_AUTOGRADER)
        archive.writestr("bundle.json", json.dumps(config.to_dict(), indent=2) + "\n")
        if package is not None:
            archive.write(package, f"package/{package.name}")
        else:
            _add_tree(archive, Path(source), "project")
    return out
