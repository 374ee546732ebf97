"""Public checks for exercise 3: `init_params`, `forward` and `backward` of an L-layer MLP.

They use only the student's answers, fixtures built by the reference (shipped as data with the
release), properties of the answers, and gradient checks of the student's `backward` against
central differences of the student's own `forward` (the arithmetic happens here, on returned
values). Row convention of the contract: Z_l = A_{l-1} @ W_l + b_l, A_l = act(Z_l),
W_l (n_{l-1}, n_l), b_l (n_l,), X = A_0 (B, n_0), Y_hat = A_L (B, n_L).

A failed comparison is explained, when the evidence is certain, by `grader.diagnosis`: the
same scale factor on every wrong tensor (sign, 1/B, B, the cross-entropy delta for mse), a
transposed dW or the layers in reverse order, or a mistaken variant of the right answer (the
hidden deltas' act'(Z) left out, replaced or taken of A; an activation applied twice; softmax
over the wrong axis). Public fixtures carry the variants of their cases as data.

A gradient check needs slopes that are not all ~0 (else any backward agrees with a constant
forward). `backward.backpropagation` times backward against forward on a network of a few
thousand parameters: finite differences cost one or two forwards per parameter, backpropagation
a few in all; the value tests count (rubric `requires`) only when it passes.

The helpers (cases, reading answers, directional slopes, diagnosis) are shared with the
hidden checks in `grader/checks/hidden/ex3_mlp_backprop.py`.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np

from grader.checks.base import CheckContext, Verdict, check, fail, ok
from grader.checks.compare import compare_arrays, describe, relative_error, to_array
from grader.checks.fixtures import fixture_builder
from grader.diagnosis import layout, variants
from grader.diagnosis.scale import ScaleMatch, common_code, match_ratio, match_scale, mlp_gradient_factors
from grader.diagnosis.text import mistake_text, scale_phrase

STEM = "ex3_mlp_backprop"
HIDDEN_ACTIVATIONS: tuple[str, ...] = ("identity", "sigmoid", "tanh", "relu")
# (output activation, loss): the pairs the contract names.
OUTPUT_LOSS_PAIRS: tuple[tuple[str, str], ...] = (("softmax", "cce"), ("sigmoid", "bce"), ("identity", "mse"))

Params = list[tuple[np.ndarray, np.ndarray]]
LossFunction = Callable[[np.ndarray, np.ndarray, str], float]

OUTPUT_DELTA_FORMULA = {
    ("softmax", "cce"): "delta_L = (Y_hat - Y) / B",
    ("sigmoid", "bce"): "delta_L = (Y_hat - Y) / (B * n_L)  (bce averages over every element)",
    ("identity", "mse"): "delta_L = 2 (Y_hat - Y) / (B * n_L)  (mse averages over every element)",
}
HIDDEN_RECIPE = ("delta_l = (delta_{l+1} @ W_{l+1}.T) * act'(Z_l), "
                 "dW_l = A_{l-1}.T @ delta_l, db_l = delta_l.sum(axis=0)")

# Cases: what the checks send.

@dataclass(frozen=True)
class MLPCase:
    """One network, batch and target: params [(W_l (n_{l-1}, n_l), b_l (n_l,))], X (B, n_0), Y (B, n_L)."""

    params: Params
    X: np.ndarray
    Y: np.ndarray
    hidden: str
    output: str
    loss: str

    @property
    def sizes(self) -> list[int]:
        return [self.params[0][0].shape[0]] + [W.shape[1] for W, _ in self.params]

    @property
    def batch(self) -> int:
        return self.X.shape[0]

    @property
    def depth(self) -> int:
        return len(self.params)

    def label(self) -> str:
        sizes = "-".join(str(n) for n in self.sizes)
        return (f"hidden={self.hidden!r}, output={self.output!r}, loss={self.loss!r}, "
                f"layer sizes {sizes}, batch {self.batch}")


def distinct_shapes(rng: np.random.Generator, depth: int, batch_one: bool = False) -> tuple[list[int], int]:
    """Layer sizes and a batch size, all different so a transposed or mixed-up axis cannot pass.

    The output size is at least 3 and the batch at least 3 (or exactly 1), so the scale factors
    the diagnosis looks for (-1, 1/B, B, n_L / 2, 1/2) are all different from 1 and each other.
    """
    while True:
        sizes = [int(n) for n in rng.choice(np.arange(2, 10), size=depth + 1, replace=False)]
        batch = 1 if batch_one else int(rng.integers(3, 10))
        if sizes[-1] >= 3 and (batch_one or batch not in sizes) and batch != sizes[-1] / 2:
            return sizes, batch


def random_params(rng: np.random.Generator, sizes: list[int]) -> Params:
    """W_l ~ N(0, 1 / n_{l-1}) and nonzero biases, so that every gradient is exercised."""
    return [(rng.standard_normal((n_in, n_out)) / math.sqrt(n_in), 0.5 * rng.standard_normal(n_out))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def random_targets(rng: np.random.Generator, loss: str, batch: int, classes: int) -> np.ndarray:
    """One-hot rows for cce, 0/1 labels for bce, real numbers for mse; shape (batch, classes)."""
    if loss == "cce":
        return np.eye(classes)[rng.integers(0, classes, size=batch)]
    if loss == "bce":
        return rng.integers(0, 2, size=(batch, classes)).astype(np.float64)
    return rng.standard_normal((batch, classes))


def random_case(rng: np.random.Generator, depth: int, hidden: str, output: str, loss: str,
                batch_one: bool = False) -> MLPCase:
    sizes, batch = distinct_shapes(rng, depth, batch_one)
    return MLPCase(random_params(rng, sizes), rng.standard_normal((batch, sizes[0])),
                   random_targets(rng, loss, batch, sizes[-1]), hidden, output, loss)


def case_from_data(data: dict) -> MLPCase:
    """An MLPCase from fixture data (params stored as [[W, b], ...])."""
    return MLPCase([(np.asarray(W), np.asarray(b)) for W, b in data["params"]], np.asarray(data["X"]),
                   np.asarray(data["Y"]), data["hidden"], data["output"], data["loss"])


def wire_params(params: Params) -> list[tuple[np.ndarray, np.ndarray]]:
    """The contract's list of (W, b) tuples, float64. No copies: what the student's code gets is
    decoded from the wire, so it can never change the grader's own arrays."""
    return [(np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)) for W, b in params]


