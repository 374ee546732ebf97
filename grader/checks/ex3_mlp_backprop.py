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
The cases and the calls into the student's code (`grader.checks.lib.mlp_cases`, `mlp_calls`),
the comparison with known-right gradients (`mlp_gradients`) and the directional gradient check
(`directional`) are shared with the hidden checks.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.compare import compare_arrays, describe, to_array
from grader.checks.fixtures import fixture_builder
from grader.checks.lib.answers import AnswerError, register, with_mistake
from grader.checks.lib.directional import gradcheck_case, retried
from grader.checks.lib.directional import Slope, degenerate  # noqa: F401 - read here by its tests
from grader.checks.lib.mlp_calls import (
    backward_call, forward_call, read_forward, read_grads, student_forward, student_forwards, student_gradients,
    students_gradients,
)
from grader.checks.lib.mlp_cases import (
    HIDDEN_ACTIVATIONS, OUTPUT_LOSS_PAIRS, STEM, MLPCase, Params, case_from_data, flat_params, random_case,
    random_params, random_targets,
)
from grader.checks.lib.mlp_cases import distinct_shapes, unflatten  # noqa: F401 - read here by its tests
from grader.checks.lib.mlp_gradients import HIDDEN_RECIPE, grads_against, layout_candidates, shape_problem
from grader.checks.lib.mlp_gradients import scale_mistake  # noqa: F401 - read here by its tests
from grader.diagnosis import variants


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


def read_init(value: Any, sizes: tuple[int, ...]) -> Params:
    """The answer as [(W, b)] with W (n_in, n_out), b (n_out,); raises AnswerError saying what is off."""
    call, depth = f"init_params({list(sizes)})", len(sizes) - 1
    if not isinstance(value, (list, tuple)):
        raise AnswerError(fail(f"{call} should return a list of {depth} (W, b) pair(s), "
                               f"but it returned {describe(value)}."))
    if len(value) != depth:
        raise AnswerError(fail(f"{call} should return {depth} (W, b) pair(s), one per layer, "
                               f"but it returned {len(value)}."))
    params: Params = []
    for layer, pair in enumerate(value):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise AnswerError(fail(f"{call}[{layer}] should be a pair (W, b), but it is {describe(pair)}."))
        for what, part, shape in (("W", pair[0], (sizes[layer], sizes[layer + 1])), ("b", pair[1], (sizes[layer + 1],))):
            array = to_array(part)
            if array is None or array.shape != shape:
                found = describe(part) if array is None else f"of shape {array.shape}"
                raise AnswerError(fail(f"{call}: {what}[{layer}] should have shape {shape}, but it is {found}."))
            if not np.all(np.isfinite(array)):
                raise AnswerError(fail(f"{call}: {what}[{layer}] holds inf or nan."))
        params.append((to_array(pair[0]), to_array(pair[1])))
    return params


def init_or_none(value: Any, sizes: tuple[int, ...]) -> Optional[Params]:
    """`read_init`'s params, or None where it would fail (a repeated call, judged on its own terms)."""
    try:
        return read_init(value, sizes)
    except AnswerError:
        return None


@register(STEM, "init_params.shapes", needs=("init_params",),
          hint="One (W, b) per layer: W of shape (n_in, n_out), b of shape (n_out,).")
def init_params_shapes(ctx: CheckContext) -> Verdict:
    for sizes in INIT_SHAPE_CASES:
        read_init(ctx.call("init_params", list(sizes)), sizes)
    return ok()


@register(STEM, "init_params.seed", needs=("init_params",),
          hint="Draw the weights from np.random.default_rng(seed): same seed, same weights.")
def init_params_seed(ctx: CheckContext) -> Verdict:
    sizes = (6, 5, 4)
    seed = int(ctx.rng.integers(1, 2**31))
    first = read_init(ctx.call("init_params", list(sizes), seed=seed), sizes)
    again = init_or_none(ctx.call("init_params", list(sizes), seed=seed), sizes)
    other = init_or_none(ctx.call("init_params", list(sizes), seed=seed + 1), sizes)
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


