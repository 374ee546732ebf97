"""The probe's helpers, run in this process on the solution's `ann` (the staged layout, imported here)."""
from __future__ import annotations

import argparse
import types
from pathlib import Path

import numpy as np
import pytest

from grader.assignments.da6401_a1.checks.lib.cases import draw_case, network_options
from grader.assignments.da6401_a1.inside import PROBE
from grader.assignments.da6401_a1.reference.network import forward
from tests.assignments.da6401_a1.catalogue import Variant
from tests.assignments.da6401_a1.checks.harness import forget, stage

SIZES = (784, 7, 5, 10)


@pytest.fixture
def probe(tmp_path: Path):
    """The probe module as staged for a part, executed with the solution's repository beside it."""
    folder = stage(Variant("solution", None, ()), tmp_path / "staged", ("a1_forward",))
    module = types.ModuleType("a1_forward")
    module.__file__ = str(folder / "a1_forward.py")
    forget(folder)
    try:
        exec(compile(PROBE.read_text(), str(PROBE), "exec"), module.__dict__)  # noqa: S102 - the grader's own probe
        yield module
    finally:
        forget(folder)


def test_the_probe_puts_the_repository_first_and_imports_its_network(probe):
    assert probe.NeuralNetwork.__module__ == "ann.neural_network"
    assert Path(probe.NeuralNetwork.__init__.__code__.co_filename).is_relative_to(Path(probe.__file__).parent / "tree")


def test_a_network_is_built_from_the_options_with_the_optimizers_extras(probe):
    net = probe._network(network_options(SIZES, "relu", optimizer="adam", extra={"beta1": 0.8}))
    assert isinstance(net.args, argparse.Namespace) and net.args.beta1 == 0.8 and net.args.epsilon == 1e-8
    assert [layer.W.shape for layer in net.layers] == [(784, 7), (7, 5), (5, 10)]


def test_layers_are_found_by_what_they_hold(probe):
    net = probe._network(network_options(SIZES, "tanh"))
    case = draw_case(np.random.default_rng(0), SIZES, "tanh")
    net.backward(case.labels, net.forward(case.X))
    grads = probe._layer_grads(net)
    assert [np.shape(g) for g, _ in grads] == [(784, 7), (7, 5), (5, 10)]
    assert probe._layer_grads(types.SimpleNamespace(layers=[object()])) is None


def test_moved_logits_are_each_their_own_and_the_weights_come_back(probe):
    case = draw_case(np.random.default_rng(1), SIZES, "sigmoid")
    net = probe._network(network_options(SIZES, "sigmoid"))
    net.set_weights({f"{k}{layer}": p for layer, pair in enumerate(zip(case.weights, case.biases))
                     for k, p in zip("Wb", pair)})
    before = net.get_weights()
    moves = [[["W1", np.array([3]), np.array([2.0])]], [], [["b2", [0, 1], [0.5, -0.5]]]]
    answers = probe._logits_moved(net, case.X, moves)
    weights, biases = [w.copy() for w in case.weights], [b.copy() for b in case.biases]
    weights[1].reshape(-1)[3] = 2.0
    np.testing.assert_allclose(answers[0], forward(weights, case.biases, case.X, "sigmoid")[0], rtol=1e-12)
    np.testing.assert_allclose(answers[1], case.reference_logits(), rtol=1e-12)
    biases[2][:2] = (0.5, -0.5)
    np.testing.assert_allclose(answers[2], forward(case.weights, biases, case.X, "sigmoid")[0], rtol=1e-12)
    assert all(np.array_equal(before[k], v) for k, v in net.get_weights().items())
