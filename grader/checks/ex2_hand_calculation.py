"""Public checks for exercise 2: the lecture's 2-2-1 network by formula, and the hand answers' form.

The network: z = x @ V (z_j = sum_i v_ij x_i), h = sigmoid(z), z_out = w . h, y_hat = sigmoid(z_out),
L = BCE(y_hat, y), delta_out = y_hat - y, grad_w = delta_out h,
delta_hidden_j = delta_out w_j h_j (1 - h_j), grad_V[i, j] = delta_j x_i.

An answer key is right when it matches the exact chain, or (on the lecture's case and for hand
answers) the chain rounded to 3 decimals at every step; on the lecture's case the slides' own
numbers count too. The checks of
`HAND_ANSWERS` against the student's personal case are hidden: they need the reference.
"""
from __future__ import annotations

import ast
import math
from typing import Any, Mapping, Sequence

import numpy as np

from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.compare import describe, relative_error, to_array
from grader.checks.ex1_activations_losses import AnswerError, answer_array, answer_scalar, degenerate_slope, register
from grader.checks.fixtures import fixture_builder
from grader.diagnosis.layout import transposed_code
from grader.diagnosis.scale import SIGN, log2_factors, match_scale
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


# ---------------------------------------------------------------- public data

@fixture_builder(STEM, "lecture")
def build_lecture() -> dict:
    """The lecture's case, its exact chain, the chain rounded to 3 decimals, and the slides' numbers."""
    from reference import hand_network as ref

    x, V, w, y = ref.LECTURE_CASE
    return {"case": {"x": np.array(x), "V": np.array(V), "w": np.array(w), "y": int(y)},
            "exact": ref.forward_backward_221(x, V, w, y),
            "rounded": ref.forward_backward_221_rounded(x, V, w, y),
            "printed": dict(ref.LECTURE_PRINTED)}


@fixture_builder(STEM, "other", draws=True)
def build_other(rng: np.random.Generator | None = None) -> dict:
    """A second case, label 0 and mixed signs, with its exact chain.

    Without `rng`: the published case; with it (grading): a case of the same kind drawn from it.
    """
    from reference import hand_network as ref

    if rng is None:
        x, V, w, y = np.array([0.2, 0.9]), np.array([[0.3, -0.6], [-0.4, 0.8]]), np.array([-1.2, 0.7]), 0
    else:  # each of V's columns and w hold one positive and one negative entry, as published
        x = rng.uniform(0.1, 1.0, size=2)
        V = rng.uniform(0.2, 1.0, size=(2, 2)) * np.array([[1.0, -1.0], [-1.0, 1.0]])
        w = rng.uniform(0.3, 1.5, size=2) * rng.permutation([1.0, -1.0])
        y = 0
    return {"case": {"x": x, "V": V, "w": w, "y": y}, "exact": ref.forward_backward_221(x, V, w, y)}


# ---------------------------------------------------------------- reading and judging answer dicts

def answer_dict(value: Any, what: str) -> Mapping[str, Any]:
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


def case_arguments(case: Mapping[str, Any]) -> tuple:
    return case["x"], case["V"], case["w"], int(case["y"])


# ---------------------------------------------------------------- forward_backward_221

@register(STEM, "forward_backward_221.lecture_case", needs=("forward_backward_221",),
          hint="On the lecture's case: z = 0.75, h = 0.679, z_out = 1.358, y_hat = 0.796, ..., "
               "grad_V = (-0.022, -0.022; -0.044, -0.044).")
def lecture_case(ctx: CheckContext) -> Verdict:
    data = ctx.fixture("lecture")
    answers = answer_dict(ctx.call("forward_backward_221", *case_arguments(data["case"])),
                          "forward_backward_221(x, V, w, y)")
    s = ctx.settings
    chains = [(data["exact"], s["rtol"], s["atol"])] + lecture_chains(ctx)[1:]
    case = data["case"]
    diagnosis = chain_diagnosis(answers, [data["exact"]], None, s, x=case["x"], w=case["w"]) \
        if wrong_keys(answers, chains) else None
    return judge_chain(answers, chains, "forward_backward_221 on the lecture's case", diagnosis)


@register(STEM, "forward_backward_221.other_case", needs=("forward_backward_221",),
          hint="Compute every value from the arguments x, V, w and y; the label may be 0.")
def other_case(ctx: CheckContext) -> Verdict:
    data = ctx.fixture("other")
    answers = answer_dict(ctx.call("forward_backward_221", *case_arguments(data["case"])),
                          "forward_backward_221(x, V, w, y)")
    s = ctx.settings
    chains = [(data["exact"], s["rtol"], s["atol"])]
    diagnosis = None
    if wrong_keys(answers, chains):
        diagnosis = chain_diagnosis(answers, [data["exact"]], lecture_chains(ctx), s,
                                    x=data["case"]["x"], w=data["case"]["w"])
    return judge_chain(answers, chains, "forward_backward_221 on a case with y = 0", diagnosis)


