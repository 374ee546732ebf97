"""grade_submission end to end: solutions score full marks, stubs score 0 politely, nothing leaks.

Submissions are built in tmp from the repository's solutions (see tests/grader/hostile/) and
graded in the real sandbox ("auto": bubblewrap where it runs). Hostile submissions have their
own file, test_hostile_submissions.py.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.checks.base import Check, ok
from grader.checks.registry import checks_for
from grader.checks.runner import run_exercise
from grader.pipeline import grade_submission
from grader.rubric import Rubric, RubricItem
from grader.submission.discover import Submission
from grader.submission.staging import stage
from grader.worker import sandbox as sb
from grader.worker.client import WorkerClient
from tests.grader.hostile.submissions import (
    EX1,
    EX2,
    EX3,
    EX4,
    EX5,
    SOLUTIONS,
    append_code,
    exercises_of,
    full_marks,
    grade_folder,
    grading_options,
    live_descendants,
    results_by_name,
    solved_folder,
    stub_folder,
)

NOT_IMPLEMENTED = "{} is not implemented yet (it raises NotImplementedError)."


@pytest.fixture(scope="module")
def options():
    return grading_options(timeout=5.0)


@pytest.fixture(scope="module")
def solved(tmp_path_factory, options):
    """Modules for most exercises, notebooks for two, one endless `__main__` block: graded once."""
    folder = solved_folder(tmp_path_factory.mktemp("solved"), "s042", notebooks=(EX3, EX5))
    append_code(folder, EX1, "if __name__ == '__main__':\n    while True:\n        pass")
    before = live_descendants()
    result = grade_folder(folder, options)
    return result, live_descendants() - before


@pytest.fixture(scope="module")
def stubs(tmp_path_factory, options):
    return grade_folder(stub_folder(tmp_path_factory.mktemp("stubs"), "s043"), options)


def test_solutions_score_full_marks_with_no_errors(solved):
    result, leftovers = solved
    assert (result.score, result.max_score) == (100.0, 100.0)
    assert result.errors == [] and result.student == "s042"
    assert all(full_marks(ex) and ex.cell_errors == [] for ex in result.exercises)
    assert result.sandbox == ("bwrap" if sb.detect_bwrap() else "none")
    assert leftovers == set()


def test_the_report_names_each_exercises_source_file(solved):
    result, _ = solved
    sources = {ex.name: ex.source for ex in result.exercises}
    assert sources[EX1] == f"{EX1}.py" and sources[EX3] == f"{EX3}.ipynb" and sources[EX5] == f"{EX5}.ipynb"
    assert len(result.sha256) == 64


def test_the_repository_solutions_folder_scores_full_marks_as_student_solutions(options):
    # its notebooks win over the .py copies beside them, with a warning for each
    result = grade_submission(Submission("solutions", SOLUTIONS, "dir"), options)
    assert (result.score, result.max_score, result.errors) == (100.0, 100.0, [])
    assert {ex.source for ex in result.exercises} == {f"{ex.name}.ipynb" for ex in result.exercises}


def test_stubs_score_zero_with_errors_and_never_crash(stubs):
    assert (stubs.score, stubs.max_score) == (0.0, 100.0)
    assert stubs.errors == []
    for exercise in stubs.exercises:
        statuses = {t.status for t in exercise.tests}
        # HAND_ANSWERS is a dict of placeholders, not code: its checks fail rather than raise
        expected = {"error", "failed"} if exercise.name == EX2 else {"error"}
        assert statuses == expected, exercise.name
        assert all(t.score == 0 for t in exercise.tests)


@pytest.mark.parametrize("exercise, test, function", [
    (EX1, "sigmoid.values", "sigmoid"),
    (EX1, "softmax_jacobian.values", "softmax_jacobian"),
    (EX2, "forward_backward_221.lecture_case", "forward_backward_221"),
    (EX3, "init_params.shapes", "init_params"),
])
def test_a_stub_says_which_function_is_not_implemented_yet(stubs, exercise, test, function):
    assert results_by_name(exercises_of(stubs)[exercise])[test].feedback == NOT_IMPLEMENTED.format(function)


@pytest.mark.parametrize("exercise, prefix", [(EX4, "Value."), (EX5, "Tensor.")])
def test_a_stub_method_is_named_with_its_class(stubs, exercise, prefix):
    feedback = [t.feedback for t in exercises_of(stubs)[exercise].tests if t.name.startswith(prefix)]
    assert feedback and all(f.startswith(prefix) and f.endswith(NOT_IMPLEMENTED.format("")) for f in feedback)


def test_public_only_runs_only_the_visible_tests(tmp_path, options):
    folder = solved_folder(tmp_path, "s044")
    for stem in (EX3, EX4, EX5):
        (folder / f"{stem}.py").unlink()
    result = grade_folder(folder, grading_options(timeout=5.0, hidden=False, exercises=(EX1, EX3)))
    assert [ex.name for ex in result.exercises] == [EX1, EX3]
    assert all(t.visibility == "visible" for ex in result.exercises for t in ex.tests)
    ex1, ex3 = result.exercises
    assert full_marks(ex1)
    assert ex3.source is None and {t.status for t in ex3.tests} == {"missing"}


def test_a_submission_with_nothing_to_grade_gets_a_full_report_of_zeros(tmp_path, options):
    folder = tmp_path / "empty_student"
    folder.mkdir()
    (folder / "notes.txt").write_text("I ran out of time")
    result = grade_folder(folder, options)
    assert [e.kind for e in result.errors] == ["bad_submission"]
    assert (result.score, result.max_score) == (0.0, 100.0)
    assert {t.status for ex in result.exercises for t in ex.tests} == {"missing"}


def test_a_malformed_program_spec_is_reported_as_the_graders_fault(tmp_path):
    folder = tmp_path / "s045"
    folder.mkdir()
    shutil.copyfile(SOLUTIONS / f"{EX4}.py", folder / f"{EX4}.py")
    staged = stage(Submission("s045", folder, "dir"), tmp_path / "staged")

    def bad_spec(ctx):
        ctx.program("value_graph", {"nodes": "not a list of nodes"})
        return ok()

    rubric = Rubric(EX4, "spec", {"spec.malformed": RubricItem(1.0)})
    with WorkerClient(staged.folder) as client:
        run = run_exercise(EX4, client, rubric=rubric, checks=[Check(EX4, "spec.malformed", bad_spec)],
                           source=f"{EX4}.py")
        result, errors = run.result, run.events
    [test] = result.tests
    assert test.status == "error" and test.score == 0
    assert "its own fault, not yours" in test.feedback  # the student is told it is not their code
    assert [e.kind for e in errors] == ["crash"]
    assert "malformed value_graph spec" in errors[0].message  # the instructor gets the details


# ---------------------------------------------------------------- workers started ahead


def _worker_dirs() -> set[str]:
    import tempfile
    from pathlib import Path

    return {p.name for p in Path(tempfile.gettempdir()).glob("bpg-worker-*")}


@pytest.fixture
def taken(monkeypatch):
    """Every worker grade_submission takes from a supply, in order: (client, uid, pid, whether it
    was already starting on standby when asked for, its folder)."""
    import grader.pipeline as pipeline

    clients = []
    real = pipeline.WorkerSupply.take

    def take(self):
        was_starting = self._standby is not None
        client = real(self)
        clients.append((client, client.uid, client.worker_pid, was_starting, Path(client._dirs.root)))
        return client

    monkeypatch.setattr(pipeline.WorkerSupply, "take", take)
    return clients


def test_in_a_batch_the_next_worker_is_up_before_its_submission_and_each_gets_its_own(tmp_path, taken):
    from grader.pipeline import workers_started_ahead

    options = grading_options(exercises=(EX1,))
    folders = [solved_folder(tmp_path, student) for student in ("s101", "s102", "s103")]
    before = live_descendants()
    with workers_started_ahead(options, count=3) as supply:
        first = grade_folder(folders[0], options, supply=supply)
        standby, starting = supply._standby  # the next submission's worker, started during the first
        starting.result(timeout=30)
        assert standby.worker_pid is not None and standby.staged_dir is None
        rest = [grade_folder(folder, options, supply=supply) for folder in folders[1:]]
        assert supply._standby is None  # no worker boots after the last of the three
    assert all(full_marks(r.exercises[0]) and r.errors == [] for r in [first, *rest])
    # two workers per submission (visible checks, then hidden ones), every one started ahead
    assert len(taken) == 6 and taken[2][0] is standby and all(t[3] for t in taken)
    assert len({t[1] for t in taken}) == 6 and len({t[2] for t in taken}) == 6
    # each worker's own folders are gone (a glob of the temp folder would also see other runs')
    assert live_descendants() - before == set() and not any(t[4].exists() for t in taken)


def test_a_bad_submission_leaves_the_started_worker_to_the_next_one(tmp_path, taken):
    from grader.pipeline import workers_started_ahead

    options = grading_options(exercises=(EX1,))
    empty = tmp_path / "s104"
    empty.mkdir()
    good = solved_folder(tmp_path, "s105")
    with workers_started_ahead(options, count=2) as supply:
        bad = grade_folder(empty, options, supply=supply)
        result = grade_folder(good, options, supply=supply)
    assert [e.kind for e in bad.errors] == ["bad_submission"] and full_marks(result.exercises[0])
    assert len(taken) == 2  # the good submission's two workers: the unreadable one needed none


def test_the_hidden_checks_get_a_fresh_worker_that_started_during_the_visible_ones(tmp_path, taken):
    result = grade_folder(solved_folder(tmp_path, "s108"), grading_options(exercises=(EX1, EX3)))
    assert [full_marks(ex) for ex in result.exercises] == [True, True] and result.errors == []
    (visible, visible_uid, visible_pid, _, _), (hidden, hidden_uid, hidden_pid, prestarted, _) = taken
    assert hidden is not visible and hidden_uid != visible_uid and hidden_pid != visible_pid
    assert prestarted  # asked for after the visible checks, it was already on its way
    assert hidden.starts == 1  # no restart: the solutions' hidden checks ran in that one worker


def test_a_self_check_uses_one_worker(tmp_path, taken):
    result = grade_folder(solved_folder(tmp_path, "s109"),
                          grading_options(hidden=False, exercises=(EX1, EX3)))
    assert all(full_marks(ex) for ex in result.exercises) and len(taken) == 1


def test_an_exercise_without_its_file_keeps_its_hidden_tests_in_the_report(tmp_path, taken):
    folder = solved_folder(tmp_path, "s110")
    (folder / f"{EX3}.py").unlink()
    result = grade_folder(folder, grading_options(exercises=(EX1, EX3)))
    ex1, ex3 = result.exercises
    assert full_marks(ex1) and ex3.source is None
    assert [t.name for t in ex3.tests] == [c.name for c in checks_for(EX3, hidden=True)[1]]
    assert {t.status for t in ex3.tests} == {"missing"} and len(taken) == 2


def test_a_module_whose_loading_timed_out_is_not_loaded_again_for_the_hidden_checks(tmp_path, taken):
    folder = solved_folder(tmp_path, "s112")
    append_code(folder, EX1, "while True:\n    pass")
    [ex1] = grade_folder(folder, grading_options(exercises=(EX1,), load_timeout=2.0)).exercises
    assert {t.status for t in ex1.tests} == {"timeout"}
    assert len({t.feedback for t in ex1.tests}) == 1  # visible and hidden tests: the same load timeout
    (_, *_), (hidden, *_) = taken
    assert hidden.events == [] and hidden.starts == 1  # the hidden worker never ran the endless import


def test_with_no_file_to_run_hidden_checks_on_no_hidden_worker_is_taken(tmp_path, taken):
    folder = solved_folder(tmp_path, "s111")
    (folder / f"{EX3}.py").unlink()
    [ex3] = grade_folder(folder, grading_options(exercises=(EX3,))).exercises
    assert [t.name for t in ex3.tests] == [c.name for c in checks_for(EX3, hidden=True)[1]]
    assert {t.status for t in ex3.tests} == {"missing"} and len(taken) == 1


def test_a_single_grade_stops_its_worker_even_when_the_submission_is_unreadable(tmp_path):
    options = grading_options(exercises=(EX1,))
    empty = tmp_path / "s106"
    empty.mkdir()
    before, dirs = live_descendants(), _worker_dirs()
    result = grade_folder(empty, options)
    assert [e.kind for e in result.errors] == ["bad_submission"]
    assert live_descendants() - before == set() and _worker_dirs() - dirs == set()


def test_a_worker_that_does_not_start_fails_that_grade_only(tmp_path, monkeypatch):
    import grader.pipeline as pipeline
    from grader.errors import GraderError

    options = grading_options(exercises=(EX1,))
    folder = solved_folder(tmp_path, "s107")
    real = pipeline.WorkerClient.start
    failures = iter([True])

    def start_once_failing(self):
        if next(failures, False):
            raise GraderError("the bwrap worker did not start")
        real(self)

    monkeypatch.setattr(pipeline.WorkerClient, "start", start_once_failing)
    with pipeline.workers_started_ahead(options, count=2) as supply:
        with pytest.raises(GraderError, match="did not start"):
            grade_folder(folder, options, supply=supply)
        assert full_marks(grade_folder(folder, options, supply=supply).exercises[0])