def flat_params(params: Params) -> list[np.ndarray]:
    """[W_1, b_1, W_2, b_2, ...], the order every per-tensor list here uses."""
    return [array for layer in params for array in layer]


def unflatten(tensors: list[np.ndarray]) -> Params:
    return [(tensors[i], tensors[i + 1]) for i in range(0, len(tensors), 2)]


def tensor_name(index: int) -> str:
    """'dW[0] (layer 1)' for index 0 of the flat list, 'db[0] (layer 1)' for index 1, ..."""
    layer = index // 2
    return f"{'dW' if index % 2 == 0 else 'db'}[{layer}] (layer {layer + 1})"


# The contract's mean losses, for gradient checks of the student's own forward.

def mean_loss(Y_hat: np.ndarray, Y: np.ndarray, loss: str) -> float:
    """mse/bce: mean over every element; cce: sum over classes, mean over the B rows."""
    with np.errstate(all="ignore"):
        if loss == "mse":
            return float(np.mean((Y_hat - Y) ** 2))
        if loss == "bce":
            return float(-np.mean(Y * np.log(Y_hat) + (1.0 - Y) * np.log(1.0 - Y_hat)))
        if loss == "cce":
            return float(-np.sum(Y * np.log(Y_hat)) / Y_hat.shape[0])
    raise ValueError(f"unknown loss {loss!r}: expected mse, bce or cce")


# Talking to the student's code.

def student_forward(ctx: CheckContext, case: MLPCase,
                    params: Optional[Params] = None) -> tuple[Optional[np.ndarray], Any, Optional[Verdict]]:
    """(Y_hat, cache, None) from the student's forward, or (None, None, a failed verdict)."""
    name, args, kwargs = forward_call(case, params)
    return read_forward(ctx.call(name, *args, **kwargs), case)


def read_forward(value: Any, case: MLPCase) -> tuple[Optional[np.ndarray], Any, Optional[Verdict]]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return None, None, fail(f"forward should return a pair (Y_hat, cache), but it returned {describe(value)}.")
    Y_hat = to_array(value[0])
    shape = (case.batch, case.sizes[-1])
    if Y_hat is None:
        return None, None, fail(f"forward's Y_hat should be an array of shape {shape}, "
                                f"but it is {describe(value[0])}.")
    if Y_hat.shape != shape:
        return None, None, fail(f"forward's Y_hat has shape {Y_hat.shape}; for X of shape {case.X.shape} and "
                                f"{case.sizes[-1]} outputs it should be {shape} (one row per example).")
    return Y_hat, value[1], None


def student_gradients(ctx: CheckContext, case: MLPCase) -> tuple[Any, Optional[list], Optional[Verdict]]:
    """Forward then backward with the student's code, the cache passed back as forward returned it.

    (Y_hat, [dW_1, db_1, ...], None), or (None, None, a failed verdict) when either step is off;
    the gradients are arrays, their shapes unchecked."""
    return next(students_gradients(ctx, [case]))


def forward_call(case: MLPCase, params: Optional[Params] = None) -> tuple[str, tuple, dict]:
    """The student's forward on `case` (at `params`, if given), as one of `CheckContext.call_all`'s calls."""
    params = case.params if params is None else params
    return "forward", (wire_params(params), case.X.copy()), {"hidden": case.hidden, "output": case.output}


def backward_call(case: MLPCase, cache: Any) -> tuple[str, tuple, dict]:
    """The student's backward on `case` with the cache its forward returned, as a `call_all` call."""
    return "backward", (wire_params(case.params), cache, case.Y.copy()), {"loss": case.loss}


def student_forwards(ctx: CheckContext, cases: list[MLPCase]) -> Iterator[tuple[Optional[np.ndarray], Any, Optional[Verdict]]]:
    """`student_forward` for each case, the calls sent together; each answer is read (and an
    error raised) only when the loop reaches it, as if the calls had been made one at a time."""
    for outcome, case in zip(ctx.call_all([forward_call(case) for case in cases]), cases):
        yield read_forward(outcome.get(), case)


