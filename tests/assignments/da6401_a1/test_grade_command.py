"""`grade --assignment da6401-a1` on a class of repositories, through the real sandbox, as an
instructor runs it; and `grade check --assignment da6401-a1` in one repository, as a student does."""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from tests.assignments.da6401_a1.catalogue import CORRECT, MISTAKES, SOLUTION, materialise

BY_NAME = {v.name: v for v in [*MISTAKES, *CORRECT]}
NETWORK_PARTS = ("a1_forward", "a1_gradients", "a1_optimizers")


def zip_folder(folder: Path, archive: Path, top: str) -> Path:
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                handle.write(path, f"{top}/{path.relative_to(folder).as_posix()}")
    return archive


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("da6401")
    klass = root / "class"
    klass.mkdir()
    shutil.copytree(SOLUTION, klass / "ada")
    materialise(BY_NAME["batch_mean_twice"], klass / "ben")
    materialise(BY_NAME["layer_order_reversed"], klass / "cleo" / "a1-cleo-main")  # a downloaded repository
    materialise(BY_NAME["nag_is_momentum"], root / "dev")
    zip_folder(root / "dev", klass / "dev.zip", "assignment-1-dev")  # GitHub Classroom's name, zipped
    (klass / "eve").mkdir()
    (klass / "eve" / "README.md").write_text("my assignment\n")
    (klass / "eve" / "model.py").write_text("print('not the skeleton')\n")
    out = root / "grades"
    done = CliRunner().invoke(main, [str(klass), "--assignment", "da6401-a1", "--out", str(out), "--jobs", "2",
                                     "--seed", "5", "--format", "csv"])
    assert done.exit_code == 0, done.output
    reports = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json") if p.name != "summary.json"}
    return reports, done.output, out


def results_by_name(report: dict) -> dict[str, dict]:
    return {t["name"]: t for ex in report["exercises"] for t in ex["tests"]}


def test_every_repository_of_the_class_is_one_student_with_its_own_report(graded):
    reports, output, _ = graded
    assert sorted(reports) == ["ada", "ben", "cleo", "dev", "eve"]
    assert {r["assignment"] for r in reports.values()} == {"da6401-a1"}
    assert [ex["name"] for ex in reports["ada"]["exercises"]][:3] == list(NETWORK_PARTS)
    assert "a1_forward" in output and "a1_gradients" in output  # the table's columns tell the parts apart


def test_the_solution_earns_every_point_of_the_network_parts_with_no_diagnosis(graded):
    reports, _, _ = graded
    ada = reports["ada"]
    network = [ex for ex in ada["exercises"] if ex["name"] in NETWORK_PARTS]
    assert all(ex["score"] == ex["max_score"] > 0 for ex in network), [(e["name"], e["score"]) for e in network]
    assert not any(t["diagnosis"] for t in results_by_name(ada).values())
    assert ada["grader"]["sandbox"] in ("bwrap", "none") and ada["errors"] == []


@pytest.mark.parametrize("student, code, part", [("ben", "batch_mean_twice", "a1_gradients"),
                                                 ("cleo", "layer_order_reversed", "a1_gradients"),
                                                 ("dev", "nag_is_momentum", "a1_optimizers")])
def test_each_mistake_loses_points_in_its_part_and_is_named(graded, student, code, part):
    reports, _, _ = graded
    exercise = next(ex for ex in reports[student]["exercises"] if ex["name"] == part)
    assert exercise["score"] < exercise["max_score"]
    assert code in {t["diagnosis"] for t in exercise["tests"]}
    others = [ex for ex in reports[student]["exercises"] if ex["name"] in NETWORK_PARTS and ex["name"] != part]
    if code != "layer_order_reversed":  # the reversed order also shows in get/set_weights for forward
        assert all(ex["score"] == ex["max_score"] for ex in others)


def test_a_repository_that_is_not_the_skeleton_gets_a_report_saying_what_is_missing(graded):
    reports, _, _ = graded
    eve = reports["eve"]
    assert eve["score"] == 0 and eve["max_score"] == reports["ada"]["max_score"]
    [error] = eve["errors"]
    assert error["kind"] == "bad_submission" and "src/ann" in error["message"] and "model.py" in error["message"]


def test_the_grade_tables_have_a_column_per_part(graded):
    _, _, out = graded
    header = (out / "grades.csv").read_text("utf-8-sig").splitlines()[0]
    assert header.startswith("student,a1_forward,a1_gradients,a1_optimizers")


def test_a_students_self_check_in_the_repository_runs_the_public_checks(tmp_path):
    materialise(BY_NAME["sign_flipped"], tmp_path / "repo")
    done = CliRunner().invoke(main, ["check", str(tmp_path / "repo"), "--assignment", "da6401-a1"])
    assert done.exit_code == 1, done.output
    assert "a1_gradients (src/ann)" in done.output and "public checks passed" in done.output
    assert "sign" in done.output  # the failure is explained
    good = tmp_path / "good"
    shutil.copytree(SOLUTION, good)
    # the solution hands in no best_model.npy (a1_model: tests/assignments/da6401_a1/checks/test_script_parts.py)
    code_parts = [arg for stem in (*NETWORK_PARTS, "a1_training") for arg in ("--exercise", stem)]
    done = CliRunner().invoke(main, ["check", str(good), "--assignment", "da6401-a1", *code_parts])
    assert done.exit_code == 0 and "All public checks passed" in done.output, done.output


def test_gradescope_grades_a_repository_uploaded_as_the_submission(tmp_path):
    from grader.gradescope_run import BundleConfig, grade_gradescope_submission

    root = tmp_path / "autograder"
    materialise(BY_NAME["transposed"], root / "submission")
    (root / "submission_metadata.json").write_text(json.dumps({"id": 77, "users": [{"sid": "s9"}]}))
    data = grade_gradescope_submission(root, BundleConfig(seed=3, assignment="da6401-a1", timeout=20.0))
    names = {t["name"] for t in data["tests"]}
    assert "a1_gradients: backward.cross_entropy" in names and "Graded as student id `s9`" in data["output"]
    assert 0 < data["score"] < sum(t["max_score"] for t in data["tests"])
    assert BundleConfig(seed=3, assignment="da6401-a1").to_dict()["assignment"] == "da6401-a1"
