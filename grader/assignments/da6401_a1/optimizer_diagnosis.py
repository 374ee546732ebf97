"""Which update rule explains a student's optimizer: the expected one, or a known mistake.

The grader runs the student's optimizer for k updates and records the parameters before the
first update and after each one, with the loss gradients at the parameters before each update.
Every candidate rule is replayed on that record, teacher-forced: at update k it starts from the
student's own parameters `w_k` and gradients `g_k`, carries its own state (velocity, moments,
time step) and predicts the change `w_{k+1} - w_k`. A right rule predicts the student's changes
to rounding; a wrong one drifts from the first update where it differs. The error of one update
of one tensor is norm-relative, `|predicted - observed| / (|predicted| + |observed|)` (Frobenius
norms, plus a rounding floor for changes that cancel to nothing against large weights), and a
candidate's error is the largest over updates and tensors.

Candidates, for the expected rule:
- its accepted forms (any one matching means `matches`): the textbook rule of `optimizers.py`;
  for rmsprop, adam and nadam also `eps` inside the square root (`sqrt(v + eps)`, as the course's
  slides write it); for nadam also Dozat's `b1 m / (1 - b1^(t+1))`; for nag the Bengio form and,
  with a `grad_fn`, the look-ahead form (its L2 term at the look-ahead point, the regularised
  loss's gradient there, or at `w`, added by the optimizer to `backward`'s look-ahead gradient);
- named mistakes, each built on every accepted form: `nag_is_momentum` (momentum's update),
  `nag_is_sgd` (plain SGD), `momentum_ema` (`u = beta u + (1 - beta) g`, for momentum and nag),
  `adam_step_per_layer` (t advanced once per layer or per tensor, layers visited first to last
  or last to first), `no_bias_correction` (neither moment, or only one, corrected; for nadam
  also m and v raw while the gradient term keeps its `1 / (1 - b1^t)`, as when `m_hat, v_hat` come
  from an uncorrected helper and the Nesterov term is written out beside it),
  `weight_decay_ignored` (the L2 term never added, or added to the biases too; the detail says
  which).

The expected rule wins ties: when it explains the record, `matches` is True whatever else does.
A mistake that gives the same updates as an accepted form on this record cannot be told apart
(weight decay 0, one layer, one update, ...): it is never the diagnosis, and the detail names it.

NAG and where gradients are taken. The record's `grads[k]` must be the loss gradient at the
recorded `w_k`, as the grader gets it by calling the student's `backward` at the network's own
weights (not the gradients the student's training step took at points it chose). Under that
assumption the exact NAG is the Bengio form, `u = beta u + g; w -= lr (g + beta u)`, whose
parameters are the look-ahead form's look-ahead points (see `optimizers.py`). A student who
evaluates `backward` at the look-ahead point `w - lr beta u` instead is right too but cannot be
checked from gradients at `w_k`: pass `grad_fn(k, params)`, the student's `backward` on update
k's batch at any parameters, and every gradient is computed through it (at `w_k` for the
current-point candidates, at each candidate's own look-ahead point for the look-ahead form;
`grads` may then be None). `grad_fn` is called once per distinct point, at most about 8k times.

Hyper-parameters that keep the mistakes apart (`RECOMMENDED_HYPERPARAMS`): lr 0.1, momentum and
rmsprop beta 0.9, beta1 0.9, beta2 0.999, eps 1e-8, weight decay 0.05 (non-zero: at 0 the
weight-decay mistakes are invisible), at least `RECOMMENDED_UPDATES` = 3 updates (look-ahead NAG
and momentum agree on the first; a bias initialised to 0 shows decay only from the second), a
network with at least two layers (one layer hides `adam_step_per_layer`), and a loss whose
gradient changes with the weights (any network's; a linear loss hides the look-ahead).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable, Optional, Sequence

import numpy as np

from grader.assignments.da6401_a1.optimizers import (
    RULES,
    HyperParams,
    adaptive_step,
    bias_corrected,
    moving_average,
)

DIAGNOSIS_CODES: tuple[str, ...] = (
    "nag_is_momentum",
    "nag_is_sgd",
    "momentum_ema",
    "adam_step_per_layer",
    "no_bias_correction",
    "weight_decay_ignored",
)

DEFAULT_TOLERANCE = 1e-6      # float64 students agree to ~1e-12; a float32 one does not
CLOSEST_BOUND = 0.5           # beyond this error no candidate is worth naming as closest
ROUNDING_FLOOR = 64 * np.finfo(np.float64).eps  # times |w|: the noise of w_{k+1} - w_k

RECOMMENDED_HYPERPARAMS = HyperParams(learning_rate=0.1, weight_decay=0.05)
RECOMMENDED_UPDATES = 3

# The student's backward on update k's batch, at any parameters: grad_fn(k, params) -> grads.
StepGradientFunction = Callable[[int, Sequence[np.ndarray]], Sequence[np.ndarray]]

MOMENTUM_FORMS = ("momentum", "nag_bengio", "nag_lookahead")


@dataclass(frozen=True, eq=False)
class Trajectory:
    """What the grader recorded: `start` and `after[k]` (one array per tensor), `grads[k]` at
    the parameters before update k+1 (None when a grad_fn gives them), which tensors are
    biases, the layer of each tensor (for the time-step check) and the tensors' names."""

    start: tuple[np.ndarray, ...]
    after: tuple[tuple[np.ndarray, ...], ...]
    is_bias: tuple[bool, ...]
    grads: Optional[tuple[tuple[np.ndarray, ...], ...]]
    layers: tuple[int, ...]
    names: tuple[str, ...]

    @property
    def points(self) -> tuple[tuple[np.ndarray, ...], ...]:
        """w_0 .. w_k: the parameters before each update, then after the last."""
        return (self.start,) + self.after

    @property
    def updates(self) -> int:
        return len(self.after)