def students_gradients(ctx: CheckContext, cases: list[MLPCase]) -> Iterator[tuple[Any, Optional[list], Optional[Verdict]]]:
    """`student_gradients` for each case: every forward sent together, then the backwards of the
    cases before the first forward that failed (a check stops there). Answers and errors come in
    the order one-at-a-time calls would give them."""
    forwards = ctx.call_all([forward_call(case) for case in cases])
    read = []
    for outcome, case in zip(forwards, cases):
        if outcome.error is not None:
            break
        read.append(read_forward(outcome.value, case))
        if read[-1][2] is not None:
            break
    good = [(case, cache) for case, (_, cache, problem) in zip(cases, read) if problem is None]
    backwards = ctx.call_all([backward_call(case, cache) for case, cache in good])
    for index, case in enumerate(cases):
        if index >= len(read):
            forwards[index].get()  # raises the forward's error here
        Y_hat, _, problem = read[index]
        if problem is not None:
            yield None, None, problem
            return
        tensors, problem = read_grads(backwards[index].get(), case.depth)
        yield Y_hat, tensors, problem


def read_grads(value: Any, depth: int) -> tuple[Optional[list], Optional[Verdict]]:
    if not isinstance(value, (list, tuple)):
        return None, fail(f"backward should return a list of (dW, db) pairs, one per layer, "
                          f"but it returned {describe(value)}.")
    if len(value) != depth:
        return None, fail(f"backward returned {len(value)} item(s) for a network of {depth} layer(s); "
                          "it should return one (dW, db) pair per layer.")
    tensors = []
    for layer, pair in enumerate(value):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            return None, fail(f"item {layer} of backward's list should be a pair (dW, db), "
                              f"but it is {describe(pair)}.")
        for index, part in enumerate(pair):
            array = to_array(part)
            if array is None:
                return None, fail(f"{tensor_name(2 * layer + index)} should be an array, "
                                  f"but it is {describe(part)}.")
            tensors.append(array)
    return tensors, None


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


def with_mistake(feedback: str, code: Optional[str]) -> Verdict:
    return fail(f"{feedback} {mistake_text(code, STEM)}" if code else feedback, code)


def variant_mistake(tensors: list[np.ndarray], case: MLPCase, rtol: float) -> Optional[str]:
    """The first known slip in the hidden deltas whose variant the gradients match, or None.

    Variants come from the reference; where it is absent (the student release) there are none.
    """
    if not variants.reference_available():
        return None
    found = variants.mlp_backward_variants(case.params, case.X, case.Y, case.hidden, case.output, case.loss)
    return variants.matching_gradients(tensors, found, rtol)


# Gradient checks along random directions, against the student's own forward.

@dataclass(frozen=True)
class Slope:
    """The loss's slope along one random unit direction in one tensor: from backward and by differences."""

    index: int  # position in the flat list [W_1, b_1, W_2, ...]
    analytic: float
    numeric: float

    def agrees(self, rtol: float, atol: float) -> bool:
        return abs(self.analytic - self.numeric) <= atol + rtol * (abs(self.analytic) + abs(self.numeric))

    @property
    def ratio(self) -> float:
        return self.analytic / self.numeric if self.numeric != 0.0 else math.inf


def directional_slopes(ctx: CheckContext, case: MLPCase, tensors: list[np.ndarray], loss_fn: LossFunction,
                       rng: np.random.Generator, step: float) -> tuple[list[Slope], Optional[Verdict]]:
    """For each tensor: <grad, U> against (L(theta + step U) - L(theta - step U)) / (2 step), |U| = 1.

    L is `loss_fn` of the student's forward at the perturbed parameters; two forward calls per
    tensor, all sent together (they do not depend on each other).
    """
    base = flat_params(case.params)
    directions = []
    for param in base:
        direction = rng.standard_normal(param.shape)
        directions.append(direction / np.linalg.norm(direction))
    moves = [(index, sign) for index in range(len(base)) for sign in (1.0, -1.0)]
    outcomes = ctx.call_all([
        forward_call(case, unflatten([p + sign * step * directions[index] if i == index else p
                                      for i, p in enumerate(base)]))
        for index, sign in moves])
    slopes = []
    for index, (grad, direction) in enumerate(zip(tensors, directions)):
        losses = []
        for outcome in outcomes[2 * index:2 * index + 2]:
            Y_hat, _, problem = read_forward(outcome.get(), case)
            if problem is not None:
                return [], problem
            losses.append(loss_fn(Y_hat, case.Y, case.loss))
        numeric = (losses[0] - losses[1]) / (2.0 * step)
        if not math.isfinite(numeric):
            return [], fail(f"The {case.loss} loss of forward's output is not finite for {case.label()}: "
                            "forward's Y_hat must be valid input for that loss.")
        slopes.append(Slope(index, float(np.sum(grad * direction)), numeric))
    return slopes, None


def degenerate(slopes: list[Slope], min_slope: float) -> bool:
    """True when the slopes by differences are all ~0 together (their norm at most `min_slope`).

    A random case of a real network has slopes of order 0.1 along random unit directions; a
    loss that ignores the parameters has none, and any backward would "agree" with it.
    """
    return float(np.linalg.norm([s.numeric for s in slopes])) <= min_slope