def loss_of(answer: Any) -> float:
    """The 'loss' entry of one forward_backward_221 answer (an outcome of `ctx.call_all`)."""
    answers = answer_dict(answer.get(), "forward_backward_221(x, V, w, y)")
    return answer_scalar(answers.get("loss"), "the 'loss' entry")


def numerical_gradients(ctx: CheckContext, x: np.ndarray, V: np.ndarray, w: np.ndarray,
                        y: int) -> tuple[np.ndarray, np.ndarray]:
    """dL/dw and dL/dV by central differences of the student's own loss (the 12 calls sent together)."""
    h = ctx.settings["fd_step"]
    nudges = [(x, V, w + sign * h * np.eye(2)[j], y) for j in range(2) for sign in (1.0, -1.0)]
    nudges += [(x, V + sign * h * np.eye(4)[2 * i + j].reshape(2, 2), w, y)
               for i, j in np.ndindex(2, 2) for sign in (1.0, -1.0)]
    losses = iter(ctx.call_all([("forward_backward_221", args, {}) for args in nudges]))
    grad_w, grad_V = np.empty(2), np.empty((2, 2))
    for j in range(2):
        grad_w[j] = (loss_of(next(losses)) - loss_of(next(losses))) / (2.0 * h)
    for i, j in np.ndindex(2, 2):
        grad_V[i, j] = (loss_of(next(losses)) - loss_of(next(losses))) / (2.0 * h)
    return grad_w, grad_V


def gradient_verdict(got: np.ndarray, numerical: np.ndarray, key: str, tol: float, dtol: float,
                     reference: np.ndarray | None = None, degenerate: float = 1e-3) -> Verdict:
    """grad_w or grad_V against central differences of the student's own loss.

    A ratio -1 is sign_flipped; ln 2 or 1/ln 2 is log_base_2 (the loss uses log2, its gradient
    the natural log, or the reverse); grad_V transposed is transposed. `reference`: the true
    gradient on the same case; a loss that does not move where the true one does confirms nothing.
    """
    if reference is not None:
        reason = degenerate_slope(numerical, reference, degenerate)
        if reason is not None:
            return fail(f"Central differences of your own loss {reason}, so they cannot confirm {key}: "
                        "make forward_backward_221 compute the loss from its arguments first.")
    err = relative_error(got, numerical)
    if err <= tol:
        return ok()
    feedback = (f"{key} disagrees with central differences of your own loss: norm-relative error {err:.2e}. "
                f"Compare with {FORMULA[key]}.")
    match = match_scale(got, numerical, [SIGN, *log2_factors()], dtol)
    code = match.code if match else transposed_code(got, numerical, dtol)
    return fail(f"{feedback} {mistake_text(code, STEM)}" if code else feedback, diagnosis=code)


@register(STEM, "forward_backward_221.gradcheck", needs=("forward_backward_221",),
          hint="grad_w and grad_V must be the slopes of your own loss: nudge one weight and watch the loss.")
def gradcheck(ctx: CheckContext) -> Verdict:
    s = ctx.settings
    for fixture in ("lecture", "other"):
        data = ctx.fixture(fixture)
        x, V, w, y = case_arguments(data["case"])
        answers = answer_dict(ctx.call("forward_backward_221", x, V, w, y), "forward_backward_221(x, V, w, y)")
        got_w = answer_array(answers.get("grad_w"), "the 'grad_w' entry", shape=(2,))
        got_V = answer_array(answers.get("grad_V"), "the 'grad_V' entry", shape=(2, 2))
        num_w, num_V = numerical_gradients(ctx, x, V, w, y)
        for got, numerical, key in ((got_w, num_w, "grad_w"), (got_V, num_V, "grad_V")):
            verdict = gradient_verdict(got, numerical, key, s["fd_tol"], s["diagnosis_tol"],
                                       reference=data["exact"][key], degenerate=s.get("fd_degenerate", 1e-3))
            if not verdict.passed:
                return verdict
    return ok()


# ---------------------------------------------------------------- HAND_ANSWERS

HAND_NAME = "HAND_ANSWERS"
WRITE_NUMBERS = ("Write the numbers you worked by hand as literals, e.g. "
                 'HAND_ANSWERS = {"z": [0.123, -0.456], "z_out": 0.789, ...}, not code that computes them.')


def literal_number(node: ast.AST) -> bool:
    """A number written out: 0.25, -1e-3, 7 (not a bool, a name, a call or arithmetic)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def literal_numbers(node: ast.AST) -> bool:
    """A number, or a (nested) list or tuple of numbers, written out."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(literal_numbers(item) for item in node.elts)
    return literal_number(node)


