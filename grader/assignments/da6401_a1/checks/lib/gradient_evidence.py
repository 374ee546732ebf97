"""Gradients judged against known-right ones (the reference's, or central differences), and the
mistakes a wrong answer shows.

Each tensor's norm-relative error |got - right| / (|got| + |right|) must be at most `rtol`
(1e-7, the spec's). A failure is explained, when the evidence is certain:

- a layout slip the lists had to be rearranged for (`layer_order_reversed`, `transposed`);
- single precision (`float32_precision`): the skeleton asks for float64, and float32 cannot
  meet 1e-7;
- a wrong forward pass (its own code, e.g. `activation_applied_twice`): backward's gradients
  cannot be right for logits that are not;
- one known factor on every wrong tensor, by best-fit scale and cosine: -1 (`sign_flipped`),
  1/B (`batch_mean_twice`), B (`batch_sum_not_mean`), and for mean_squared_error C or C/2
  (`mse_grad_scale_classes`: the gradient of the loss summed over classes, a consistent
  convention but not the course's; it earns `mse_scale_credit` of the points);
- a variant of the right answer with one step changed: act'(Z) left out, replaced by act(Z) or
  taken of A; for mean_squared_error the cross-entropy delta (p - Y) / B or p - Y
  (`mse_with_ce_delta`), or dL/dp = 2 (p - Y) / (B C) used as dL/dz (`mse_missing_softmax_jacobian`).

With all sizes different and B, C, C/2 apart, no two of these give the same numbers.
"""
from __future__ import annotations

import math
from typing import Callable, Optional, Sequence

import numpy as np

from grader.assignments.da6401_a1.checks.lib.calls import Gradients
from grader.assignments.da6401_a1.checks.lib.cases import Case, flat
from grader.assignments.da6401_a1.checks.lib.verdicts import mistaken
from grader.assignments.da6401_a1.reference.activations import activation_pair
from grader.assignments.da6401_a1.reference.losses import loss_gradient, one_hot, softmax
from grader.assignments.da6401_a1.reference.network import ForwardCache, forward
from grader.checks.base import Verdict, ok
from grader.checks.compare import relative_error
from grader.checks.lib.withheld import prefetch, recorded, withheld
from grader.diagnosis.scale import SIGN, Factor, batch_factors, common_code, match_scale
from grader.diagnosis.variants import matching_gradients

TABLE = "da6401_a1"  # where a student release keeps the answers of `@recorded` functions

RIGHT_DELTA = {
    "cross_entropy": "the output delta is (p - Y) / B with p = softmax(logits)",
    "mean_squared_error": "the output delta is p * (G - sum_c G_c p_c) with G = 2 (p - Y) / (B C), p = softmax(logits)",
}
HIDDEN_RECIPE = "delta_l = (delta_{l+1} @ W_{l+1}.T) * act'(Z_l), dW_l = A_l.T @ delta_l, db_l = delta_l.sum(axis=0)"
SLIP_WORDS = {
    "layer_order_reversed": "the lists fit the parameters only in the other order, input layer first",
    "transposed": "every weight gradient fits only transposed, the transpose of its W as get_weights stores it",
}

DerivativeSlip = Callable[[np.ndarray, np.ndarray], np.ndarray]  # act'(Z_l) as a slip computes it, from Z and A


def tensor_words(index: int, depth: int) -> str:
    """'grad_Ws[2] (W0's gradient)': where flat tensor `index` sits in backward's lists."""
    layer = index // 2
    kind = "Ws" if index % 2 == 0 else "bs"
    return f"grad_{kind}[{depth - 1 - layer}] ({'W' if index % 2 == 0 else 'b'}{layer}'s gradient)"