def judge_slopes(slopes: list[Slope], case: MLPCase, settings: dict, what: str, *, reveal: bool = True) -> Verdict:
    """Pass when every tensor's slope agrees; otherwise name the tensors and, if certain, the mistake.

    With `reveal=False` (hidden checks) the slopes themselves are left out of the feedback.
    """
    rtol, atol = settings.get("gradcheck_rtol", 1e-5), settings.get("gradcheck_atol", 1e-9)
    if degenerate(slopes, settings.get("gradcheck_min_slope", 1e-6)):
        # Both sides ~0 agree for any backward (a constant forward and a zero stub): no evidence.
        return fail(f"The mean {case.loss} loss of your forward does not change when the parameters move "
                    f"({case.label()}), so there is no slope to check backward against: forward must "
                    "compute the network's output from params and X.")
    wrong = [s for s in slopes if not s.agrees(rtol, atol)]
    if not wrong:
        return ok()
    code = common_code([scale_mistake(s.ratio, batch=case.batch, classes=case.sizes[-1], loss=case.loss,
                                      rtol=settings.get("diagnosis_rtol", 1e-4)) for s in wrong])
    first = wrong[0]
    names = ", ".join(tensor_name(s.index) for s in wrong)
    feedback = (f"{what} disagrees with central differences of your own forward's mean {case.loss} loss "
                f"for {case.label()}: {names}.")
    if reveal:
        feedback += (f" Along a random direction, {tensor_name(first.index)} gives slope {first.analytic:.6g} "
                     f"from backward and {first.numeric:.6g} by differences (ratio {first.ratio:.4g}).")
    return with_mistake(feedback, code)


def gradcheck_case(ctx: CheckContext, case: MLPCase, loss_fn: LossFunction, rng: np.random.Generator,
                   reveal: bool = True) -> Verdict:
    """Forward, backward, then the directional gradient check of every tensor, with layout diagnosis.

    With `reveal=False` (hidden checks) the feedback leaves the slopes out.
    """
    step = ctx.settings.get("gradcheck_step", 1e-5)
    _, tensors, problem = student_gradients(ctx, case)
    if problem is not None:
        return problem
    shapes = shape_problem(tensors, case.params)
    if shapes is None:
        slopes, problem = directional_slopes(ctx, case, tensors, loss_fn, rng, step)
        if problem is not None:
            return problem
        verdict = judge_slopes(slopes, case, ctx.settings, "backward", reveal=reveal)
        if verdict.passed or verdict.diagnosis:
            return verdict
        return with_mistake(verdict.feedback, variant_mistake(tensors, case, ctx.settings.get("diagnosis_rtol", 1e-4)))
    for mistake, candidate in layout_candidates(tensors, case.params).items():
        slopes, problem = directional_slopes(ctx, case, candidate, loss_fn, rng, step)
        if problem is None and judge_slopes(slopes, case, ctx.settings, "backward").passed:
            return with_mistake(f"backward, {case.label()}: {shapes}", mistake)
    return fail(f"backward, {case.label()}: {shapes}")


def retried(attempts: int, run: Callable[[], Verdict]) -> Verdict:
    """The first passing verdict of up to `attempts` fresh draws, else the first failure.

    A random ReLU case can, rarely, put a pre-activation within the finite-difference step of
    the kink; a correct backward then passes on a fresh draw, a wrong one fails every draw.
    """
    first = run()
    for _ in range(attempts - 1):
        if first.passed:
            break
        if run().passed:
            return ok()
    return first


# Comparing with known-right gradients (fixtures here, the reference in the hidden checks).

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
                return with_mistake(f"{what}: {shapes}", mistake)
        return fail(f"{what}: {shapes}")
    wrong, scale = compare_grads(tensors, expected, case, rtol=rtol, diagnosis_rtol=diagnosis_rtol)
    if not wrong:
        return ok()
    if scale is not None:
        names = ", ".join(tensor_name(i) for i, _ in wrong)
        return with_mistake(f"{what}: {scale_phrase(names, scale, plural=len(wrong) > 1)} "
                            f"{delta_formula(case, wrong)}", scale.code)
    code = variants.matching_gradients(tensors, mistaken, diagnosis_rtol)
    return with_mistake(f"{what}: {describe_wrong(wrong)}. {delta_formula(case, wrong)}", code)


# Fixtures: the lecture's network and fixed cases, answered by the reference.

@fixture_builder(STEM, "lecture")
def build_lecture() -> dict:
    """The lecture's 2-2-1 network (sigmoid hidden and output, BCE, no biases) as an MLP case."""
    from reference import hand_network, mlp

    x, V, w, y = hand_network.LECTURE_CASE
    params = [(np.array(V), np.zeros(2)), (np.array(w).reshape(2, 1), np.zeros(1))]
    X, Y = np.array(x).reshape(1, 2), np.array([[float(y)]])
    Y_hat, cache = mlp.forward(params, X, hidden="sigmoid", output="sigmoid")
    grads = mlp.backward(params, cache, Y, loss="bce")
    printed = hand_network.LECTURE_PRINTED  # the numbers as the slides print them
    return {"params": [list(p) for p in params], "X": X, "Y": Y, "hidden": "sigmoid", "output": "sigmoid",
            "loss": "bce", "Y_hat": Y_hat, "grads": flat_params(grads),
            **mistaken_answers(params, X, Y, "sigmoid", "sigmoid", "bce"),
            "printed": {key: printed[key] for key in ("y_hat", "grad_w", "grad_V", "delta_hidden", "delta_out")}}


def mistaken_answers(params: Params, X: np.ndarray, Y: np.ndarray, hidden: str, output: str, loss: str) -> dict:
    """A fixture case's mistaken variants, as data: [code, Y_hat] and [code, [dW_1, db_1, ...]] lists."""
    return {"forward_variants": [list(v) for v in variants.mlp_forward_variants(params, X, hidden, output)],
            "backward_variants": [list(v) for v in variants.mlp_backward_variants(params, X, Y, hidden, output, loss)]}


