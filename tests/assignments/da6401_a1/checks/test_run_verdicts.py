"""The training part's runs and verdicts, and the model part's bands and configuration, in this
process: the rubric's runs as command lines, the probe's answers as TrainingRuns, how several
runs make one test, and how a handed-in model's accuracy earns credit."""
from __future__ import annotations

import numpy as np
import pytest

from grader.assignments.da6401_a1.checks.lib.accuracy import generated_private
from grader.assignments.da6401_a1.checks.lib.accuracy_bands import band_for, bands_of, bands_words
from grader.assignments.da6401_a1.checks.lib.handed_in import NO_MODEL, from_answer as handed_in_from
from grader.assignments.da6401_a1.checks.lib.training_runs import RunSpec, from_answer, from_error, run_specs
from grader.assignments.da6401_a1.checks.lib.training_verdicts import (
    architecture_verdict, judged, learning_verdict, ran_verdict, standin_note, whole_run,
)
from grader.errors import StudentCodeError
from tests.assignments.da6401_a1.checks.harness import rubric

TRAINING = rubric("a1_training").settings
MODEL = rubric("a1_model").settings
SPEC = run_specs(TRAINING, "runs")[1]  # fashion_mnist, adam, tanh, mean_squared_error, 2 x 32
RNG = np.random.default_rng(3)


def weights(sizes) -> dict:
    return {k: v for layer, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))
            for k, v in ((f"W{layer}", RNG.standard_normal((a, b)) / np.sqrt(a)), (f"b{layer}", np.zeros(b)))}


def saved(spec: RunSpec = SPEC, sizes=(784, 32, 32, 10), **answer) -> dict:
    return {"status": "ran", "seconds": 0.5, "found": "best_model.npy", "weights": weights(sizes),
            "standins": ["keras.datasets.fashion_mnist", "wandb"], **answer}


def test_the_rubrics_runs_are_the_specs_command_lines():
    assert SPEC.argv == ["-d", "fashion_mnist", "-e", "5", "-b", "32", "-l", "mean_squared_error", "-o", "adam",
                         "-lr", "0.002", "-wd", "0", "-nhl", "2", "-sz", "32", "-a", "tanh", "-w_i", "xavier"]
    assert SPEC.sizes == (784, 32, 32, 10) and SPEC.command.startswith("python src/train.py -d fashion_mnist")
    assert SPEC.label == "fashion_mnist, adam, tanh, mean_squared_error, 2 hidden layers of 32"
    mixed = RunSpec.from_table({**dict(SPEC.options), "hidden_size": [64, 32]})
    assert mixed.flag("hidden_size") == "-sz 64 32" and mixed.sizes == (784, 64, 32, 10)
    with pytest.raises(ValueError, match="missing"):
        RunSpec.from_table({"dataset": "mnist"})
    assert len(run_specs(TRAINING, "hidden_runs")) >= 6


def test_a_run_that_saved_a_model_passes_what_it_got_right():
    run = from_answer(SPEC, saved())
    assert run.saved and ran_verdict(run).passed and architecture_verdict(run).passed
    assert "keras (load_data() gave the grader's generated images" in standin_note([run])
    assert "wandb (it logged nothing)" in standin_note([run])


def test_a_model_of_other_sizes_fails_the_architecture_only():
    run = from_answer(SPEC, saved(sizes=(784, 16, 10)))
    verdict = architecture_verdict(run)
    assert not verdict.passed and "784-16-10 (1 hidden layer of 16), but -nhl 2 -sz 32 asks for 784-32-32-10" \
        in verdict.feedback
    assert ran_verdict(run).passed


def test_untrained_weights_do_not_learn_and_the_feedback_says_how_they_were_scored():
    split = generated_private("fashion_mnist", 300, 0)
    verdict = learning_verdict(from_answer(SPEC, saved()), split, 0.6)
    assert not verdict.passed and "did not learn" in verdict.feedback and "scaled to [0, 1]" in verdict.feedback
    diverged = saved()
    diverged["weights"]["W1"][0, 0] = np.inf
    assert "inf or nan" in learning_verdict(from_answer(SPEC, diverged), split, 0.6).feedback


