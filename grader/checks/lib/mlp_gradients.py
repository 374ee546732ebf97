"""Exercise 3's gradients against known-right ones, and the mistakes a wrong answer shows.

A failed comparison is explained, when the evidence is certain, by `grader.diagnosis`: the
same scale factor on every wrong tensor (sign, 1/B, B, the cross-entropy delta for mse), a
transposed dW or the layers in reverse order, or a mistaken variant of the right answer (the
hidden deltas' act'(Z) left out, replaced or taken of A). The known-right gradients are a
fixture's in the public checks, the reference's in the hidden ones.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from grader.checks.base import Verdict, fail, ok
from grader.checks.compare import relative_error
from grader.checks.lib.answers import with_mistake
from grader.checks.lib.mlp_cases import STEM, MLPCase, Params, flat_params, tensor_name
from grader.diagnosis import layout, variants
from grader.diagnosis.scale import ScaleMatch, common_code, match_ratio, match_scale, mlp_gradient_factors
from grader.diagnosis.text import scale_phrase

OUTPUT_DELTA_FORMULA = {
    ("softmax", "cce"): "delta_L = (Y_hat - Y) / B",
    ("sigmoid", "bce"): "delta_L = (Y_hat - Y) / (B * n_L)  (bce averages over every element)",
    ("identity", "mse"): "delta_L = 2 (Y_hat - Y) / (B * n_L)  (mse averages over every element)",
}
HIDDEN_RECIPE = ("delta_l = (delta_{l+1} @ W_{l+1}.T) * act'(Z_l), "
                 "dW_l = A_{l-1}.T @ delta_l, db_l = delta_l.sum(axis=0)")


def shape_problem(tensors: list[np.ndarray], params: Params) -> Optional[str]:
    """A sentence about the first gradient whose shape differs from its parameter's, or None."""
    for index, (got, param) in enumerate(zip(tensors, flat_params(params))):
        if got.shape != param.shape:
            return (f"{tensor_name(index)} has shape {got.shape}; it should have the shape of "
                    f"{'W' if index % 2 == 0 else 'b'}[{index // 2}], {param.shape}.")
    return None


def layout_candidates(tensors: list[np.ndarray], params: Params) -> dict[str, list[np.ndarray]]:
    """The answer rearranged as each layout mistake would explain it, where shapes then fit.

    'transposed': every dW whose transpose has W's shape transposed back (square ones too: the
    mistake is in the one formula every layer uses); 'layer_order_reversed': the pairs reversed.
    """
    return layout.layout_candidates(tensors, [p.shape for p in flat_params(params)])


def scale_mistake(factor: float, *, batch: int, classes: int, loss: str, rtol: float) -> Optional[str]:
    """The mistake a gradient off by exactly `factor` (got / right) points to, or None.

    -1: sign_flipped; 1/B: batch_mean_twice; B: batch_sum_not_mean; for mse, n_L / 2, 1/2 or
    B n_L / 2: mse_with_ce_delta. Ambiguous factors (two codes match) give None.
    """
    found = match_ratio(factor, mlp_gradient_factors(batch, classes, loss), rtol)
    return found.code if found else None


def variant_mistake(tensors: list[np.ndarray], case: MLPCase, rtol: float) -> Optional[str]:
    """The first known slip in the hidden deltas whose variant the gradients match, or None.

    Variants come from the reference; where it is absent (the student release) there are none.
    """
    if not variants.reference_available():
        return None
    found = variants.mlp_backward_variants(case.params, case.X, case.Y, case.hidden, case.output, case.loss)
    return variants.matching_gradients(tensors, found, rtol)


def compare_grads(tensors: list[np.ndarray], expected: list[np.ndarray], case: MLPCase, *, rtol: float,
                  diagnosis_rtol: float) -> tuple[list[tuple[int, float]], Optional[ScaleMatch]]:
    """Tensors whose norm-relative error exceeds `rtol` (index, error), and the scale factor every
    one of them shows, when they all show the same known one."""
    wrong, matches = [], []
    factors = mlp_gradient_factors(case.batch, case.sizes[-1], case.loss)
    for index, (got, want) in enumerate(zip(tensors, expected)):
        if not np.all(np.isfinite(got)):
            wrong.append((index, math.inf))
            matches.append(None)
            continue
        error = relative_error(got, want)
        if error > rtol:
            wrong.append((index, error))
            matches.append(match_scale(got, want, factors, diagnosis_rtol))
    shared = common_code([m.code if m else None for m in matches])
    return wrong, matches[0] if shared else None


def describe_wrong(wrong: list[tuple[int, float]]) -> str:
    """Each wrong tensor with its norm-relative error (or that it holds inf or nan)."""
    return ", ".join(f"{tensor_name(i)} " + ("holds inf or nan" if math.isinf(e) else f"norm-relative error {e:.2e}")
                     for i, e in wrong)


def delta_formula(case: MLPCase, wrong: list[tuple[int, float]]) -> str:
    """The lecture's formula for the first layer that is wrong, counting from the output back."""
    last = max(i // 2 for i, _ in wrong)
    if last == case.depth - 1:
        return (f"Compare with {OUTPUT_DELTA_FORMULA[(case.output, case.loss)]}, "
                "dW_L = A_{L-1}.T @ delta_L, db_L = delta_L.sum(axis=0).")
    return f"Compare with {HIDDEN_RECIPE}."


def grads_against(tensors: list[np.ndarray], expected: list[np.ndarray], case: MLPCase, settings: dict,
                  what: str, mistaken: Sequence[tuple[str, Sequence[np.ndarray]]] = ()) -> Verdict:
    """Per-tensor comparison with known-right gradients, with layout, scale and variant diagnosis.

    `mistaken`: (code, gradients) variants of the right answer, each making one known mistake.
    """
    rtol, diagnosis_rtol = settings.get("rtol", 1e-6), settings.get("diagnosis_rtol", 1e-4)
    shapes = shape_problem(tensors, case.params)
    if shapes is not None:
        for mistake, candidate in layout_candidates(tensors, case.params).items():
            if not compare_grads(candidate, expected, case, rtol=rtol, diagnosis_rtol=diagnosis_rtol)[0]:
                return with_mistake(f"{what}: {shapes}", mistake, STEM)
        return fail(f"{what}: {shapes}")
    wrong, scale = compare_grads(tensors, expected, case, rtol=rtol, diagnosis_rtol=diagnosis_rtol)
    if not wrong:
        return ok()
    if scale is not None:
        names = ", ".join(tensor_name(i) for i, _ in wrong)
        return with_mistake(f"{what}: {scale_phrase(names, scale, plural=len(wrong) > 1)} "
                            f"{delta_formula(case, wrong)}", scale.code, STEM)
    code = variants.matching_gradients(tensors, mistaken, diagnosis_rtol)
    return with_mistake(f"{what}: {describe_wrong(wrong)}. {delta_formula(case, wrong)}", code, STEM)