@fixture_builder(STEM, "cases", draws=True)
def build_cases(rng: Optional[np.random.Generator] = None) -> dict:
    """One two-layer case per hidden activation and output/loss pair, with the reference's answers.

    Without `rng`: the published cases; with it (grading): cases of the same kind drawn from it.
    """
    from reference import mlp

    rng = np.random.default_rng(20240302) if rng is None else rng
    cases = []
    for hidden in HIDDEN_ACTIVATIONS:
        for output, loss in OUTPUT_LOSS_PAIRS:
            case = random_case(rng, 2, hidden, output, loss)
            Y_hat, cache = mlp.forward(case.params, case.X, hidden=hidden, output=output)
            grads = mlp.backward(case.params, cache, case.Y, loss=loss)
            cases.append({"params": [list(p) for p in case.params], "X": case.X, "Y": case.Y, "hidden": hidden,
                          "output": output, "loss": loss, "Y_hat": Y_hat, "grads": flat_params(grads),
                          **mistaken_answers(case.params, case.X, case.Y, hidden, output, loss)})
    return {"cases": cases}


# init_params

INIT_SHAPE_CASES: tuple[tuple[int, ...], ...] = ((4, 3), (5, 7, 2), (6, 4, 3, 2))


def read_init(value: Any, sizes: tuple[int, ...]) -> tuple[Optional[Params], Optional[Verdict]]:
    """The answer as [(W, b)] with W (n_in, n_out), b (n_out,), or a failed verdict saying what is off."""
    call, depth = f"init_params({list(sizes)})", len(sizes) - 1
    if not isinstance(value, (list, tuple)):
        return None, fail(f"{call} should return a list of {depth} (W, b) pair(s), but it returned {describe(value)}.")
    if len(value) != depth:
        return None, fail(f"{call} should return {depth} (W, b) pair(s), one per layer, but it returned {len(value)}.")
    params: Params = []
    for layer, pair in enumerate(value):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            return None, fail(f"{call}[{layer}] should be a pair (W, b), but it is {describe(pair)}.")
        for what, part, shape in (("W", pair[0], (sizes[layer], sizes[layer + 1])), ("b", pair[1], (sizes[layer + 1],))):
            array = to_array(part)
            if array is None or array.shape != shape:
                found = describe(part) if array is None else f"of shape {array.shape}"
                return None, fail(f"{call}: {what}[{layer}] should have shape {shape}, but it is {found}.")
            if not np.all(np.isfinite(array)):
                return None, fail(f"{call}: {what}[{layer}] holds inf or nan.")
        params.append((to_array(pair[0]), to_array(pair[1])))
    return params, None


@check(STEM, "init_params.shapes", needs=("init_params",),
       hint="One (W, b) per layer: W of shape (n_in, n_out), b of shape (n_out,).")
def init_params_shapes(ctx: CheckContext) -> Verdict:
    for sizes in INIT_SHAPE_CASES:
        _, problem = read_init(ctx.call("init_params", list(sizes)), sizes)
        if problem is not None:
            return problem
    return ok()


@check(STEM, "init_params.seed", needs=("init_params",),
       hint="Draw the weights from np.random.default_rng(seed): same seed, same weights.")
def init_params_seed(ctx: CheckContext) -> Verdict:
    sizes = (6, 5, 4)
    seed = int(ctx.rng.integers(1, 2**31))
    first, problem = read_init(ctx.call("init_params", list(sizes), seed=seed), sizes)
    if problem is not None:
        return problem
    again, _ = read_init(ctx.call("init_params", list(sizes), seed=seed), sizes)
    other, _ = read_init(ctx.call("init_params", list(sizes), seed=seed + 1), sizes)
    if again is None or any(not np.array_equal(a, b) for a, b in zip(flat_params(first), flat_params(again))):
        return fail(f"init_params({list(sizes)}, seed={seed}) gave different weights on two calls: "
                    "draw them from a generator built from `seed`, not from global random state.")
    if other is None or all(np.array_equal(a[0], b[0]) for a, b in zip(first, other)):
        return fail(f"init_params gave the same weights for seed={seed} and seed={seed + 1}: use `seed`.")
    for layer, (W, _) in enumerate(first):
        if np.ptp(W) == 0.0:
            return fail(f"init_params: every entry of W[{layer}] is the same; equal weights give every unit "
                        "of a layer the same gradient, so they never become different. Draw them at random.")
    return ok()


@check(STEM, "init_params.scale", needs=("init_params",),
       hint="Xavier/Glorot: Var(W_l) = 2 / (n_in + n_out), e.g. U(-a, a) with a = sqrt(6 / (n_in + n_out)); "
            "biases zero.")