def tensor_error(got: np.ndarray, right: np.ndarray, floor: float) -> float:
    """|got - right| / max(|got| + |right|, floor), Frobenius norms; inf for another shape."""
    if np.shape(got) != np.shape(right):
        return math.inf
    scale = max(float(np.linalg.norm(got) + np.linalg.norm(right)), floor)
    return 0.0 if scale == 0.0 else float(np.linalg.norm(np.asarray(got) - np.asarray(right)) / scale)


def wrong_tensors(got: Sequence[np.ndarray], right: Sequence[np.ndarray], rtol: float,
                  floor_ratio: float = 1e-4) -> list[tuple[int, float]]:
    """(index, error) of each tensor off by more than `rtol`, norm-relative.

    A tensor that is ~0 (a dead ReLU layer's) is measured against `floor_ratio` times the norm
    of all the right gradients instead of its own, so rounding noise there is not an error.
    """
    floor = floor_ratio * float(np.sqrt(sum(np.sum(np.square(r)) for r in right)))
    found = []
    for index, (a, b) in enumerate(zip(got, right)):
        error = tensor_error(a, b, floor)
        if not error <= rtol:
            found.append((index, error))
    return found


def describe_wrong(wrong: list[tuple[int, float]], depth: int) -> str:
    """'grad_Ws[2] (W0's gradient) is off (norm-relative error 3.1e-02)', or several named with the largest error."""
    if len(wrong) == 1:
        index, error = wrong[0]
        return f"{tensor_words(index, depth)} is off (norm-relative error {error:.2e})"
    names = "all the gradients" if len(wrong) == 2 * depth else ", ".join(tensor_words(i, depth) for i, _ in wrong)
    return f"{names} are off (norm-relative errors up to {max(e for _, e in wrong):.2e})"


def scale_factors(case: Case) -> list[Factor]:
    """The factors got / right that name a mistake here."""
    factors = [SIGN, *batch_factors(case.batch)]
    if case.loss == "mean_squared_error":
        C = case.classes
        factors += [Factor(float(C), "mse_grad_scale_classes", f"C = {C}"),
                    Factor(C / 2.0, "mse_grad_scale_classes", f"C/2 = {C / 2:g}")]
    return factors


def shared_scale(got: Sequence[np.ndarray], right: Sequence[np.ndarray], wrong: list[tuple[int, float]],
                 case: Case, tol: float) -> Optional[tuple[str, str]]:
    """(code, factor in words) when every wrong tensor is the same known factor times the right one."""
    factors = scale_factors(case)
    matches = [match_scale(got[i], right[i], factors, tol) for i, _ in wrong]
    code = common_code([m.code if m else None for m in matches])
    return (code, matches[0].factor.label) if code else None


@withheld
def backpropagate(case: Case, cache: ForwardCache, delta: np.ndarray, factor: DerivativeSlip) -> list[np.ndarray]:
    """Flat gradients for an output delta, with act'(Z_l) computed by `factor(Z_l, A_{l+1})`."""
    grad_Ws, grad_bs = [None] * case.depth, [None] * case.depth
    for layer in range(case.depth - 1, -1, -1):
        grad_Ws[layer] = cache.inputs[layer].T @ delta
        grad_bs[layer] = delta.sum(axis=0)
        if layer > 0:
            delta = (delta @ case.weights[layer].T) * factor(cache.pre_activations[layer - 1], cache.inputs[layer])
    return flat(grad_Ws, grad_bs)


@withheld
def hidden_factor_slips(activation: str) -> list[tuple[str, DerivativeSlip]]:
    """(code, act'(Z) as the slip computes it from Z and A = act(Z))."""
    _, derivative = activation_pair(activation)
    slips: list[tuple[str, DerivativeSlip]] = [
        ("missing_activation_derivative", lambda Z, A: np.ones_like(Z)),
        ("activation_instead_of_derivative", lambda Z, A: A),
        ("derivative_of_wrong_input", lambda Z, A: derivative(A)),
    ]
    if activation == "sigmoid":
        slips.append(("derivative_of_wrong_input", lambda Z, A: Z * (1.0 - Z)))
    if activation == "tanh":
        slips.append(("derivative_of_wrong_input", lambda Z, A: 1.0 - Z ** 2))
    return slips