def hand_answers_node(cells: Sequence[str]) -> tuple[ast.AST | None, str]:
    """The value of the last top-level `HAND_ANSWERS = ...` in the source, or None and why.

    Cells are parsed one at a time (a notebook cell that does not parse is skipped; the worker
    skips it too). An augmented or unpacking assignment at the top level replaces the value
    with something computed, so it counts as the last assignment, with no literal value.
    """
    value: ast.AST | None = None
    found = False
    for text in cells:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for statement in tree.body:
            if isinstance(statement, ast.Assign):
                names = [t for t in statement.targets if isinstance(t, ast.Name) and t.id == HAND_NAME]
                nested = [n for t in statement.targets if not isinstance(t, ast.Name)
                          for n in ast.walk(t) if isinstance(n, ast.Name) and n.id == HAND_NAME]
                if names:
                    found, value = True, statement.value
                elif nested:
                    found, value = True, None
            elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)) and \
                    isinstance(statement.target, ast.Name) and statement.target.id == HAND_NAME:
                found = True
                value = statement.value if isinstance(statement, ast.AnnAssign) else None
    if not found:
        return None, f"{HAND_NAME} is not assigned at the top level of the file."
    if value is None:
        return None, f"{HAND_NAME} is computed, not written out."
    return value, ""


def written_answers(cells: Sequence[str]) -> tuple[dict | None, str]:
    """`HAND_ANSWERS` as written in the source when it is a literal dict of numbers, else None and why."""
    node, problem = hand_answers_node(cells)
    if node is None:
        return None, problem
    if not isinstance(node, ast.Dict) or any(k is None for k in node.keys):
        return None, f"{HAND_NAME} is not written as a dict of numbers."
    computed = [k.value if isinstance(k, ast.Constant) else "?" for k, v in zip(node.keys, node.values)
                if not (isinstance(k, ast.Constant) and isinstance(k.value, str)) or not literal_numbers(v)]
    if computed:
        shown = ", ".join(str(k) for k in computed[:4]) + (" ..." if len(computed) > 4 else "")
        return None, f"{HAND_NAME} has values that are not numbers written out ({shown})."
    try:
        return ast.literal_eval(node), ""
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None, f"{HAND_NAME} is not written as a dict of numbers."


def same_answers(written: Mapping[str, Any], given: Mapping[str, Any]) -> bool:
    """The worker's HAND_ANSWERS holds exactly the numbers written in the source."""
    if set(written) != set(given):
        return False
    for key in written:
        a, b = to_array(written[key]), to_array(given[key])
        if a is None or b is None or a.shape != b.shape or not np.array_equal(a, b):
            return False
    return True


def hand_written_verdict(ctx: CheckContext, answers: Mapping[str, Any]) -> Verdict | None:
    """A failing Verdict when HAND_ANSWERS is not numbers written as literals; None when it is
    (or when this run has no source to read, e.g. a notebook's own kernel)."""
    if ctx.source_cells is None:
        return None
    written, problem = written_answers(ctx.source_cells)
    if written is None:
        return fail(f"{problem} {WRITE_NUMBERS}")
    if not same_answers(written, answers):
        return fail(f"{HAND_NAME} is changed by code after it is written out. {WRITE_NUMBERS}")
    return None


def hand_answers(ctx: CheckContext) -> Any:
    """The submission's module-level HAND_ANSWERS, as plain data (the worker's `value` op)."""
    return ctx.transport.request({"op": "value", "module": STEM, "name": "HAND_ANSWERS"}, timeout=ctx.timeout)


@register(STEM, "HAND_ANSWERS.complete", needs=("HAND_ANSWERS",),
          hint="HAND_ANSWERS needs all nine keys, each a number or a list of numbers of the right shape.")
def hand_answers_complete(ctx: CheckContext) -> Verdict:
    answers = answer_dict(hand_answers(ctx), "HAND_ANSWERS")
    problems = []
    for key in KEYS:
        got = key_value(answers, key) if key in answers else None
        if key not in answers:
            problems.append(f"{key} is missing")
        elif got is None:
            shape = "a number" if SHAPES[key] == () else f"{SHAPES[key][0]} numbers" if len(SHAPES[key]) == 1 \
                else "a 2 x 2 list of numbers"
            problems.append(f"{key} should be {shape}, but it is {describe(answers[key])}")
        elif not np.all(np.isfinite(got)):
            problems.append(f"{key} is not a finite number")
    if problems:
        return fail("HAND_ANSWERS is incomplete: " + "; ".join(problems) + ".",
                    fraction=(len(KEYS) - len(problems)) / len(KEYS))
    not_written = hand_written_verdict(ctx, answers)
    if not_written is not None:
        return not_written
    broken = inconsistent_sigmoids(answers, 2.0 * ctx.settings["hand_atol"])
    if broken:
        return fail(f"HAND_ANSWERS is not worked through: {'; '.join(broken)}. "
                    "Work each value from the ones before it.")
    return ok()


def inconsistent_sigmoids(answers: Mapping[str, Any], atol: float) -> list[str]:
    """The steps h = sigma(z) and y_hat = sigma(z_out) that the answers break.

    They hold for any case, so a complete answer sheet of placeholders (zeros) is told apart
    from one worked by hand without the personal case. `atol` allows for rounding at each step
    (sigma' <= 1/4, so a rounded input moves the output by less than the rounding itself).
    """
    def sigmoid(t: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + np.tanh(0.5 * t))

    broken = []
    for out, inp in (("h", "z"), ("y_hat", "z_out")):
        got, want = key_value(answers, out), sigmoid(key_value(answers, inp))
        if not np.allclose(got, want, rtol=0.0, atol=atol):
            broken.append(f"{out} is not sigma({inp})")
    return broken