def init_params_scale(ctx: CheckContext) -> Verdict:
    """Mean and variance of each W against Xavier's Var = 2 / (n_in + n_out); biases zero or small.

    For N iid weights with variance s^2 and kurtosis k, the mean of squares m2 has mean s^2 and
    standard deviation s^2 sqrt((k - 1) / N), and the mean has standard deviation s / sqrt(N).
    Both are tested at `init_sigmas` standard deviations with k = `init_kurtosis_max` (3, the
    normal's; uniform has 1.8), so a correct implementation fails with probability ~1e-9 per
    test (normal tail at 6 sigma, N >= 30,000 makes m2 close to normal).
    """
    sizes = tuple(ctx.settings.get("init_sizes", (400, 300, 100)))
    sigmas = ctx.settings.get("init_sigmas", 6.0)
    kurtosis = ctx.settings.get("init_kurtosis_max", 3.0)
    bias_max = ctx.settings.get("init_bias_max", 0.01)
    seed = int(ctx.rng.integers(0, 2**31))
    params, problem = read_init(ctx.call("init_params", list(sizes), seed=seed), sizes)
    if problem is not None:
        return problem
    for layer, (W, b) in enumerate(params):
        n_in, n_out = W.shape
        variance = 2.0 / (n_in + n_out)
        count = W.size
        mean_sq = float(np.mean(W ** 2))
        tolerance = sigmas * math.sqrt((kurtosis - 1.0) / count)
        if abs(mean_sq / variance - 1.0) > tolerance:
            return fail(f"init_params({list(sizes)}): W[{layer}] ({n_in} x {n_out}) has mean square {mean_sq:.3g}; "
                        f"Xavier/Glorot gives variance 2 / (n_in + n_out) = {variance:.3g} "
                        f"(allowed relative deviation {tolerance:.2g}).")
        if abs(float(np.mean(W))) > sigmas * math.sqrt(variance / count):
            return fail(f"init_params({list(sizes)}): W[{layer}] has mean {np.mean(W):.3g}; Xavier weights are "
                        "centred on 0.")
        if np.max(np.abs(b)) > bias_max:
            return fail(f"init_params({list(sizes)}): b[{layer}] has entries up to {np.max(np.abs(b)):.3g}; "
                        f"start biases at zero (at most {bias_max:g}).")
    return ok()


# forward

@check(STEM, "forward.lecture", needs=("forward",),
       hint="The lecture's 2-2-1 network: forward([(V, 0), (w[:, None], 0)], x[None, :], 'sigmoid', 'sigmoid').")
def forward_lecture(ctx: CheckContext) -> Verdict:
    data = ctx.fixture("lecture")
    case = case_from_data(data)
    Y_hat, _, problem = student_forward(ctx, case)
    if problem is not None:
        return problem
    verdict = compare_arrays(Y_hat, data["Y_hat"], what="Y_hat", rtol=ctx.settings.get("rtol", 1e-6))
    if verdict.passed:
        return ok()
    x, V, w = case.X[0].tolist(), case.params[0][0].tolist(), case.params[1][0][:, 0].tolist()
    return with_mistake(f"For the lecture's network (x = {x}, V = {V}, w = {w}), forward gives "
                        f"y_hat = {float(Y_hat.ravel()[0]):.6g}; the lecture's is {data['printed']['y_hat']:.3f} "
                        f"(exactly {float(data['Y_hat'].ravel()[0]):.6f}).",
                        forward_mistake(Y_hat, data, case, ctx.settings))


@check(STEM, "forward.values", needs=("forward",),
       hint="Z_l = A_{l-1} @ W_l + b_l, A_l = act(Z_l); the last layer uses `output`, the others `hidden`.")
def forward_values(ctx: CheckContext) -> Verdict:
    fixtures = ctx.fixture("cases")["cases"]
    cases = [case_from_data(data) for data in fixtures]
    for data, case, (Y_hat, _, problem) in zip(fixtures, cases, student_forwards(ctx, cases)):
        if problem is not None:
            return problem
        verdict = compare_arrays(Y_hat, data["Y_hat"], what=f"forward's Y_hat ({case.label()})",
                                 rtol=ctx.settings.get("rtol", 1e-6))
        if not verdict.passed:
            return with_mistake(verdict.feedback, forward_mistake(Y_hat, data, case, ctx.settings))
    return ok()


def forward_mistake(Y_hat: np.ndarray, data: dict, case: MLPCase, settings: dict) -> Optional[str]:
    """The slip a wrong Y_hat shows: a fixture's mistaken variant it equals, or rows not summing to 1."""
    mistaken = [(code, np.asarray(variant)) for code, variant in data.get("forward_variants", [])]
    code = variants.matching_variant(Y_hat, mistaken, settings.get("diagnosis_rtol", 1e-4), right=data["Y_hat"])
    if code is None and case.output == "softmax" and softmax_axis_evidence(Y_hat):
        code = "softmax_wrong_axis"
    return code


def softmax_axis_evidence(Y_hat: np.ndarray) -> bool:
    """True when the columns, or the whole array, sum to 1 instead of the rows."""
    columns = Y_hat.shape[0] != Y_hat.shape[1] and np.allclose(Y_hat.sum(axis=0), 1.0, atol=1e-9)
    return bool(columns or np.isclose(Y_hat.sum(), 1.0, atol=1e-9))


def output_properties(Y_hat: np.ndarray, case: MLPCase) -> Optional[Verdict]:
    """Finite; softmax rows are distributions; sigmoid outputs lie in [0, 1]."""
    if not np.all(np.isfinite(Y_hat)):
        return fail(f"forward's Y_hat holds inf or nan for {case.label()}.")
    if case.output == "softmax":
        if not np.allclose(Y_hat.sum(axis=1), 1.0, rtol=0.0, atol=1e-9) or np.any(Y_hat < 0):
            code = "softmax_wrong_axis" if softmax_axis_evidence(Y_hat) else None
            return with_mistake(f"With output='softmax', each row of Y_hat must be a probability distribution "
                                f"(entries >= 0, summing to 1), but it is not for {case.label()}.", code)
    if case.output == "sigmoid" and (np.any(Y_hat < 0) or np.any(Y_hat > 1)):
        return fail(f"With output='sigmoid', Y_hat must lie in [0, 1], but it does not for {case.label()}.")
    return None