@withheld
def output_delta_slips(case: Case, logits: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(code, output delta) of the mean_squared_error slips; none for cross_entropy."""
    if case.loss != "mean_squared_error":
        return []
    p, Y = softmax(logits), one_hot(case.labels, case.classes)
    B, C = case.batch, case.classes
    return [("mse_with_ce_delta", (p - Y) / B), ("mse_with_ce_delta", p - Y),
            ("mse_missing_softmax_jacobian", 2.0 * (p - Y) / (B * C)),
            ("mse_missing_softmax_jacobian", 2.0 * (p - Y) / B)]


@recorded(TABLE, "gradient_variants")
def gradient_variants(case: Case) -> list[tuple[str, list[np.ndarray]]]:
    """The case's gradients with one known step changed, each (code, flat gradients)."""
    logits, cache = forward(case.weights, case.biases, case.X, case.activation)
    _, derivative = activation_pair(case.activation)
    right_delta = case.reference_gradients()
    delta = loss_gradient(case.loss, logits, case.labels)
    found = [(code, backpropagate(case, cache, delta, factor)) for code, factor in hidden_factor_slips(case.activation)]
    found += [(code, backpropagate(case, cache, slip, lambda Z, A: derivative(Z)))
              for code, slip in output_delta_slips(case, logits)]
    return [(code, grads) for code, grads in found
            if any(relative_error(g, r) > 1e-12 for g, r in zip(grads, right_delta))]


def judge_gradients(grads: Gradients, right: Sequence[np.ndarray], case: Case, settings: dict, *, what: str,
                    stem: str, rtol: float, single: bool = False,
                    forward_wrong: Optional[tuple[Optional[str], str]] = None) -> Verdict:
    """Pass when every tensor is within `rtol`; otherwise the failure, explained when certain.

    `single`: the network's other answers came in single precision too. `forward_wrong`:
    (code, words) when the student's forward already disagrees with the reference.
    """
    depth = case.depth
    prefetch(gradient_variants, case)  # building a student release: ship this case's variants too
    wrong = wrong_tensors(grads.tensors, right, rtol, float(settings.get("norm_floor", 1e-4)))
    if grads.slip:
        after = "once rearranged they are right" if not wrong else f"even then: {describe_wrong(wrong, depth)}"
        return mistaken(f"{what}: {SLIP_WORDS[grads.slip]}; {after}.", grads.slip, stem)
    if grads.single or single:
        worst = f" (norm-relative errors up to {max(e for _, e in wrong):.2e})" if wrong else ""
        return mistaken(f"{what}: the network answers in single precision (float32), and the gradients must be "
                        f"float64 and within {rtol:g} of the right ones{worst}.", "float32_precision", stem)
    if not wrong:
        return ok()
    if forward_wrong is not None:
        return mistaken(f"{what}: {describe_wrong(wrong, depth)}; {forward_wrong[1]}.", forward_wrong[0], stem)
    tol = settings.get("diagnosis_rtol", 1e-4)
    found = shared_scale(grads.tensors, right, wrong, case, tol)
    feedback = f"{what}: {describe_wrong(wrong, depth)}."
    if found is not None:
        code, label = found
        credit = float(settings.get("mse_scale_credit", 0.5)) if code == "mse_grad_scale_classes" else None
        note = (" The course's mean_squared_error averages over all B x C entries; this partial credit is for "
                "the gradient of a loss summed over the classes." if credit is not None else "")
        return mistaken(f"{feedback} Every wrong gradient is {label} times the right one.{note}", code, stem, credit)
    code = matching_gradients(grads.tensors, gradient_variants(case), tol)
    hint = f" Here {RIGHT_DELTA[case.loss]}, then {HIDDEN_RECIPE}."
    return mistaken(feedback + hint, code, stem)
