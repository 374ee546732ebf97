"""The built wheel holds every file the grader reads, so `pip install .` (not only `-e`) works.

The wheel is built from a copy of the package sources (no build folder lands in the checkout),
unpacked, and used alone: `grade assignments` and `grade release --assignment da6401-a1` run
from it, with the checkout kept off the path. An assignment folder's rubric, CI template or
README that package-data misses fails here, not on an instructor's machine.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("grader", "reference", "pyproject.toml", "README.md")


@pytest.fixture(scope="module")
def unpacked_wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w",
                            str(work / "dist")], capture_output=True, text=True, timeout=600)
    if built.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{built.stdout[-2000:]}\n{built.stderr[-2000:]}")
    (wheel,) = (work / "dist").glob("*.whl")
    target = work / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def _package_files(folder: str) -> set[str]:
    base = ROOT / folder
    return {path.relative_to(ROOT).as_posix() for path in base.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}


def test_every_assignment_file_is_in_the_wheel(unpacked_wheel):
    shipped = {path.relative_to(unpacked_wheel).as_posix() for path in unpacked_wheel.rglob("*") if path.is_file()}
    wanted = _package_files("grader/assignments") | _package_files("grader/rubric")
    assert wanted, "no assignment files found in the checkout"
    assert sorted(wanted - shipped) == []


def _run_installed(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    # The unpacked wheel first on the path, and a working folder outside the checkout: the
    # checkout's own `grader` (an editable install) must not be the one imported.
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = "import sys, grader; from grader.cli import main; print(grader.__file__, file=sys.stderr); main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_installed_wheel_lists_and_releases_da6401(unpacked_wheel, tmp_path):
    listed = _run_installed(unpacked_wheel, tmp_path, "assignments")
    assert listed.returncode == 0, listed.stderr
    assert str(unpacked_wheel) in listed.stderr  # the wheel's grader ran, not the checkout's
    assert "da6401-a1" in listed.stdout and "module-2a" in listed.stdout
    released = _run_installed(unpacked_wheel, tmp_path, "release", "--assignment", "da6401-a1", "--out",
                              str(tmp_path / "skeleton"))
    assert released.returncode == 0, released.stderr
    assert (tmp_path / "skeleton" / ".github" / "workflows" / "checks.yml").read_text().startswith("#")
    assert (tmp_path / "skeleton" / "src" / "ann" / "neural_network.py").is_file()
    assert "grade check --assignment da6401-a1" in (tmp_path / "skeleton" / "README.md").read_text()


def test_the_installed_wheel_reads_every_rubric(unpacked_wheel, tmp_path):
    code = ("from grader.assignments import installed_assignments\n"
            "from grader.rubric import load_rubric\n"
            "for a in installed_assignments():\n"
            "    for stem in a.stems:\n"
            "        print(a.name, stem, load_rubric(stem, a.rubric_dir).max_score)\n")
    ran = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(unpacked_wheel)},
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    scores = {tuple(line.split()[:2]): float(line.split()[2]) for line in ran.stdout.splitlines()}
    assert ("da6401-a1", "a1_gradients") in scores and all(score > 0 for score in scores.values())