@register(STEM, "init_params.scale", needs=("init_params",),
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
    params = read_init(ctx.call("init_params", list(sizes), seed=seed), sizes)
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

@register(STEM, "forward.lecture", needs=("forward",),
          hint="The lecture's 2-2-1 network: forward([(V, 0), (w[:, None], 0)], x[None, :], 'sigmoid', 'sigmoid').")
def forward_lecture(ctx: CheckContext) -> Verdict:
    data = ctx.fixture("lecture")
    case = case_from_data(data)
    Y_hat, _ = student_forward(ctx, case)
    verdict = compare_arrays(Y_hat, data["Y_hat"], what="Y_hat", rtol=ctx.settings.get("rtol", 1e-6))
    if verdict.passed:
        return ok()
    x, V, w = case.X[0].tolist(), case.params[0][0].tolist(), case.params[1][0][:, 0].tolist()
    return with_mistake(f"For the lecture's network (x = {x}, V = {V}, w = {w}), forward gives "
                        f"y_hat = {float(Y_hat.ravel()[0]):.6g}; the lecture's is {data['printed']['y_hat']:.3f} "
                        f"(exactly {float(data['Y_hat'].ravel()[0]):.6f}).",
                        forward_mistake(Y_hat, data, case, ctx.settings), STEM)


@register(STEM, "forward.values", needs=("forward",),
          hint="Z_l = A_{l-1} @ W_l + b_l, A_l = act(Z_l); the last layer uses `output`, the others `hidden`.")
def forward_values(ctx: CheckContext) -> Verdict:
    fixtures = ctx.fixture("cases")["cases"]
    cases = [case_from_data(data) for data in fixtures]
    for data, case, (Y_hat, _) in zip(fixtures, cases, student_forwards(ctx, cases)):
        verdict = compare_arrays(Y_hat, data["Y_hat"], what=f"forward's Y_hat ({case.label()})",
                                 rtol=ctx.settings.get("rtol", 1e-6))
        if not verdict.passed:
            return with_mistake(verdict.feedback, forward_mistake(Y_hat, data, case, ctx.settings), STEM)
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
                                f"(entries >= 0, summing to 1), but it is not for {case.label()}.", code, STEM)
    if case.output == "sigmoid" and (np.any(Y_hat < 0) or np.any(Y_hat > 1)):
        return fail(f"With output='sigmoid', Y_hat must lie in [0, 1], but it does not for {case.label()}.")
    return None


@register(STEM, "forward.properties", needs=("forward",),
          hint="Y_hat has shape (B, n_L); softmax normalises each row; each row depends only on its own example.")
def forward_properties(ctx: CheckContext) -> Verdict:
    """Shapes for depths 1-3 and batch 1; output ranges; each example's row independent of the others."""
    rng = ctx.rng
    cases = [random_case(rng, depth, str(rng.choice(HIDDEN_ACTIVATIONS)), output, loss, batch_one)
             for depth in (1, 2, 3) for output, loss in OUTPUT_LOSS_PAIRS for batch_one in (False, True)]
    # each batch case, then its last example alone; all sent together, read in that order
    runs = [run for case in cases for run in ([case] if case.batch == 1 else [case, last_example(case)])]
    outcomes = iter(ctx.call_all([forward_call(run) for run in runs]))
    for case in cases:
        value = next(outcomes).get()
        try:
            Y_hat, _ = read_forward(value, case)
            problem = output_properties(Y_hat, case)
        except AnswerError as exc:
            problem = exc.verdict
        if case.batch > 1:
            # read even after a problem: an error of this call still comes first, as one at a time
            alone = next(outcomes).get()
            if problem is None:
                problem = row_independence(case, Y_hat, read_forward(alone, last_example(case))[0])
        if problem is not None:
            return problem
    return ok()


def last_example(case: MLPCase) -> MLPCase:
    return MLPCase(case.params, case.X[-1:], case.Y[-1:], case.hidden, case.output, case.loss)


def row_independence(case: MLPCase, Y_hat: np.ndarray, alone: np.ndarray) -> Optional[Verdict]:
    """forward on the last example alone (its Y_hat, `alone`) must give the last row of the batch's output."""
    if not np.allclose(alone, Y_hat[-1:], rtol=1e-9, atol=1e-12):
        code = "softmax_wrong_axis" if case.output == "softmax" and softmax_axis_evidence(Y_hat) else None
        return with_mistake(f"forward's row for an example changes when other examples are in the batch "
                            f"({case.label()}): each row of X is one example and must be processed alone.", code, STEM)
    return None


# backward

@register(STEM, "backward.lecture", needs=("forward", "backward"),
          hint="The lecture's network: delta_out = y_hat - y, dL/dw_j = delta_out h_j, dL/dv_ij = delta_j x_i.")
