"""`grade release --assignment da6401-a1`: the skeleton students start from, with no solution."""
from __future__ import annotations

import ast
import json
import shutil

import yaml
from click.testing import CliRunner

from grader.cli import main


def test_the_release_is_the_skeleton_with_its_workflow_and_no_solution(tmp_path):
    out = tmp_path / "release"
    done = CliRunner().invoke(main, ["release", "--assignment", "da6401-a1", "--out", str(out)])
    assert done.exit_code == 0 and "the repository students start from" in done.output, done.output
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert {"src/ann/neural_network.py", "src/train.py", ".github/workflows/checks.yml", "README.md"} <= set(files)
    assert not any(name.startswith(("solution", "reference", "src/ann/reference")) for name in files)
    assert "checks/pyproject.toml" in files  # the self-checks, which hold no answer key (test_student_checks.py)
    network = ast.parse((out / "src/ann/neural_network.py").read_text())
    methods = {node.name for node in ast.walk(network) if isinstance(node, ast.FunctionDef)}
    assert {"forward", "backward", "get_weights", "set_weights", "update_weights"} <= methods
    source = (out / "src/ann/neural_network.py").read_text()
    assert "NotImplementedError" in source and "np.exp" not in source and "@" not in source.replace("@property", "")
    workflow = yaml.safe_load((out / ".github/workflows/checks.yml").read_text())
    runs = " ".join(step.get("run", "") for step in workflow["jobs"]["check"]["steps"])
    assert "grade check . --assignment da6401-a1" in runs and "grade check --assignment da6401-a1" in (
        out / "README.md").read_text()


def test_the_skeleton_as_released_gets_a_report_and_no_points(tmp_path):
    out = tmp_path / "release"
    CliRunner().invoke(main, ["release", "--assignment", "da6401-a1", "--out", str(out)])
    shutil.rmtree(out / ".github")
    done = CliRunner().invoke(main, [str(out), "--assignment", "da6401-a1", "--out", str(tmp_path / "grades"),
                                     "--seed", "1"])
    assert done.exit_code == 0, done.output
    [report] = [p for p in (tmp_path / "grades").glob("*.json") if p.name != "summary.json"]
    data = json.loads(report.read_text())
    assert data["score"] == 0 < data["max_score"] and "Traceback" not in done.output


def test_a_second_release_into_a_full_folder_is_refused(tmp_path):
    out = tmp_path / "release"
    CliRunner().invoke(main, ["release", "--assignment", "da6401-a1", "--out", str(out)])
    done = CliRunner().invoke(main, ["release", "--assignment", "da6401-a1", "--out", str(out)])
    assert done.exit_code == 2 and "not an empty folder" in done.output
