"""Calling `backward` another way, to name an interface slip when the contract's call fails.

The contract's call is `backward(y_true, y_pred)` with y_pred the logits forward returned and
y_true integer labels (B,) or one-hot rows (B, C). When it raises or gives wrong gradients, the
same network is asked again (right after the same forward):

- `backward(y_true, softmax(logits))` right: `expects_probabilities`;
- `backward(logits, y_true)` right: `arguments_swapped`;
- for one-hot targets, `backward(labels, logits)` right: `labels_int_only`.

A slip is named only when its call gives the right gradients, to `diagnosis_rtol`.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from grader.assignments.da6401_a1.checks.lib.calls import Logits, Network, backward, read_gradients
from grader.assignments.da6401_a1.checks.lib.cases import Case
from grader.assignments.da6401_a1.checks.lib.gradient_evidence import wrong_tensors
from grader.assignments.da6401_a1.reference.losses import softmax
from grader.checks.base import CheckContext
from grader.checks.lib.answers import AnswerError
from grader.errors import StudentCodeError

# convention -> the diagnosis code it names; "contract" is the spec's own call
CONVENTIONS: dict[str, Optional[str]] = {
    "contract": None,
    "probabilities": "expects_probabilities",
    "swapped": "arguments_swapped",
    "labels": "labels_int_only",
}
CALL_WORDS = {
    "probabilities": "called with softmax(logits) as y_pred it is right",
    "swapped": "called as backward(y_pred, y_true) it is right",
    "labels": "called with the same targets as integer labels it is right",
}


def call_backward(ctx: CheckContext, net: Network, case: Case, logits: Logits, convention: str) -> Any:
    """backward on the last forward's logits, in the given convention."""
    if convention == "probabilities":
        return backward(ctx, net, case.targets, softmax(logits.values))
    if convention == "swapped":
        return backward(ctx, net, logits.raw, case.targets)
    if convention == "labels":
        return backward(ctx, net, case.labels, logits.raw)
    return backward(ctx, net, case.targets, logits.raw)


def right_under(ctx: CheckContext, net: Network, case: Case, logits: Logits, convention: str,
                right: Sequence[np.ndarray], tol: float) -> bool:
    """True when backward in this convention answers, without slips, within `tol` of `right`."""
    try:
        grads = read_gradients(call_backward(ctx, net, case, logits, convention), net.layout)
    except (StudentCodeError, AnswerError):
        return False
    return grads.slip is None and not wrong_tensors(grads.tensors, right, tol)


def interface_slip(ctx: CheckContext, net: Network, case: Case, logits: Logits, right: Sequence[np.ndarray],
                   settings: dict) -> Optional[tuple[str, str]]:
    """(code, words) of the first other call that gives the right gradients, or None."""
    tol = settings.get("diagnosis_rtol", 1e-4)
    conventions = ["probabilities", "swapped"] + (["labels"] if case.form == "one_hot" else [])
    for convention in conventions:
        if right_under(ctx, net, case, logits, convention, right, tol):
            return CONVENTIONS[convention], CALL_WORDS[convention]
    return None