def backward_lecture(ctx: CheckContext) -> Verdict:
    data = ctx.fixture("lecture")
    case = case_from_data(data)
    Y_hat, tensors = student_gradients(ctx, case)
    verdict = grads_against(tensors, data["grads"], case, ctx.settings, "backward on the lecture's network",
                            fixture_variants(Y_hat, data, ctx.settings))
    if verdict.passed:
        return ok()
    printed = data["printed"]
    return fail(f"{verdict.feedback} The lecture has dL/dV = {np.round(printed['grad_V'], 3).tolist()} "
                f"(dW[0]), dL/dw = {np.round(printed['grad_w'], 3).tolist()} (dW[1] as a column), "
                f"db[0] = delta_hidden = {np.round(printed['delta_hidden'], 3).tolist()}, "
                f"db[1] = delta_out = {printed['delta_out']:.3f}.", verdict.diagnosis)


@register(STEM, "backward.shapes", needs=("forward", "backward"),
          hint="backward returns [(dW_1, db_1), ..., (dW_L, db_L)], each with its parameter's shape.")
def backward_shapes(ctx: CheckContext) -> Verdict:
    rng = ctx.rng
    cases = []
    for depth in (1, 2, 3):
        for batch_one in (False, True):
            output, loss = OUTPUT_LOSS_PAIRS[int(rng.integers(len(OUTPUT_LOSS_PAIRS)))]
            cases.append(random_case(rng, depth, str(rng.choice(HIDDEN_ACTIVATIONS)), output, loss, batch_one))
    for case, (_, tensors) in zip(cases, students_gradients(ctx, cases)):
        shapes = shape_problem(tensors, case.params)
        if shapes is not None:
            # Every size differs, so shapes that all fit once rearranged show the layout slip.
            fits = list(layout_candidates(tensors, case.params))
            return with_mistake(f"backward, {case.label()}: {shapes}", fits[0] if len(fits) == 1 else None, STEM)
    return ok()


@register(STEM, "backward.values", needs=("forward", "backward"),
          hint="delta_L from the loss, then " + HIDDEN_RECIPE + ".")
def backward_values(ctx: CheckContext) -> Verdict:
    fixtures = ctx.fixture("cases")["cases"]
    cases = [case_from_data(data) for data in fixtures]
    for data, case, (Y_hat, tensors) in zip(fixtures, cases, students_gradients(ctx, cases)):
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

    @register(STEM, f"backward.gradcheck.{hidden}", needs=("forward", "backward"),
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


def backward_cost(ctx: CheckContext, case: MLPCase, repeats: int, limit_s: float) -> CostMeasurement:
    """Forward timed `repeats` times, backward up to `repeats` times (stopping once one call is
    cheaper than `limit_s`: the minimum can only fall), each call alone so no queue is timed.
    Raises AnswerError when an answer cannot be used."""
    forward_times, cache = [], None
    for _ in range(repeats):
        name, args, kwargs = forward_call(case)
        seconds, value = timed(lambda: ctx.call(name, *args, **kwargs))
        _, cache = read_forward(value, case)
        forward_times.append(seconds)
    backward_times = []
    for _ in range(repeats):
        name, args, kwargs = backward_call(case, cache)
        seconds, value = timed(lambda: ctx.call(name, *args, **kwargs))
        read_grads(value, case.depth)
        backward_times.append(seconds)
        if seconds <= limit_s:
            break
    parameters = sum(p.size for p in flat_params(case.params))
    return CostMeasurement(parameters, tuple(case.sizes), min(forward_times), min(backward_times))


@register(STEM, "backward.backpropagation", needs=("forward", "backward"), timeout=30.0,
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
    cost = backward_cost(ctx, case, int(ctx.settings.get("cost_repeats", 3)), floor_s)
    if not numerical_differentiation(cost, ratio_max, floor_s):
        return ok()
    network = "-".join(str(n) for n in cost.sizes)
    return fail(f"backward calls forward per parameter: this is numerical differentiation, not backpropagation. "
                f"On a {network} network ({cost.parameters:,} parameters, batch {batch}) one backward took "
                f"{cost.backward_s * 1000:.0f} ms, {cost.ratio:.0f} times one forward "
                f"({cost.forward_s * 1000:.1f} ms); backpropagation costs a few forward passes, finite "
                "differences one or two per parameter. Use the recipe: " + HIDDEN_RECIPE + ".")