@check(STEM, "forward.properties", needs=("forward",),
       hint="Y_hat has shape (B, n_L); softmax normalises each row; each row depends only on its own example.")
def forward_properties(ctx: CheckContext) -> Verdict:
    """Shapes for depths 1-3 and batch 1; output ranges; each example's row independent of the others."""
    rng = ctx.rng
    cases = [random_case(rng, depth, str(rng.choice(HIDDEN_ACTIVATIONS)), output, loss, batch_one)
             for depth in (1, 2, 3) for output, loss in OUTPUT_LOSS_PAIRS for batch_one in (False, True)]
    # each batch case, then its last example alone; all sent together, read in that order
    runs = [run for case in cases for run in ([case] if case.batch == 1 else [case, last_example(case)])]
    answers = student_forwards(ctx, runs)
    for case in cases:
        Y_hat, _, problem = next(answers)
        if problem is None:
            problem = output_properties(Y_hat, case)
        if case.batch > 1:
            alone = next(answers)
            if problem is None:
                problem = row_independence(case, Y_hat, alone)
        if problem is not None:
            return problem
    return ok()


def last_example(case: MLPCase) -> MLPCase:
    return MLPCase(case.params, case.X[-1:], case.Y[-1:], case.hidden, case.output, case.loss)


def row_independence(case: MLPCase, Y_hat: np.ndarray, answer: tuple) -> Optional[Verdict]:
    """forward on the last example alone (`answer`, from `student_forwards`) must give the last row
    of the batch's output."""
    alone, _, problem = answer
    if problem is not None:
        return problem
    if not np.allclose(alone, Y_hat[-1:], rtol=1e-9, atol=1e-12):
        code = "softmax_wrong_axis" if case.output == "softmax" and softmax_axis_evidence(Y_hat) else None
        return with_mistake(f"forward's row for an example changes when other examples are in the batch "
                            f"({case.label()}): each row of X is one example and must be processed alone.", code)
    return None


# backward

@check(STEM, "backward.lecture", needs=("forward", "backward"),
       hint="The lecture's network: delta_out = y_hat - y, dL/dw_j = delta_out h_j, dL/dv_ij = delta_j x_i.")
def backward_lecture(ctx: CheckContext) -> Verdict:
    data = ctx.fixture("lecture")
    case = case_from_data(data)
    Y_hat, tensors, problem = student_gradients(ctx, case)
    if problem is not None:
        return problem
    verdict = grads_against(tensors, data["grads"], case, ctx.settings, "backward on the lecture's network",
                            fixture_variants(Y_hat, data, ctx.settings))
    if verdict.passed:
        return ok()
    printed = data["printed"]
    return fail(f"{verdict.feedback} The lecture has dL/dV = {np.round(printed['grad_V'], 3).tolist()} "
                f"(dW[0]), dL/dw = {np.round(printed['grad_w'], 3).tolist()} (dW[1] as a column), "
                f"db[0] = delta_hidden = {np.round(printed['delta_hidden'], 3).tolist()}, "
                f"db[1] = delta_out = {printed['delta_out']:.3f}.", verdict.diagnosis)


@check(STEM, "backward.shapes", needs=("forward", "backward"),
       hint="backward returns [(dW_1, db_1), ..., (dW_L, db_L)], each with its parameter's shape.")
def backward_shapes(ctx: CheckContext) -> Verdict:
    rng = ctx.rng
    cases = []
    for depth in (1, 2, 3):
        for batch_one in (False, True):
            output, loss = OUTPUT_LOSS_PAIRS[int(rng.integers(len(OUTPUT_LOSS_PAIRS)))]
            cases.append(random_case(rng, depth, str(rng.choice(HIDDEN_ACTIVATIONS)), output, loss, batch_one))
    for case, (_, tensors, problem) in zip(cases, students_gradients(ctx, cases)):
        if problem is not None:
            return problem
        shapes = shape_problem(tensors, case.params)
        if shapes is not None:
            # Every size differs, so shapes that all fit once rearranged show the layout slip.
            fits = list(layout_candidates(tensors, case.params))
            return with_mistake(f"backward, {case.label()}: {shapes}", fits[0] if len(fits) == 1 else None)
    return ok()


@check(STEM, "backward.values", needs=("forward", "backward"),
       hint="delta_L from the loss, then " + HIDDEN_RECIPE + ".")
def backward_values(ctx: CheckContext) -> Verdict:
    fixtures = ctx.fixture("cases")["cases"]
    cases = [case_from_data(data) for data in fixtures]
    for data, case, (Y_hat, tensors, problem) in zip(fixtures, cases, students_gradients(ctx, cases)):
        if problem is not None:
            return problem
        verdict = grads_against(tensors, data["grads"], case, ctx.settings, f"backward, {case.label()}",
                                fixture_variants(Y_hat, data, ctx.settings))
        if not verdict.passed:
            return verdict
    return ok()


