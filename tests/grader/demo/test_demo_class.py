"""The demo class in the README's first command: up to date, and graded as its docstring promises."""

import pytest

from grader.batch import grade_batch
from grader.demo import build
from grader.pipeline import GradingOptions


def test_demo_class_is_up_to_date_with_the_solutions(capsys):
    assert build.main(["--check"]) == 0, capsys.readouterr().out


def test_a_patch_that_no_longer_matches_fails_loudly(monkeypatch):
    student = build.DemoStudent("x", "py", patches={"ex1_activations_losses": (("no such text", "y"),)})
    with pytest.raises(SystemExit, match="matches 0 times"):
        build.patched_source("ex1_activations_losses", student)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-grades")
    batch = grade_batch([build.CLASS_DIR], out_dir=out, options=GradingOptions(seed=7), jobs=1)
    return {r.student: r for r in batch.results}


def codes(result, exercise):
    ex = next(e for e in result.exercises if e.name == exercise)
    return {t.diagnosis for t in ex.tests if t.diagnosis}


def score(result, exercise):
    ex = next(e for e in result.exercises if e.name == exercise)
    return ex.score, ex.max_score


def test_ada_gets_full_marks(graded):
    assert graded["ada"].score == graded["ada"].max_score == 100
    assert graded["ada"].errors == []


def test_ben_loses_points_for_two_named_mistakes(graded):
    ben = graded["ben"]
    assert "softmax_unstable" in codes(ben, "ex1_activations_losses")
    assert codes(ben, "ex3_mlp_backprop") == {"batch_mean_twice"}
    for other in ("ex2_hand_calculation", "ex4_autograd_scalar", "ex5_autograd_tensor", "ex6_gradient_descent"):
        got, full = score(ben, other)
        assert got == full, other


def test_cleo_zip_shows_engine_mistakes_and_a_missing_exercise(graded):
    cleo = graded["cleo"]
    assert "gradient_overwritten" in codes(cleo, "ex4_autograd_scalar")
    assert "broadcast_grad_not_reduced" in codes(cleo, "ex5_autograd_tensor")
    ex6 = next(e for e in cleo.exercises if e.name == "ex6_gradient_descent")
    assert ex6.source is None and {t.status for t in ex6.tests} == {"missing"}


def test_dev_broken_work_is_contained_and_reported(graded):
    dev = graded["dev"]
    kinds = {(e.kind, e.exercise) for e in dev.errors}
    assert ("bad_submission", "ex1_activations_losses") in kinds
    assert ("memory", "ex3_mlp_backprop") in kinds
    assert ("crash", "ex5_autograd_tensor") in kinds
    assert score(dev, "ex1_activations_losses")[0] == 0 and score(dev, "ex5_autograd_tensor")[0] == 0
    assert score(dev, "ex2_hand_calculation")[0] == score(dev, "ex2_hand_calculation")[1]  # untouched work still counts
    assert all(len([e for e in dev.errors if (e.kind, e.exercise) == k]) == 1 for k in kinds)  # one entry per event kind


def test_every_student_has_the_same_maximum(graded):
    assert {r.max_score for r in graded.values()} == {100.0}
