"""The release's `checks/`: the students' grader for da6401-a1, with no answer key in it.

Built once by the real builder (it grades the solution to record the public answers), then run
as students run it: `checks/` alone on the path, the checkout's grader kept off it.
"""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.assignments.da6401_a1.release import build_release
from tests.assignments.da6401_a1.catalogue import CORRECT, GRADIENT_MISTAKES, SOLUTION, materialise

ROOT = Path(__file__).resolve().parents[3]
CHECKED = ("a1_forward", "a1_gradients")
VARIANTS = {v.name: v for v in GRADIENT_MISTAKES + CORRECT}


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return build_release(tmp_path_factory.mktemp("a1") / "release")


def grade(package: Path | None, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`grade ARGS` with the release's grader (package) or the instructor's (None)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(package) if package else str(ROOT)
    code = "import sys, grader; print('GRADER', grader.__file__, file=sys.stderr); from grader.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_the_release_holds_no_answer_key(release):
    package = release / "checks" / "grader"
    names = {p.relative_to(package).as_posix() for p in package.rglob("*.py")}
    here = "assignments/da6401_a1"
    for left_out in ("solution/", "skeleton/", "checks/hidden/", "optimizers.py", "optimizer_diagnosis.py",
                     "checks/a1_optimizers.py", "release.py"):
        assert not any(name.startswith(f"{here}/{left_out}") for name in names), left_out
    assert not any(name.startswith("assignments/") and not name.startswith((here, "assignments/__init__",
                                                                           "assignments/module_2a",
                                                                           "assignments/spec"))
                   for name in names)
    marked = 0
    for name in names:
        tree = ast.parse((package / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and any(_mark(d) in ("withheld", "recorded")
                                                         for d in node.decorator_list):
                marked += 1
                body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
                assert [type(s) for s in body] == [ast.ImportFrom, ast.Raise], f"{name}: {node.name}"
    assert marked >= 12  # derivatives, loss gradients, backward, the gradient variants and their helpers
    table = json.loads((package / "public_data" / "da6401_a1.json").read_text())
    assert table["reference_gradients"] and table["gradient_variants"]


def _mark(decorator: ast.expr) -> str:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return target.id if isinstance(target, ast.Name) else ""


def test_the_reference_backward_cannot_run_from_the_release(release, tmp_path):
    code = ("from grader.assignments.da6401_a1.reference.network import backward, forward\n"
            "import numpy as np\n"
            "W, b = [np.ones((3, 2))], [np.zeros(2)]\n"
            "logits, cache = forward(W, b, np.ones((4, 3)), 'tanh')\n"
            "try:\n    backward(W, b, cache, np.array([0, 1, 0, 1]), 'cross_entropy', 'tanh')\n"
            "except Exception as exc:\n    print(type(exc).__name__)\n")
    ran = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(release / "checks")})
    assert ran.stdout.strip() == "AnswerWithheld", ran.stderr


def test_the_solution_passes_the_released_checks_and_optimizers_are_left_to_grading(release, tmp_path):
    repo = _solution_copy(tmp_path / "repo")
    listed = grade(release / "checks", "assignments", cwd=tmp_path)
    assert str(release / "checks") in listed.stderr and "a1_optimizers" not in listed.stdout
    assert "a1_gradients" in listed.stdout
    done = grade(release / "checks", "check", str(repo), "--assignment", "da6401-a1", "--exercise", "a1_forward",
                 "--exercise", "a1_gradients", "--exercise", "a1_training", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for part, count in (("a1_forward", 4), ("a1_gradients", 6), ("a1_training", 3)):
        assert f"{part} (src/ann): {count}/{count} public checks passed" in done.stdout
    refused = grade(release / "checks", "check", str(repo), "--assignment", "da6401-a1", "--exercise",
                    "a1_optimizers", cwd=tmp_path)
    assert refused.returncode == 1 and "a1_optimizers cannot be checked with this copy" in refused.stdout
    assert "your instructor checks it when grading" in refused.stdout


def _solution_copy(dest: Path) -> Path:
    shutil.copytree(SOLUTION, dest, ignore=shutil.ignore_patterns("__pycache__", "best_model.npy"))
    return dest


def _results(package: Path | None, repo: Path, out: Path) -> list[tuple]:
    parts = [arg for part in CHECKED for arg in ("--exercise", part)]
    done = grade(package, "check", str(repo), "--assignment", "da6401-a1", *parts, "--format", "json",
                 "--out", str(out), cwd=repo.parent)
    reports = [p for p in out.glob("*.json") if p.name != "summary.json"]
    assert len(reports) == 1, done.stdout + done.stderr
    [report] = reports
    data = json.loads(report.read_text())
    assert not data["errors"], data["errors"]
    return [(t["name"], t["score"], t["status"], t["diagnosis"], t["feedback"])
            for e in data["exercises"] for t in e["tests"]]


@pytest.mark.parametrize("name", ["batch_mean_twice", "mse_with_ce_delta", "arguments_swapped",
                                  "activation_applied_twice", "weights_n_out_by_n_in"])
def test_the_release_gives_the_instructors_verdicts(release, tmp_path, name):
    repo = materialise(VARIANTS[name], tmp_path / name)
    students = _results(release / "checks", repo, tmp_path / "released")
    instructors = _results(None, repo, tmp_path / "instructor")
    assert students == instructors
    assert {d for _, _, _, d, _ in students} - {None} == ({VARIANTS[name].diagnosis_code} - {None})