def fixture_variants(Y_hat: np.ndarray, data: dict, settings: dict) -> list[tuple[str, list[np.ndarray]]]:
    """A fixture case's mistaken gradients, when the student's forward agrees with the case's Y_hat.

    The variants start from the right forward pass: compared with a backward fed a wrong one,
    they would prove nothing.
    """
    if not np.allclose(Y_hat, data["Y_hat"], rtol=settings.get("rtol", 1e-6), atol=1e-12):
        return []
    return [(code, [np.asarray(t) for t in grads]) for code, grads in data.get("backward_variants", [])]


def register_gradcheck(hidden: str) -> None:
    """backward.gradcheck.<hidden>: every output/loss pair, checked against the student's own forward."""

    @check(STEM, f"backward.gradcheck.{hidden}", needs=("forward", "backward"),
           hint=f"Your backward must match the slope of your own forward's loss (hidden={hidden!r}).")
    def gradcheck(ctx: CheckContext) -> Verdict:
        rng = ctx.rng
        attempts = int(ctx.settings.get("gradcheck_attempts", 3))
        for output, loss in OUTPUT_LOSS_PAIRS:
            depth = int(rng.integers(2, 4))
            verdict = retried(attempts, lambda: gradcheck_case(
                ctx, random_case(rng, depth, hidden, output, loss), mean_loss, rng))
            if not verdict.passed:
                return verdict
        return ok()


for _hidden in HIDDEN_ACTIVATIONS:
    register_gradcheck(_hidden)


# Backpropagation, not numerical differentiation: what backward costs against forward.

@dataclass(frozen=True)
class CostMeasurement:
    """Shortest wall-clock seconds of `forward` and of `backward` on one network, timed in the grader."""

    parameters: int
    sizes: tuple[int, ...]
    forward_s: float
    backward_s: float

    @property
    def ratio(self) -> float:
        return self.backward_s / max(self.forward_s, 1e-9)


def numerical_differentiation(cost: CostMeasurement, ratio_max: float, floor_s: float) -> bool:
    """True when backward costs like finite differences: more than `ratio_max` forward calls
    and more than `floor_s` seconds.

    Backpropagation costs a few forward passes; finite differences cost one or two forward
    passes per parameter (thousands here). Both timings are minima over repeated calls, so
    machine load (which slows both) cannot flip the verdict; the floor keeps an honest but
    slow loop over the entries (milliseconds on this network) from ever counting.
    """
    return cost.ratio > ratio_max and cost.backward_s > floor_s


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = run()
    return time.perf_counter() - started, value


def backward_cost(ctx: CheckContext, case: MLPCase, repeats: int, limit_s: float) -> tuple[Optional[CostMeasurement], Optional[Verdict]]:
    """Forward timed `repeats` times, backward up to `repeats` times (stopping once one call is
    cheaper than `limit_s`: the minimum can only fall), each call alone so no queue is timed."""
    forward_times, cache = [], None
    for _ in range(repeats):
        name, args, kwargs = forward_call(case)
        seconds, value = timed(lambda: ctx.call(name, *args, **kwargs))
        _, cache, problem = read_forward(value, case)
        if problem is not None:
            return None, problem
        forward_times.append(seconds)
    backward_times = []
    for _ in range(repeats):
        name, args, kwargs = backward_call(case, cache)
        seconds, value = timed(lambda: ctx.call(name, *args, **kwargs))
        _, problem = read_grads(value, case.depth)
        if problem is not None:
            return None, problem
        backward_times.append(seconds)
        if seconds <= limit_s:
            break
    parameters = sum(p.size for p in flat_params(case.params))
    return CostMeasurement(parameters, tuple(case.sizes), min(forward_times), min(backward_times)), None


@check(STEM, "backward.backpropagation", needs=("forward", "backward"), timeout=30.0,
       hint="Compute the gradients by the chain rule, layer by layer from the output back "
            "(one pass, a few matrix products per layer), not by perturbing each parameter.")
def backward_backpropagation(ctx: CheckContext) -> Verdict:
    """backward on a network of a few thousand parameters costs a few forwards, not 2P of them."""
    rng = ctx.rng
    sizes = [int(n) for n in ctx.settings.get("cost_sizes", (96, 48, 10))]
    batch = int(ctx.settings.get("cost_batch", 2))
    ratio_max = float(ctx.settings.get("cost_ratio_max", 60.0))
    floor_s = float(ctx.settings.get("cost_floor_s", 0.05))
    case = MLPCase(random_params(rng, sizes), rng.standard_normal((batch, sizes[0])),
                   random_targets(rng, "cce", batch, sizes[-1]), "tanh", "softmax", "cce")
    cost, problem = backward_cost(ctx, case, int(ctx.settings.get("cost_repeats", 3)), floor_s)
    if problem is not None:
        return problem
    if not numerical_differentiation(cost, ratio_max, floor_s):
        return ok()
    network = "-".join(str(n) for n in cost.sizes)
    return fail(f"backward calls forward per parameter: this is numerical differentiation, not backpropagation. "
                f"On a {network} network ({cost.parameters:,} parameters, batch {batch}) one backward took "
                f"{cost.backward_s * 1000:.0f} ms, {cost.ratio:.0f} times one forward "
                f"({cost.forward_s * 1000:.1f} ms); backpropagation costs a few forward passes, finite "
                "differences one or two per parameter. Use the recipe: " + HIDDEN_RECIPE + ".")