@dataclass(frozen=True)
class Explanation:
    """The verdict on one record.

    `matches`: an accepted form of the expected rule explains it. `closest`: the expected rule's
    name or a mistake's code, whichever explains it best (None when nothing comes within
    CLOSEST_BOUND). `diagnosis`: the mistake's code when a mistake explains it and the expected
    rule does not. `error`: the expected rule's error. `indistinguishable`: codes of mistakes that
    give an accepted form's updates on this record. `errors`: (candidate, error), best first.
    """

    matches: bool
    closest: Optional[str]
    diagnosis: Optional[str]
    detail: str
    error: float = math.inf
    indistinguishable: tuple[str, ...] = ()
    errors: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Candidate:
    """One way of updating: a form of a rule, with the knobs the mistakes turn.

    `name` is the rule for an accepted form and the diagnosis code for a mistake; `what` says it
    in words. `t_ranks[i]`: the position of tensor i's time step within one update when t is
    advanced per layer or per tensor (None: once per update).
    """

    name: str
    form: str
    what: str = field(compare=False)
    mistake: bool = False
    velocity_ema: bool = False
    eps_inside_sqrt: bool = False
    correct_first: bool = True
    correct_second: bool = True
    correct_gradient: bool = True  # nadam's (1 - b1) g term divided by 1 - b1^t
    decay: str = "weights"  # "weights" | "none" | "all"
    decay_at_point: bool = True  # the L2 term at the gradient's point (False: at w_k; look-ahead only)
    t_ranks: Optional[tuple[int, ...]] = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.what})"


# --- the record ----------------------------------------------------------------------------

def layers_from_bias_flags(is_bias: Sequence[bool]) -> tuple[int, ...]:
    """Layer of each tensor for `W0, b0, W1, b1, ...`: a new layer at each weight, a bias joins it."""
    layers, layer = [], -1
    for bias in is_bias:
        if not bias or layer < 0:
            layer += 1
        layers.append(layer)
    return tuple(layers)


