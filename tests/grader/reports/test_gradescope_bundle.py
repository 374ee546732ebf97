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
from grader.gradescope_run import (
    BundleConfig,
    grade_gradescope_submission,
    student_id,
    submission_seed,
)
from grader.reports.gradescope_bundle import build_bundle, project_root
from tests.grader.hostile.test_hidden_inputs import request_values, sent  # noqa: F401 (sent: a fixture)
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
    assert data["extra_data"]["student"] == "s042" and data["extra_data"]["seed_from"] == "sha256"
    assert data["extra_data"]["seed"] == submission_seed(1234, {}, data["extra_data"]["sha256"]).seed
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


# ---------------------------------------------------------------- a seed per submission


@pytest.mark.parametrize("metadata, sha256, source", [
    ({"id": 123456, "users": [{"sid": "S1"}]}, "ab" * 32, "submission_id"),
    ({"id": "123456"}, "", "submission_id"),
    ({"users": [{"sid": "S1"}]}, "ab" * 32, "sha256"),
    ({"id": True}, "ab" * 32, "sha256"),  # not an id
    ({"id": " "}, "ab" * 32, "sha256"),
])
def test_the_seed_comes_from_the_submission_id_else_the_sha256(metadata, sha256, source):
    seed = submission_seed(1234, metadata, sha256)
    assert seed.source == source and 0 <= seed.seed < 2**31
    assert seed == submission_seed(1234, metadata, sha256)  # reproducible
    assert seed != submission_seed(1235, metadata, sha256)  # and the bundle's seed matters


def test_the_seed_differs_between_submissions():
    seeds = {submission_seed(1234, {"id": n}, "").seed for n in range(1000, 1100)}
    assert len(seeds) == 100
    assert submission_seed(1234, {}, "ab" * 32) != submission_seed(1234, {}, "cd" * 32)


def hidden_inputs(sent: list, start: int) -> list:
    """The arguments the hidden tests sent, in order, among the requests recorded from `start`."""
    from grader.checks.registry import rubric_for

    tests = rubric_for("ex1_activations_losses").tests
    return [json.dumps([getattr(v, "tolist", lambda v=v: v)() for v in request_values(header)])
            for _, test, header in sent[start:] if tests[test].visibility == "hidden"]


def test_resubmissions_meet_new_hidden_inputs_and_a_regrade_the_same(tmp_path, bundle, sent):
    config = BundleConfig(seed=1234)
    graded = {}
    for run, submission in [("first", 501), ("second", 502), ("first again", 501)]:
        root = autograder_layout(tmp_path / run.replace(" ", "_"), bundle, {"ex1_activations_losses.py": EX1},
                                 {"id": submission, "users": [{"sid": "s042"}]})
        start = len(sent)
        data = grade_gradescope_submission(root, config)
        assert_gradescope_schema(data)
        graded[run] = (data["extra_data"]["seed"], data["extra_data"]["seed_from"], hidden_inputs(sent, start))
    assert graded["first"][1] == "submission_id" and graded["first"][0] == submission_seed(1234, {"id": 501}, "").seed
    assert graded["first"][2] and graded["first"] == graded["first again"]
    assert graded["second"][0] != graded["first"][0] and graded["second"][2] != graded["first"][2]
