"""Exercise 2's answer dicts for the lecture's 2-2-1 network, and how a chain of them is judged.

The network: z = x @ V (z_j = sum_i v_ij x_i), h = sigmoid(z), z_out = w . h, y_hat = sigmoid(z_out),
L = BCE(y_hat, y), delta_out = y_hat - y, grad_w = delta_out h,
delta_hidden_j = delta_out w_j h_j (1 - h_j), grad_V[i, j] = delta_j x_i.

An answer dict (from `forward_backward_221`, or the hand-worked `HAND_ANSWERS`) holds one value
per key of `KEYS`; it is right when every key matches one of the accepted chains (the exact
chain, the chain rounded at each step, ...), with partial credit by the keys right.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.compare import describe, relative_error, to_array
from grader.checks.lib.answers import AnswerError
from grader.diagnosis.text import mistake_text
from grader.diagnosis.variants import hand_backward_variants

STEM = "ex2_hand_calculation"
KEYS: tuple[str, ...] = ("z", "h", "z_out", "y_hat", "loss", "delta_out", "grad_w", "delta_hidden", "grad_V")
SHAPES: dict[str, tuple[int, ...]] = {"z": (2,), "h": (2,), "z_out": (), "y_hat": (), "loss": (), "delta_out": (),
                                      "grad_w": (2,), "delta_hidden": (2,), "grad_V": (2, 2)}
GRADIENT_KEYS: tuple[str, ...] = ("delta_out", "grad_w", "delta_hidden", "grad_V")
FORMULA = {
    "z": "z_j = sum_i v_ij x_i (z = x @ V)",
    "h": "h_j = sigma(z_j)",
    "z_out": "z_out = w_1 h_1 + w_2 h_2",
    "y_hat": "y_hat = sigma(z_out)",
    "loss": "L = -[y log(y_hat) + (1 - y) log(1 - y_hat)]",
    "delta_out": "delta_out = y_hat - y",
    "grad_w": "dL/dw_j = delta_out * h_j",
    "delta_hidden": "delta_j = delta_out * w_j * h_j (1 - h_j)",
    "grad_V": "grad_V[i, j] = dL/dv_ij = delta_j * x_i",
}

# An accepted chain: expected values per key, and the tolerance (rtol, atol) to hold them to.
Chain = tuple[Mapping[str, Any], float, float]


def answer_dict(value: Any, what: str) -> Mapping[str, Any]:
    """The answer as a dict of keys; raises AnswerError when it is not a dict."""
    if not isinstance(value, dict):
        raise AnswerError(fail(f"{what} should be a dict with keys {', '.join(KEYS)}, but it is {describe(value)}."))
    return value


def key_value(answers: Mapping[str, Any], key: str) -> np.ndarray | None:
    """The answer for `key` in its contract shape (a scalar may come as a 1-element array), or None."""
    arr = to_array(answers.get(key))
    if arr is None:
        return None
    if SHAPES[key] == () and arr.size == 1:
        return arr.reshape(())
    return arr if arr.shape == SHAPES[key] else None


def key_matches(got: np.ndarray, chains: Sequence[Chain], key: str) -> bool:
    """True when `got` is finite and within tolerance of `key` in one of the chains that cover it."""
    for expected, rtol, atol in chains:
        if key not in expected:
            continue  # a chain may cover only some keys (the backward pass, errors carried forward)
        target = np.asarray(expected[key], dtype=np.float64)
        if np.all(np.isfinite(got)) and np.allclose(got, target, rtol=rtol, atol=atol):
            return True
    return False


def wrong_keys(answers: Mapping[str, Any], chains: Sequence[Chain]) -> dict[str, str]:
    """Each key that is absent, malformed or matches none of the accepted chains, with the reason."""
    wrong = {}
    for key in KEYS:
        if key not in answers:
            wrong[key] = "is missing"
            continue
        got = key_value(answers, key)
        if got is None:
            shape = "a number" if SHAPES[key] == () else f"an array of shape {SHAPES[key]}"
            wrong[key] = f"should be {shape}, but it is {describe(answers[key])}"
        elif not key_matches(got, chains, key):
            wrong[key] = f"is wrong; compare with {FORMULA[key]}"
    return wrong


def gradient_vector(answers: Mapping[str, Any]) -> np.ndarray | None:
    """delta_out, grad_w, delta_hidden and grad_V as one vector, or None if any is malformed."""
    parts = [key_value(answers, key) for key in GRADIENT_KEYS]
    return None if any(p is None for p in parts) else np.concatenate([p.ravel() for p in parts])


def chain_diagnosis(answers: Mapping[str, Any], expected: Sequence[Mapping[str, Any]],
                    lecture: Sequence[Chain] | None, settings: Mapping[str, Any],
                    atol: float | None = None, x: Any = None, w: Any = None) -> str | None:
    """The mistake the answers show, when the evidence is certain, else None.

    hardcoded_answer (the lecture's numbers on another case), sign_flipped (every gradient key
    negated), transposed (grad_V), log_base_2 (the loss 1/ln 2 times the right one), and, given
    the case's x and w, a slip in sigma'(z_j) inside delta_hidden (`variants.hand_backward_variants`).
    `expected`: the right chains (exact, and for hand answers also rounded). Computed answers are
    compared by norm-relative error (diagnosis_tol); hand answers, worked to 3 decimals,
    elementwise within `atol`.
    """
    def close(a: Any, b: Any) -> bool:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != b.shape or not np.all(np.isfinite(a)):
            return False
        if atol is not None:
            return bool(np.allclose(a, b, rtol=0.0, atol=atol))
        return relative_error(a, b) <= settings["diagnosis_tol"]

    if lecture is not None:
        matching = sum(1 for key in KEYS if (got := key_value(answers, key)) is not None
                       and key_matches(got, lecture, key))
        if matching >= settings["hardcoded_min_keys"]:
            return "hardcoded_answer"
    got = gradient_vector(answers)
    grad_V, loss = key_value(answers, "grad_V"), key_value(answers, "loss")
    delta_hidden = key_value(answers, "delta_hidden")
    for chain in expected:
        right = np.concatenate([np.ravel(chain[key]) for key in GRADIENT_KEYS])
        if got is not None and close(got, -right) and not close(got, right):
            return "sign_flipped"
    for chain in expected:
        right_V = np.asarray(chain["grad_V"], dtype=np.float64)
        if grad_V is not None and close(grad_V.T, right_V) and not close(grad_V, right_V):
            return "transposed"
    for chain in expected:
        right_loss = float(np.asarray(chain["loss"]))
        if loss is not None and close(loss, right_loss / math.log(2.0)) and not close(loss, right_loss):
            return "log_base_2"
    if delta_hidden is not None and x is not None and w is not None:
        for chain in expected:
            for code, variant in hand_backward_variants(x, w, chain):
                if close(delta_hidden, variant["delta_hidden"]) and not close(variant["delta_hidden"],
                                                                              chain["delta_hidden"]):
                    return code
    return None


def judge_chain(answers: Mapping[str, Any], chains: Sequence[Chain], what: str,
                diagnosis: str | None = None) -> Verdict:
    """Passed when every key is right; otherwise partial credit by the fraction of keys right."""
    wrong = wrong_keys(answers, chains)
    if not wrong:
        return ok()
    lines = "; ".join(f"{key} {reason}" for key, reason in wrong.items())
    feedback = f"{what}: {len(KEYS) - len(wrong)} of {len(KEYS)} keys right. {lines}."
    if diagnosis:
        feedback += f" {mistake_text(diagnosis, STEM)}"
    return fail(feedback, diagnosis=diagnosis, fraction=(len(KEYS) - len(wrong)) / len(KEYS))


def lecture_chains(ctx: CheckContext) -> list[Chain]:
    """The lecture's case worked exactly, rounded at each step, or as the slides print it (within 5e-4)."""
    data = ctx.fixture("lecture")
    atol = ctx.settings["hand_atol"]
    return [(data["exact"], 0.0, atol), (data["rounded"], 0.0, atol), (data["printed"], 0.0, atol)]