def _names(is_bias: Sequence[bool], layers: Sequence[int]) -> tuple[str, ...]:
    return tuple(f"{'b' if bias else 'W'}{layer}" for bias, layer in zip(is_bias, layers))


def _tensors(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    return tuple(np.array(a, dtype=np.float64) for a in arrays)


def make_trajectory(start: Sequence[np.ndarray], after: Sequence[Sequence[np.ndarray]],
                    is_bias: Sequence[bool], grads: Optional[Sequence[Sequence[np.ndarray]]] = None,
                    layers: Optional[Sequence[int]] = None,
                    names: Optional[Sequence[str]] = None) -> Trajectory:
    """A checked, float64 Trajectory; `layers` default to `layers_from_bias_flags(is_bias)`."""
    start = _tensors(start)
    after = tuple(_tensors(a) for a in after)
    is_bias = tuple(bool(b) for b in is_bias)
    layers = tuple(int(i) for i in layers) if layers is not None else layers_from_bias_flags(is_bias)
    shapes = [a.shape for a in start]
    if not after:
        raise ValueError("a trajectory needs at least one update")
    if len(is_bias) != len(start) or len(layers) != len(start):
        raise ValueError(f"is_bias ({len(is_bias)}) and layers ({len(layers)}) need one entry per tensor "
                         f"({len(start)})")
    for k, params in enumerate(after):
        if [a.shape for a in params] != shapes:
            raise ValueError(f"the parameters after update {k + 1} do not have the starting shapes {shapes}")
    if grads is not None:
        grads = tuple(_tensors(g) for g in grads)
        if len(grads) != len(after) or any([g.shape for g in gs] != shapes for gs in grads):
            raise ValueError(f"grads need one set per update ({len(after)}) with the parameters' shapes")
    names = tuple(names) if names is not None else _names(is_bias, layers)
    return Trajectory(start=start, after=after, is_bias=is_bias, grads=grads, layers=layers, names=names)


# --- the candidates ------------------------------------------------------------------------

def accepted_forms(rule: str, *, lookahead: bool) -> tuple[Candidate, ...]:
    """The forms of `rule` that count as right; the look-ahead NAG only with a grad_fn."""
    if rule == "sgd":
        return (Candidate("sgd", "sgd", "w -= lr g"),)
    if rule == "momentum":
        return (Candidate("momentum", "momentum", "u = beta u + g; w -= lr u"),)
    if rule == "nag":
        bengio = Candidate("nag", "nag_bengio", "Bengio form: u = beta u + g; w -= lr (g + beta u)")
        ahead = Candidate("nag", "nag_lookahead", "look-ahead form: g at w - lr beta u; u = beta u + g; w -= lr u")
        at_w = replace(ahead, what=ahead.what.replace("look-ahead form", "look-ahead form, L2 term at w"),
                       decay_at_point=False)
        return (bengio, ahead, at_w) if lookahead else (bengio,)
    if rule in ("rmsprop", "adam"):
        base = Candidate(rule, rule, f"{rule} with sqrt(v) + eps")
        return (base, replace(base, what=f"{rule} with sqrt(v + eps)", eps_inside_sqrt=True))
    if rule == "nadam":
        course = Candidate("nadam", "nadam", "b1 m_hat + (1 - b1) g / (1 - b1^t), sqrt(v_hat) + eps")
        dozat = Candidate("nadam", "nadam_dozat", "b1 m / (1 - b1^(t+1)) + (1 - b1) g / (1 - b1^t), sqrt(v_hat) + eps")
        return tuple(form for base in (course, dozat)
                     for form in (base, replace(base, what=base.what.replace("sqrt(v_hat) + eps", "sqrt(v_hat + eps)"),
                                                eps_inside_sqrt=True)))
    raise ValueError(f"unknown rule {rule!r}; the rules are {', '.join(RULES)}")


def step_orders(layers: Sequence[int]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """(words, t_ranks) for t advanced per layer and per tensor, visited first to last and back."""
    order = sorted(set(layers))
    per_layer = tuple(order.index(layer) + 1 for layer in layers)
    last_first = tuple(len(order) - rank + 1 for rank in per_layer)
    n = len(layers)
    orders = (("once per layer, first layer first", per_layer),
              ("once per layer, last layer first", last_first),
              ("once per tensor, in list order", tuple(range(1, n + 1))),
              ("once per tensor, last tensor first", tuple(range(n, 0, -1))))
    unique, seen = [], set()
    for words, ranks in orders:
        if ranks not in seen:
            seen.add(ranks)
            unique.append((words, ranks))
    return tuple(unique)


def _mistakes_of(form: Candidate, layers: Sequence[int]) -> list[Candidate]:
    """Each named mistake made on top of one accepted form."""
    variants = [replace(form, name="weight_decay_ignored", what=f"weight_decay never applied; {form.what}",
                        decay="none", decay_at_point=True, mistake=True),
                replace(form, name="weight_decay_ignored", what=f"weight_decay applied to the biases too; {form.what}",
                        decay="all", mistake=True)]
    if form.form in MOMENTUM_FORMS:
        variants.append(replace(form, name="momentum_ema", what=f"u = beta u + (1 - beta) g; {form.what}",
                                velocity_ema=True, mistake=True))
    if form.form == "nag_bengio":
        variants += [Candidate("nag_is_momentum", "momentum", "momentum's update, no look-ahead", mistake=True),
                     Candidate("nag_is_sgd", "sgd", "plain SGD, the look-ahead undone", mistake=True)]
    if form.form in ("adam", "nadam", "nadam_dozat"):
        variants += [replace(form, name="adam_step_per_layer", what=f"t advanced {words}; {form.what}",
                             t_ranks=ranks, mistake=True) for words, ranks in step_orders(layers)]
        plain = "nadam" if form.form == "nadam_dozat" else form.form  # uncorrected, the two nadam forms agree
        uncorrected = [(False, False, False, "no bias correction"), (True, False, True, "only m bias-corrected"),
                       (False, True, False, "only v bias-corrected")]
        if form.form != "adam":  # only nadam has a gradient term that can keep its correction alone
            uncorrected.append((False, False, True, "no bias correction of m and v, the g term still divided "
                                                    "by 1 - b1^t"))
        for first, second, gradient, words in uncorrected:
            variants.append(replace(form, name="no_bias_correction", what=f"{words}; {form.what}",
                                    form=form.form if first else plain, correct_first=first,
                                    correct_second=second, correct_gradient=gradient, mistake=True))
    return variants


def mistake_variants(forms: Sequence[Candidate], layers: Sequence[int]) -> tuple[Candidate, ...]:
    """The named mistakes on every accepted form, each once."""
    unique: list[Candidate] = []
    for form in forms:
        for variant in _mistakes_of(form, layers):
            if variant not in unique:
                unique.append(variant)
    return tuple(unique)


# --- replaying a candidate -----------------------------------------------------------------

def _adaptive(numerator: np.ndarray, second: np.ndarray, hp: HyperParams, eps_inside_sqrt: bool) -> np.ndarray:
    if eps_inside_sqrt:
        return hp.learning_rate * numerator / np.sqrt(second + hp.epsilon)
    return adaptive_step(numerator, second, hp)


def _tensor_change(c: Candidate, g: np.ndarray, first: np.ndarray, second: np.ndarray, t: int,
                   hp: HyperParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(w_new - w, first, second) for one tensor at time step t (from 1)."""
    lr = hp.learning_rate
    if c.form == "sgd":
        return -lr * g, first, second
    if c.form in MOMENTUM_FORMS:
        beta = hp.momentum
        push = (1.0 - beta) * g if c.velocity_ema else g
        u = beta * first + push
        if c.form == "nag_bengio":  # theta -= lr (push + beta u), the shifted look-ahead run
            return -lr * (push + beta * u), u, second
        return -lr * u, u, second
    if c.form == "rmsprop":
        v = moving_average(second, g * g, hp.rmsprop_beta)
        return -_adaptive(g, v, hp, c.eps_inside_sqrt), first, v
    b1 = hp.beta1
    m = moving_average(first, g, b1)
    v = moving_average(second, g * g, hp.beta2)

    def first_corrected(x: np.ndarray, at: int) -> np.ndarray:
        return bias_corrected(x, b1, at) if c.correct_first else x

    g_term = (1.0 - b1) * (bias_corrected(g, b1, t) if c.correct_gradient else g)
    v_hat = bias_corrected(v, hp.beta2, t) if c.correct_second else v
    if c.form == "adam":
        numerator = first_corrected(m, t)
    elif c.form == "nadam":
        numerator = b1 * first_corrected(m, t) + g_term
    else:  # nadam_dozat
        numerator = b1 * first_corrected(m, t + 1) + g_term
    return -_adaptive(numerator, v_hat, hp, c.eps_inside_sqrt), m, v


def _decayed(c: Candidate, grads: Sequence[np.ndarray], at: Sequence[np.ndarray], is_bias: Sequence[bool],
             weight_decay: float) -> list[np.ndarray]:
    """`g + weight_decay * x` where the candidate decays (x: where the gradient was taken)."""
    def decays(bias: bool) -> bool:
        return c.decay == "all" or (c.decay == "weights" and not bias)
    return [g + weight_decay * x if decays(bias) else g for g, x, bias in zip(grads, at, is_bias)]


def predicted_changes(c: Candidate, observed: Trajectory, current: Sequence[Sequence[np.ndarray]],
                      gradient_at: Optional[StepGradientFunction], hp: HyperParams) -> list[list[np.ndarray]]:
    """The change the candidate makes at each update, teacher-forced on the student's w_k.

    `current[k]`: the loss gradients at w_k; `gradient_at(k, points)` for the look-ahead form.
    """
    zeros = [np.zeros_like(w) for w in observed.start]
    first, second = list(zeros), list(zeros)
    per_update = max(c.t_ranks) if c.t_ranks else 1
    changes = []
    for k, w in enumerate(observed.points[:-1]):
        if c.form == "nag_lookahead":
            at = [wi - hp.learning_rate * hp.momentum * ui for wi, ui in zip(w, first)]
            grads = gradient_at(k, at)
        else:
            at, grads = list(w), current[k]
        grads = _decayed(c, grads, at if c.decay_at_point else w, observed.is_bias, hp.weight_decay)
        update = []
        for i, g in enumerate(grads):
            t = k * per_update + c.t_ranks[i] if c.t_ranks else k + 1
            change, first[i], second[i] = _tensor_change(c, g, first[i], second[i], t, hp)
            update.append(change)
        changes.append(update)
    return changes


def observed_changes(observed: Trajectory) -> list[list[np.ndarray]]:
    """w_{k+1} - w_k for each update and tensor."""
    points = observed.points
    return [[b - a for a, b in zip(points[k], points[k + 1])] for k in range(observed.updates)]


def change_error(predicted: np.ndarray, seen: np.ndarray, before: np.ndarray, after: np.ndarray) -> float:
    """`|predicted - seen| / (|predicted| + |seen| + floor)`, floor the rounding of `after - before`."""
    floor = ROUNDING_FLOOR * (np.linalg.norm(before) + np.linalg.norm(after))
    denominator = np.linalg.norm(predicted) + np.linalg.norm(seen) + floor
    error = 0.0 if denominator == 0.0 else float(np.linalg.norm(predicted - seen) / denominator)
    return error if math.isfinite(error) else math.inf


def change_errors(predicted: Sequence[Sequence[np.ndarray]], observed: Trajectory,
                  seen: Optional[Sequence[Sequence[np.ndarray]]] = None) -> np.ndarray:
    """(updates, tensors) errors of the predicted changes against `seen` (default: the student's)."""
    points = observed.points
    seen = observed_changes(observed) if seen is None else seen
    return np.array([[change_error(p, o, points[k][i], points[k + 1][i])
                      for i, (p, o) in enumerate(zip(guess, actual))]
                     for k, (guess, actual) in enumerate(zip(predicted, seen))])


# --- gradients -----------------------------------------------------------------------------

def _cached(grad_fn: StepGradientFunction, shapes: Sequence[tuple[int, ...]]) -> StepGradientFunction:
    """grad_fn called once per distinct (update, point), its answer checked and made float64."""
    memo: dict[tuple[int, bytes], list[np.ndarray]] = {}

    def gradient_at(k: int, params: Sequence[np.ndarray]) -> list[np.ndarray]:
        key = (k, b"".join(np.ascontiguousarray(p).tobytes() for p in params))
        if key not in memo:
            grads = [np.array(g, dtype=np.float64) for g in grad_fn(k, [np.array(p) for p in params])]
            if [g.shape for g in grads] != list(shapes):
                raise ValueError(f"grad_fn returned shapes {[g.shape for g in grads]}, not {list(shapes)}")
            memo[key] = grads
        return [g.copy() for g in memo[key]]
    return gradient_at


def current_gradients(observed: Trajectory, gradient_at: Optional[StepGradientFunction]) -> list[list[np.ndarray]]:
    """The loss gradients at each w_k: through grad_fn when there is one, else the record's."""
    if gradient_at is not None:
        return [gradient_at(k, w) for k, w in enumerate(observed.points[:-1])]
    if observed.grads is None:
        raise ValueError("the trajectory has no gradients: record them or pass grad_fn")
    return [list(g) for g in observed.grads]


# --- the verdict ---------------------------------------------------------------------------

def _first_non_finite(observed: Trajectory) -> Optional[str]:
    """The first tensor holding inf or nan, named with its update; None when all are finite."""
    for k, params in enumerate(observed.points):
        for name, w in zip(observed.names, params):
            if not np.all(np.isfinite(w)):
                return name if k == 0 else f"{name} after update {k}"
    return None


def _first_gap(errors: np.ndarray, observed: Trajectory, tolerance: float) -> str:
    """Where the candidate first goes clearly wrong: beyond tolerance and a tenth of its worst."""
    worst = float(errors.max())
    k, i = np.argwhere(errors > (max(tolerance, 0.1 * worst) if math.isfinite(worst) else tolerance))[0]
    return f"from update {k + 1}, {observed.names[i]} (error {errors[k, i]:.2g})"


def _hint(c: Candidate, observed: Trajectory, hp: HyperParams) -> str:
    if c.name == "weight_decay_ignored" and hp.weight_decay == 0:
        return "weight_decay is 0"
    if c.name == "weight_decay_ignored" and c.decay == "all" and not any(observed.is_bias):
        return "there are no biases"
    if c.name == "adam_step_per_layer" and len(set(c.t_ranks or ())) == 1:
        return "one layer"
    if c.name in ("nag_is_momentum", "nag_is_sgd") and observed.updates < 2:
        return "one update"
    return "these hyper-parameters and gradients"


def _untold(hidden: Sequence[Candidate], observed: Trajectory, hp: HyperParams) -> str:
    """One sentence naming the mistakes this record cannot show, grouped by code, with why."""
    if not hidden:
        return ""
    kinds: dict[str, dict[str, None]] = {}
    reasons: dict[str, dict[str, None]] = {}
    for c in hidden:
        kinds.setdefault(c.name, {})[c.what.split(";")[0]] = None
        reasons.setdefault(c.name, {})[_hint(c, observed, hp)] = None
    parts = [f"{code} ({', '.join(kinds[code])}: {', '.join(reasons[code])})" for code in kinds]
    return " Cannot be told apart from the expected rule on this record, so not checked: " + "; ".join(parts) + "."


def explain(rule_expected: str, observed: Trajectory, hp: HyperParams, *,
            grad_fn: Optional[StepGradientFunction] = None,
            tolerance: float = DEFAULT_TOLERANCE) -> Explanation:
    """Does `rule_expected` explain the student's updates, and if not, which known mistake does?"""
    forms = accepted_forms(rule_expected, lookahead=grad_fn is not None)
    broken = _first_non_finite(observed)
    if broken is not None:
        return Explanation(False, None, None, f"The parameters are not finite ({broken}); no rule explains them.")
    gradient_at = _cached(grad_fn, [w.shape for w in observed.start]) if grad_fn is not None else None
    current = current_gradients(observed, gradient_at)
    for k, grads in enumerate(current):
        if not all(np.all(np.isfinite(g)) for g in grads):
            return Explanation(False, None, None, f"The loss gradients before update {k + 1} are not finite; "
                                                  "no rule can be checked on them.")
    mistakes = mistake_variants(forms, observed.layers)
    with np.errstate(all="ignore"):  # a rule that overflows on this record just does not explain it
        predicted = {c: predicted_changes(c, observed, current, gradient_at, hp) for c in forms + mistakes}
        errors = {c: change_errors(p, observed) for c, p in predicted.items()}
    worst = {c: float(e.max()) for c, e in errors.items()}
    ranked = tuple(sorted(((c.label, worst[c]) for c in predicted), key=lambda pair: pair[1]))

    def same_as_a_form(c: Candidate) -> bool:
        return any(change_errors(predicted[c], observed, predicted[f]).max() <= tolerance for f in forms)

    with np.errstate(all="ignore"):
        hidden = [c for c in mistakes if same_as_a_form(c)]
    untold = _untold(hidden, observed, hp)
    codes_hidden = tuple(dict.fromkeys(c.name for c in hidden))
    best_form = min(forms, key=lambda c: worst[c])
    error = worst[best_form]
    common = dict(error=error, indistinguishable=codes_hidden, errors=ranked)

    if error <= tolerance:
        detail = (f"The updates follow {rule_expected} ({best_form.what}) to {error:.2g} "
                  f"(tolerance {tolerance:g}).{untold}")
        return Explanation(True, rule_expected, None, detail, **common)

    told = [c for c in mistakes if c not in hidden]
    explained = sorted((c for c in told if worst[c] <= tolerance), key=lambda c: worst[c])
    off = (f"The updates do not follow {rule_expected}: its closest form ({best_form.what}) is off "
           f"{_first_gap(errors[best_form], observed, tolerance)}.")
    if explained:
        found = explained[0]
        others = [c.name for c in explained[1:] if c.name != found.name]
        also = f" Also consistent with: {', '.join(dict.fromkeys(others))}." if others else ""
        detail = f"{off} They follow {found.name}: {found.what} (error {worst[found]:.2g}).{also}{untold}"
        return Explanation(False, found.name, found.name, detail, **common)

    nearest = min(forms + mistakes, key=lambda c: worst[c])
    closest = nearest.name if worst[nearest] <= CLOSEST_BOUND else None
    near = (f" The closest known rule is {nearest.name} ({nearest.what}), off by {worst[nearest]:.2g}."
            if closest else " No known rule or mistake comes close.")
    lookahead = (" A look-ahead NAG (gradient at w - lr beta u) can only be checked with a grad_fn."
                 if rule_expected == "nag" and grad_fn is None else "")
    return Explanation(False, closest, None, f"{off}{near}{lookahead}{untold}", **common)
