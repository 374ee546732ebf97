"""Central differences as the gradient checks take them, with the probe's moves applied here."""
from __future__ import annotations

import numpy as np
import pytest

from grader.assignments.da6401_a1.checks.lib.calls import Logits, Network
from grader.assignments.da6401_a1.checks.lib.cases import draw_case
from grader.assignments.da6401_a1.checks.lib.gradient_evidence import wrong_tensors
from grader.assignments.da6401_a1.checks.lib.layout import Layout
from grader.assignments.da6401_a1.checks.lib.numerical import assemble, differenced_entries, flat_slopes, stencil_moves
from grader.assignments.da6401_a1.reference.network import forward

SIZES = (784, 7, 5, 10)


def logits_under(moves: list, net: Network, params: list[np.ndarray], X: np.ndarray) -> list[Logits]:
    """What the probe's `_logits_moved` answers for a network computing the reference's forward."""
    layout = net.layout
    answers = []
    for move in moves:
        stored = layout.to_student(params)
        for key, index, values in move:
            stored[key].reshape(-1)[index] = values
        keys = [f"{k}{layer}" for layer in range(layout.depth) for k in "Wb"]
        moved = [layout.to_reference(i, stored[key]) for i, key in enumerate(keys)]
        logits = forward(moved[0::2], moved[1::2], X, net.options["activation"])[0]
        answers.append(Logits(logits, False, logits))
    return answers


@pytest.mark.parametrize("transposed", [False, True], ids=["n_in x n_out", "n_out x n_in"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mean_squared_error"])
def test_the_stencil_agrees_with_the_reference_far_inside_the_tolerance(activation, loss, transposed):
    rng = np.random.default_rng(3)
    for batch in (1, 6):
        case = draw_case(rng, SIZES, activation, loss, batch=batch, active_inputs=4, kink_margin=0.02)
        net = Network({}, Layout(SIZES, (transposed,) * 3, ((7,), (5,), (10,))), {"activation": activation})
        entries = differenced_entries(case)
        assert len(entries) == 4 * 7 + 7 + 7 * 5 + 5 + 5 * 10 + 10  # W0's active rows only
        numeric = assemble(case, entries, logits_under(stencil_moves(case, net, entries, 1e-3), net, case.params,
                                                        case.X), 1e-3)
        assert not wrong_tensors(numeric, case.reference_gradients(), 1e-9)
        assert not flat_slopes(numeric, 1e-8)


def test_relu_cases_keep_clear_of_the_kinks_and_alive():
    rng = np.random.default_rng(4)
    for _ in range(20):
        case = draw_case(rng, SIZES, "relu", batch=9, active_inputs=4, kink_margin=0.02)
        _, cache = forward(case.weights, case.biases, case.X, "relu")
        for Z in cache.pre_activations[:-1]:
            assert np.min(np.abs(Z)) >= 0.02 and np.all((Z > 0).any(axis=0))
