"""The mistakes a wrong `forward` shows, and weights the student's `set_weights` reads another way.

Logits are compared with the reference's (norm-relative error, float64). A wrong answer is
explained when it equals, to `diagnosis_rtol`, what one known slip computes from the same
weights: a hidden activation applied twice (`activation_applied_twice`), the softmax applied in
forward (probabilities where logits belong), the output layer activated, the biases or the
hidden activations left out. A forward that raises or is wrong right after `set_weights` may
read the weights another way than `get_weights` writes them: loading them transposed
(`transposed`) or in the reverse layer order (`layer_order_reversed`) is tried, and named when
it gives the right logits.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from grader.assignments.da6401_a1.checks.lib.calls import Network, forward
from grader.assignments.da6401_a1.checks.lib.cases import Case
from grader.assignments.da6401_a1.reference.activations import activation_pair
from grader.assignments.da6401_a1.reference.losses import softmax
from grader.assignments.da6401_a1.reference.network import forward as reference_forward
from grader.checks.base import CheckContext
from grader.checks.compare import relative_error
from grader.checks.lib.answers import AnswerError
from grader.errors import StudentCodeError

Slip = tuple[Optional[str], str]  # (diagnosis code or None, the mistake in words)


def layered(case: Case, hidden: Callable[[np.ndarray], np.ndarray], with_biases: bool = True) -> np.ndarray:
    """Z_l = A_l @ W_l (+ b_l), A_{l+1} = hidden(Z_l) on hidden layers, logits = Z_{L-1}."""
    A = case.X
    for layer, (W, b) in enumerate(zip(case.weights, case.biases)):
        Z = A @ W + (b if with_biases else 0.0)
        A = Z if layer == case.depth - 1 else hidden(Z)
    return A


def forward_variants(case: Case) -> list[tuple[Optional[str], str, np.ndarray]]:
    """(code, words, logits) of each slip, for this case's weights; those equal to the right logits left out."""
    act, _ = activation_pair(case.activation)
    right = case.reference_logits()
    variants = [
        ("activation_applied_twice", "a hidden activation is applied twice", layered(case, lambda Z: act(act(Z)))),
        (None, "forward returns probabilities, softmax(logits); it must return the logits (the softmax belongs "
               "to the loss)", softmax(right)),
        (None, f"the output layer applies {case.activation} too; it must return its pre-activation, the logits",
         act(right)),
        (None, "the biases are left out", layered(case, act, with_biases=False)),
        (None, "the hidden layers apply no activation", layered(case, lambda Z: Z)),
    ]
    return [(code, words, v) for code, words, v in variants if relative_error(v, right) > 1e-12]


def forward_slip(logits: np.ndarray, case: Case, tol: float) -> Optional[Slip]:
    """The slip whose logits these are, or, for rows that are distributions, the softmax in forward."""
    for code, words, variant in forward_variants(case):
        if variant.shape == logits.shape and relative_error(logits, variant) <= tol:
            return code, words
    if np.all(logits >= 0) and np.allclose(logits.sum(axis=1), 1.0, rtol=0.0, atol=1e-9):
        return None, "each row sums to 1: forward seems to return probabilities where the logits belong"
    return None


def loading_alternatives(net: Network, case: Case) -> list[tuple[str, str, dict]]:
    """(code, words, weights for set_weights): the case's weights transposed, and in reverse layer order."""
    stored = net.layout.to_student(case.params)
    depth = net.layout.depth
    transposed = {key: value.T.copy() if key.startswith("W") else value for key, value in stored.items()}
    reverse = {f"{kind}{layer}": stored[f"{kind}{depth - 1 - layer}"] for layer in range(depth) for kind in "Wb"}
    return [("transposed", "set_weights reads each W transposed, the other way from how get_weights returns it",
             transposed),
            ("layer_order_reversed", "set_weights reads the layers in reverse order (W0 into the output layer), "
                                     "while get_weights lists them from the input layer", reverse)]


def loading_slip(ctx: CheckContext, net: Network, case: Case, tol: float) -> Optional[Slip]:
    """The way of loading the weights under which forward gives the right logits, if one does.

    Leaves the network loaded with whatever was tried last: call it only to explain a failure.
    """
    right = case.reference_logits()
    for code, words, weights in loading_alternatives(net, case) if case.depth > 1 else []:
        try:
            ctx.method(net.handle, "set_weights", weights)
            logits = forward(ctx, net, case.X)
        except (StudentCodeError, AnswerError):
            continue
        if relative_error(logits.values, right) <= tol:
            return code, words
    return None


def forward_problem(logits: np.ndarray, case: Case, settings: dict) -> Optional[Slip]:
    """None when the logits are right; else (code, words) saying how they differ and, if known, why."""
    right = reference_forward(case.weights, case.biases, case.X, case.activation)[0]
    error = relative_error(logits, right)
    if error <= settings.get("forward_rtol", 1e-6):
        return None
    slip = forward_slip(logits, case, settings.get("diagnosis_rtol", 1e-4))
    words = f"forward's logits differ from the reference's (norm-relative error {error:.2e})"
    return (slip[0], f"{words}: {slip[1]}") if slip else (None, words)