@pytest.mark.parametrize("answer, kind, status, words", [
    ({"status": "raised", "error": "NameError: x", "traceback": '  File "src/train.py", line 3\nNameError: x'},
     "raised", "error", "crashed after"),
    ({"status": "raised", "error": "BlockedOperationError: no", "blocked": True}, "blocked", "blocked", "sandbox"),
    ({"status": "exited", "error": "2", "output": "usage: ...\ntrain.py: error: bad"}, "exited", "error",
     "exited with status 2"),
    ({"status": "no_script"}, "no_script", "missing", "no src/train.py"),
    ({"status": "ran", "found": None, "written": ["model.pkl"]}, "no_model", None, "it wrote model.pkl"),
    ({"status": "ran", "found": "best_model.npy", "weights": None, "unreadable": "it holds a str"}, "unreadable",
     None, "it holds a str"),
])
def test_each_way_a_run_goes_wrong_is_told(answer, kind, status, words):
    run = from_answer(SPEC, answer)
    assert (run.kind, run.status, run.saved) == (kind, status, False)
    assert words in run.account()


def test_a_timeout_and_the_runs_it_stopped_are_told_apart():
    timed_out = from_error(SPEC, StudentCodeError("timeout", "a1_training._train took too long", "timeout"), 60.0)
    skipped = from_error(SPEC, StudentCodeError("timeout", "Not run: _train did not finish in time."), 60.0)
    assert "did not finish within 60 s" in timed_out.problem and "was not run" in skipped.problem
    assert timed_out.status == skipped.status == "timeout"


def test_runs_that_all_failed_to_finish_give_the_test_their_status_and_quote_a_traceback_once():
    crash = {"status": "raised", "error": "NameError: x", "traceback": "  File \"src/train.py\"\nNameError: x"}
    runs = [from_answer(SPEC, crash), from_answer(SPEC, crash)]
    with pytest.raises(StudentCodeError) as raised:
        judged(runs, ran_verdict)
    assert raised.value.status == "error" and raised.value.message.count("NameError: x") == 1
    assert "The same error as above." in raised.value.message


def test_one_run_failing_costs_its_share_and_names_the_run():
    runs = [from_answer(SPEC, saved()), from_answer(SPEC, {"status": "ran", "found": None})]
    verdict = judged(runs, ran_verdict)
    assert not verdict.passed and verdict.credit == 0.5
    assert "Run 2 (fashion_mnist, adam" in verdict.feedback and "saved no best_model.npy" in verdict.feedback


def test_the_hidden_run_is_credited_by_thirds():
    verdict = whole_run(from_answer(SPEC, saved(sizes=(784, 16, 10))), {**TRAINING, "private_size": 200})
    assert not verdict.passed and verdict.credit == pytest.approx(1 / 3)  # it ran; wrong sizes; did not learn


def test_the_bands_give_the_best_band_reached():
    bands = bands_of(MODEL["bands"]["mnist"])
    assert band_for(0.975, bands).credit == 1.0 and band_for(0.96, bands).credit == 0.75
    assert band_for(0.5, bands) is None
    assert bands_words(bands).startswith("full credit from 0.97, 0.75 from 0.95")
    with pytest.raises(ValueError):
        bands_of([[1.5, 1.0]])


def test_a_handed_in_configuration_names_the_data_set_and_the_activation():
    answer = {"found": "best_model.npy", "weights": weights((784, 8, 10)), "has_config": True,
              "config": {"dataset": "Fashion-MNIST", "activation": "ReLU"}}
    model = handed_in_from(answer, "mnist")
    assert (model.dataset, model.activation, model.notes) == ("fashion_mnist", "relu", ())
    bare = handed_in_from({**answer, "config": None, "has_config": False}, "mnist")
    assert (bare.dataset, bare.activation) == ("mnist", None)
    assert any("no best_config.json" in note for note in bare.notes)
    assert any("sigmoid, tanh and relu, and the best counts" in note for note in bare.notes)
    wrong = handed_in_from({**answer, "weights": weights((784, 8, 5))}, "mnist")
    assert wrong.network is None and "gives 10 logits" in wrong.problem
    assert handed_in_from({"found": None}, "mnist").problem == NO_MODEL
