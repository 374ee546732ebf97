"""Central differences of the student's own forward, with the reference's loss on its logits.

For each parameter entry theta_i, the five-point stencil

    dL/dtheta_i ~ (-L(+2h) + 8 L(+h) - 8 L(-h) + L(-2h)) / (12 h)       error O(h^4)

with L(+kh) the batch-mean loss of forward's logits when theta_i alone is moved by k h. With
h = 1e-3 the truncation error (~h^4) and the rounding error (~eps L / h) both stay near 1e-12,
far inside the spec's 1e-7 per tensor, for both losses. The four forwards of every entry are
sent in one request (the probe's `_logits_moved`), so a case costs one round trip.

A network of 784 inputs has thousands of W0 entries, so a gradient-check case uses an X that
is zero outside a few input columns (`Case.active`): Z_0 = X @ W0 + b0 does not depend on the
other rows of W0 at all, so their numerical gradient is exactly 0 and only the active rows are
differenced (backward must give 0 on the others too). ReLU cases keep every hidden
pre-activation at least `kink_margin` from 0 (see `cases.clear_kinks`), beyond the stencil's reach.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from grader.assignments.da6401_a1.checks.lib.calls import Logits, Network, logits_moved
from grader.assignments.da6401_a1.checks.lib.cases import Case, tensor_name
from grader.checks.base import CheckContext, fail
from grader.checks.lib.answers import AnswerError

STENCIL: tuple[tuple[int, float], ...] = ((2, -1.0), (1, 8.0), (-1, -8.0), (-2, 1.0))  # (k, weight of L(+kh))

Entry = tuple[int, tuple[int, ...]]  # (flat tensor index, index inside the tensor, reference orientation)


def differenced_entries(case: Case) -> list[Entry]:
    """Every entry of every tensor, except the rows of W0 whose inputs are zero throughout."""
    entries = []
    for index, tensor in enumerate(case.params):
        for entry in np.ndindex(tensor.shape):
            if index == 0 and case.active is not None and entry[0] not in case.active:
                continue
            entries.append((index, entry))
    return entries


def stencil_moves(case: Case, net: Network, entries: list[Entry], step: float) -> list[list]:
    """The moves for `_logits_moved`: per entry, [[key, [flat index], [value]]] for each k of STENCIL."""
    moves = []
    for index, entry in entries:
        base = float(case.params[index][entry])
        at = net.layout.flat_index(index, entry)
        for k, _ in STENCIL:
            moves.append([[tensor_name(index), [at], [base + k * step]]])
    return moves


def assemble(case: Case, entries: list[Entry], answers: list[Logits], step: float) -> list[np.ndarray]:
    """The numerical gradient of every tensor (reference orientation) from the stencil's logits."""
    losses = [case.loss_of(answer.values) for answer in answers]
    if not np.all(np.isfinite(losses)):
        raise AnswerError(fail(f"The {case.loss} of forward's logits is not finite while single weights move by "
                               f"{step:g} ({case.label()})."))
    grads = [np.zeros(tensor.shape) for tensor in case.params]
    for n, (index, entry) in enumerate(entries):
        values = losses[len(STENCIL) * n:len(STENCIL) * (n + 1)]
        grads[index][entry] = sum(w * value for (_, w), value in zip(STENCIL, values)) / (12.0 * step)
    return grads


def numerical_gradients(ctx: CheckContext, net: Network, case: Case, settings: dict,
                        timeout: Optional[float] = None) -> list[np.ndarray]:
    """dL/dtheta of the student's forward (loaded with the case's weights) and the reference's loss."""
    step = float(settings.get("gradcheck_step", 1e-3))
    entries = differenced_entries(case)
    answers = logits_moved(ctx, net, case.X, stencil_moves(case, net, entries, step), timeout=timeout)
    return assemble(case, entries, answers, step)


def flat_slopes(grads: list[np.ndarray], min_slope: float) -> bool:
    """True when the numerical gradient is ~0 everywhere: a forward that ignores its weights
    agrees with any backward, so such a check proves nothing."""
    return float(np.sqrt(sum(np.sum(g * g) for g in grads))) <= min_slope
