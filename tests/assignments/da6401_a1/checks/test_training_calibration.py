"""The training part's threshold holds with room to spare: the solution, trained with each of the
rubric's runs (public and hidden) and two seeds of its own, clears min_accuracy on the private
split by a wide margin, in a small fraction of the run's timeout."""
from __future__ import annotations

import sys

import pytest

from grader.assignments.da6401_a1.checks.lib.accuracy import accuracy, generated_private
from grader.assignments.da6401_a1.checks.lib.saved_weights import read_network
from grader.assignments.da6401_a1.checks.lib.training_runs import from_answer, run_specs
from tests.assignments.da6401_a1.checks.harness import forget, rubric
from tests.assignments.da6401_a1.checks.test_probe_scripts import probe_in, staged

SETTINGS = rubric("a1_training").settings
RUNS = run_specs(SETTINGS, "runs") + run_specs(SETTINGS, "hidden_runs")
SEEDS = ("0", "1")  # the solution's own --seed: its initialisation, shuffling and validation split
MARGIN = 0.15


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    folder = staged(tmp_path_factory.mktemp("calibration") / "staged")
    forget(folder)
    saved_path = list(sys.path)
    try:
        yield probe_in(folder)
    finally:
        sys.path[:] = saved_path
        forget(folder)


@pytest.mark.parametrize("spec", RUNS, ids=lambda spec: spec.label)
def test_the_solution_learns_every_run_well_above_the_threshold(probe, spec):
    split = generated_private(spec.dataset, int(SETTINGS["private_size"]), int(SETTINGS["private_seed"]))
    for seed in SEEDS:
        run = from_answer(spec, probe._train([*spec.argv, "--seed", seed]))
        assert run.saved, run.account()
        assert read_network(run.weights).sizes == spec.sizes
        assert accuracy(read_network(run.weights), spec.activation, split) >= SETTINGS["min_accuracy"] + MARGIN
        assert run.seconds < SETTINGS["timeout"] / 20
