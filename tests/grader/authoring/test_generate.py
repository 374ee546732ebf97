"""The generator: its output is what is on disk, and `--check` catches drift."""
from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from grader.authoring import EXERCISES
from grader.authoring.generate import drifted_files, generated_files, main, write_generated

from .conftest import ROOT


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return generated_files(ROOT)


def test_every_generated_file_matches_the_one_on_disk(generated):
    drifted = [path for path, text in generated.items()
               if not (ROOT / path).is_file() or (ROOT / path).read_text(encoding="utf-8") != text]
    assert drifted == [], "run `python -m grader.authoring.generate` and commit the result"


def test_each_exercise_gets_a_solution_module_and_a_student_notebook_and_module(generated):
    kinds = [("solutions", "py"), ("exercises", "ipynb"), ("exercises", "py")]
    expected = {f"{folder}/{stem}.{ext}" for stem in EXERCISES for folder, ext in kinds}
    assert set(generated) == expected


def test_exercises_folder_holds_only_generated_files(generated):
    on_disk = {f"exercises/{p.name}" for p in (ROOT / "exercises").iterdir()
               if p.is_file() and not p.name.startswith(".")}
    assert on_disk <= set(generated)


@pytest.fixture
def repo_copy(tmp_path):
    """A scratch repository with the source notebooks and the generated files."""
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    return tmp_path


def test_check_mode_names_the_drifted_file_and_exits_1(repo_copy):
    stub = repo_copy / "exercises" / "ex4_autograd_scalar.py"
    stub.write_text(stub.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")
    (repo_copy / "solutions" / "ex1_activations_losses.py").unlink()

    result = CliRunner().invoke(main, ["--check", "--root", str(repo_copy)])

    assert result.exit_code == 1
    assert "out of date: exercises/ex4_autograd_scalar.py" in result.output
    assert "out of date: solutions/ex1_activations_losses.py" in result.output
    assert "ex2_hand_calculation" not in result.output


def test_writing_repairs_the_drift(repo_copy):
    stub = repo_copy / "exercises" / "ex6_gradient_descent.py"
    stub.write_text("drifted\n", encoding="utf-8")

    assert write_generated(repo_copy) == ["exercises/ex6_gradient_descent.py"]
    assert drifted_files(repo_copy) == []
    result = CliRunner().invoke(main, ["--check", "--root", str(repo_copy)])
    assert result.exit_code == 0, result.output


def test_a_missing_source_notebook_is_named(repo_copy):
    (repo_copy / "solutions" / "ex3_mlp_backprop.ipynb").unlink()
    with pytest.raises(FileNotFoundError, match="ex3_mlp_backprop.ipynb"):
        generated_files(repo_copy)
