import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.reports.formats import ReportError
from grader.reports.gradescope_autograder import BundleConfig, grade_gradescope_submission, student_id
from grader.reports.gradescope_bundle import build_bundle, project_root
from tests.grader.reports.schemas import assert_gradescope_schema

# A tiny submission: two functions of exercise 1, the rest absent. Enough for a real grading run.
EX1 = '''import numpy as np


def identity(z):
    return np.array(z, dtype=float)


def relu(z):
    return np.maximum(np.asarray(z, dtype=float), 0.0)
'''


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    if project_root() is None:
        pytest.skip("not a source checkout: the default bundle needs the source tree")
    return build_bundle(tmp_path_factory.mktemp("bundle") / "autograder.zip", config=BundleConfig(seed=1234))


def test_the_zip_holds_the_scripts_the_config_and_the_source_tree(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        config = json.loads(archive.read("bundle.json"))
    assert {"setup.sh", "run_autograder", "bundle.json", "project/pyproject.toml", "project/README.md",
            "project/grader/cli.py", "project/reference/mlp.py"} <= names
    assert any(n.startswith("project/grader/checks/hidden/") for n in names)  # the instructor's hidden checks
    assert not any("__pycache__" in n or n.endswith(".pyc") or n.startswith("project/tests/") for n in names)
    for script in ("setup.sh", "run_autograder"):
        assert modes[script] & stat.S_IXUSR, script
    assert config == {"seed": 1234, "timeout": 10.0, "memory_mb": 2048, "student_id_field": "sid",
                      "show_hidden": False}


def test_the_scripts_are_valid_bash_and_use_the_configurable_root(bundle):
    with zipfile.ZipFile(bundle) as archive:
        for script in ("setup.sh", "run_autograder"):
            text = archive.read(script).decode()
            assert text.startswith("#!/usr/bin/env bash") and "${AUTOGRADER_ROOT:-/autograder}" in text
            subprocess.run(["bash", "-n", "-c", text], check=True)
        setup = archive.read("setup.sh").decode()
    assert "bubblewrap" in setup and 'pip install --quiet "$HERE/project"' in setup


def test_a_wheel_is_bundled_instead_of_the_tree(tmp_path):
    wheel = tmp_path / "backprop_grader-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip: its content does not matter here
    with zipfile.ZipFile(build_bundle(tmp_path / "a.zip", config=BundleConfig(seed=1), package=wheel)) as archive:
        names = archive.namelist()
    assert f"package/{wheel.name}" in names and not any(n.startswith("project/") for n in names)
    with pytest.raises(ReportError, match="not a wheel or sdist"):
        build_bundle(tmp_path / "b.zip", package=Path(__file__))


@pytest.mark.parametrize("metadata, field, expected", [
    ({"users": [{"sid": "S1", "email": "a@x", "id": 5}]}, "sid", "S1"),
    ({"users": [{"sid": "", "email": "a@x", "id": 5}]}, "sid", "a@x"),
    ({"users": [{"sid": "S1", "email": "a@x"}]}, "email", "a@x"),
    ({"users": [{"id": 5}]}, "sid", "5"),
    ({"users": []}, "sid", None),
    ({}, "sid", None),
])
def test_student_id_from_gradescopes_metadata(metadata, field, expected):
    assert student_id(metadata, field) == expected


def autograder_layout(root: Path, bundle: Path, files: dict[str, str], metadata: dict) -> Path:
    """A folder laid out as Gradescope's /autograder: source/ unzipped, run_autograder, submission/."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    for name, text in files.items():
        (root / "submission" / name).write_text(text)
    (root / "submission_metadata.json").write_text(json.dumps(metadata))
    return root


def test_run_autograder_grades_the_submission_into_results_json(tmp_path, bundle):
    root = autograder_layout(tmp_path / "autograder", bundle, {"ex1_activations_losses.py": EX1},
                             {"users": [{"sid": "s042", "email": "s042@uni.edu"}]})
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "BPG_PYTHON": sys.executable}
    subprocess.run(["bash", str(root / "run_autograder")], env=env, check=True, capture_output=True, timeout=300)
    data = json.loads((root / "results" / "results.json").read_text())
    assert_gradescope_schema(data)
    assert data["extra_data"]["student"] == "s042" and data["extra_data"]["seed"] == 1234
    assert "Graded as student id `s042`" in data["output"]
    by_name = {t["name"]: t for t in data["tests"]}
    assert by_name["ex1_activations_losses: identity.values"]["status"] == "passed"
    assert by_name["ex1_activations_losses: sigmoid.values"]["status"] == "failed"
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
    assert 0 < data["score"] < sum(t["max_score"] for t in data["tests"])


def test_nothing_gradable_still_gives_the_student_a_reason(tmp_path):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "submission" / "notes.txt").write_text("oops")
    data = grade_gradescope_submission(root, BundleConfig(seed=1))
    assert_gradescope_schema(data)
    assert data["score"] == 0 and "could not be graded" in data["output"]
