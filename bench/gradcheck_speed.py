"""Gradient checks of a 784-256-10 MLP: directional against element-wise, in time and in what they catch.

    python bench/gradcheck_speed.py [--entries K] [--full] [--seed N]

The implementations checked are the course's solution of exercise 3 and each of its known
mistakes (tests/grader/mistakes/catalog.py: the solution with one change a student makes).
Each is run on two 784-256-10 networks with a batch of 16: ReLU hidden units with softmax +
cce (the contract's MNIST case), and sigmoid hidden units with an identity output and mse (so
the mistakes of sigmoid derivatives and of the mse delta have something to break).
Every check compares the implementation's `backward` with central differences of the
reference's mean loss of the implementation's own `forward`, as the grader does:

- element-wise: (L(w + eps e_i) - L(w - eps e_i)) / (2 eps) for each entry i; a full pass
  needs 2 x 203,530 forward passes, so by default K entries per tensor are drawn (--entries)
  and the time of a full pass is extrapolated from them (--full runs every entry, minutes);
- directional: `reference.gradcheck.check_directional`, 2 random directions per tensor and
  2 moving all tensors: 20 forward passes, whatever the size;
- grader: the hidden check `backward.gradcheck.large` itself, the student's code in the
  sandboxed worker, as it runs in a grading (ReLU network only; its diagnosis is shown).

A check "catches" an implementation when it fails it. The table marks a row where element-wise
and directional disagree; the script exits 1 if any row does, or if the grader's check takes
0.2 s or more on the solution.
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reference import mlp  # noqa: E402
from reference.gradcheck import check_directional, relative_error  # noqa: E402
from tests.grader.mistakes.catalog import EX3, EX3_MISTAKES  # noqa: E402
from tests.grader.mistakes.submissions import mutated_source, solution_source  # noqa: E402

SIZES = (784, 256, 10)
BATCH = 16
NETWORKS = (("relu", "softmax", "cce"), ("sigmoid", "identity", "mse"))
GRADER_CHECK = "backward.gradcheck.large"
GRADER_LIMIT_S = 0.2
KINK_MARGIN = 1e-4  # as the grader: no ReLU pre-activation within this of 0, so steps never cross one
TOL, EPS = 1e-6, 1e-6


@dataclass(frozen=True)
class Network:
    params: list[tuple[np.ndarray, np.ndarray]]
    X: np.ndarray
    Y: np.ndarray
    hidden: str
    output: str
    loss: str

    def label(self) -> str:
        return (f"{'-'.join(map(str, SIZES))}, {self.hidden} hidden, {self.output} + {self.loss}, "
                f"batch {BATCH}")


@dataclass(frozen=True)
class Outcome:
    caught: bool
    seconds: float
    note: str = ""


def draw_network(rng: np.random.Generator, hidden: str, output: str, loss: str) -> Network:
    """Weights ~ N(0, 1/n_in), nonzero biases, targets for the loss; redrawn while a ReLU sits on its kink."""
    while True:
        params = [(rng.standard_normal((n_in, n_out)) / math.sqrt(n_in), 0.5 * rng.standard_normal(n_out))
                  for n_in, n_out in zip(SIZES[:-1], SIZES[1:])]
        X = rng.standard_normal((BATCH, SIZES[0]))
        if loss == "cce":
            Y = np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], size=BATCH)]
        else:
            Y = rng.standard_normal((BATCH, SIZES[-1]))
        Z1 = X @ params[0][0] + params[0][1]
        if hidden != "relu" or np.abs(Z1).min() > KINK_MARGIN:
            return Network(params, X, Y, hidden, output, loss)


def load_module(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def loss_of(module: types.ModuleType, net: Network) -> Callable[..., float]:
    """L(W1, b1, W2, b2): the reference's mean loss of the implementation's forward."""

    def loss(*tensors: np.ndarray) -> float:
        params = [(tensors[i], tensors[i + 1]) for i in range(0, len(tensors), 2)]
        Y_hat, _ = module.forward(params, net.X, hidden=net.hidden, output=net.output)
        try:
            return mlp.loss_value(np.asarray(Y_hat, dtype=np.float64), net.Y, net.loss)
        except ValueError:  # Y_hat outside the loss's domain
            return math.nan

    return loss


def analytic(module: types.ModuleType, net: Network) -> list[np.ndarray]:
    _, cache = module.forward([(W.copy(), b.copy()) for W, b in net.params], net.X.copy(),
                              hidden=net.hidden, output=net.output)
    grads = module.backward([(W.copy(), b.copy()) for W, b in net.params], cache, net.Y.copy(), loss=net.loss)
    return [np.asarray(g, dtype=np.float64) for layer in grads for g in layer]


def tensors_of(net: Network) -> list[np.ndarray]:
    return [array for layer in net.params for array in layer]


def element_wise(module: types.ModuleType, net: Network, entries: Optional[int],
                 rng: np.random.Generator) -> Outcome:
    """Central differences entry by entry (`entries` per tensor, or all), norm-relative error per tensor."""
    loss = loss_of(module, net)
    started = time.perf_counter()
    grads = analytic(module, net)
    tensors = tensors_of(net)
    done = 0
    for k, (x, g) in enumerate(zip(tensors, grads)):
        if g.shape != x.shape:
            return Outcome(True, time.perf_counter() - started, f"tensor {k} has shape {g.shape}, not {x.shape}")
        flat = x.reshape(-1)
        chosen = np.arange(flat.size) if entries is None or entries >= flat.size else \
            rng.choice(flat.size, size=entries, replace=False)
        numeric = np.empty(chosen.size)
        for n, i in enumerate(chosen):
            moved = [t.copy() if j == k else t for j, t in enumerate(tensors)]
            moved[k].reshape(-1)[i] = flat[i] + EPS
            plus = loss(*moved)
            moved[k].reshape(-1)[i] = flat[i] - EPS
            numeric[n] = (plus - loss(*moved)) / (2 * EPS)
        done += chosen.size
        error = relative_error(g.reshape(-1)[chosen], numeric)
        if not error <= TOL and not np.linalg.norm(g.reshape(-1)[chosen] - numeric) <= 1e-8:
            return Outcome(True, time.perf_counter() - started, f"tensor {k}: relative error {error:.2g}")
    seconds = time.perf_counter() - started
    total = sum(t.size for t in tensors)
    note = "" if done == total else f"~{seconds / done * total:.0f} s for all {total:,} entries"
    return Outcome(False, seconds, note)


def directional(module: types.ModuleType, net: Network, rng: np.random.Generator) -> Outcome:
    started = time.perf_counter()
    grads = analytic(module, net)
    result = check_directional(loss_of(module, net), tensors_of(net), grads, n_directions=2, rng=rng,
                               tol=TOL, eps=EPS)
    seconds = time.perf_counter() - started
    note = "" if result.passed else next((t.message for t in (*result.tensors, result.overall) if not t.passed), "")
    return Outcome(not result.passed, seconds, note[:60])


def grader_check(source: str, seed: int) -> Outcome:
    """The hidden check `backward.gradcheck.large` on `source`, in the sandboxed worker."""
    from grader.checks.base import CheckContext
    from grader.checks.registry import checks_for
    from grader.checks.runner import FORBIDDEN_MODULES, load_module as load_in_worker, run_check
    from grader.worker.client import WorkerClient

    rubric, checks = checks_for(EX3, hidden=True)
    chosen = next(c for c in checks if c.name == GRADER_CHECK)
    with tempfile.TemporaryDirectory(prefix="bench-gradcheck-") as folder:
        (Path(folder) / f"{EX3}.py").write_text(source, "utf-8")
        with WorkerClient(folder, forbidden=FORBIDDEN_MODULES) as client:
            loaded = load_in_worker(client, EX3, timeout=30.0)
            ctx = CheckContext(exercise=EX3, transport=client, seed=seed, timeout=30.0,
                               settings=dict(rubric.settings))
            started = time.perf_counter()
            result = run_check(chosen, ctx, rubric, loaded.defined, [])
            seconds = time.perf_counter() - started
    return Outcome(result.status != "passed", seconds, result.diagnosis or "")


def implementations() -> list[tuple[str, str, Optional[str]]]:
    """(name, source, the diagnosis the catalog expects) for the solution and each known mistake."""
    return [("solution", solution_source(EX3), None)] + [(m.id, mutated_source(m), m.expected) for m in EX3_MISTAKES]


def verdict(outcome: Optional[Outcome]) -> str:
    if outcome is None:
        return "-"
    return f"{'caught' if outcome.caught else 'passed'} {outcome.seconds:6.3f} s"


def run(entries: Optional[int], seed: int, with_grader: bool, only: Optional[int] = None) -> int:
    rng = np.random.default_rng(seed)
    chosen = implementations()[:only] if only else implementations()
    modules = {name: load_module(name, source) for name, source, _ in chosen}
    disagreements, grader_solution_s = 0, 0.0
    for hidden, output, loss in NETWORKS:
        net = draw_network(rng, hidden, output, loss)
        sampled = "every entry" if entries is None else f"{entries} entries per tensor"
        print(f"\n{net.label()}   (element-wise: {sampled}; directional: 2 directions per tensor)")
        header = (f"{'implementation':<38} {'expected':<32} {'element-wise':>15} {'directional':>15} "
                  f"{'grader check':>15}  notes")
        print(header + "\n" + "-" * len(header))
        for name, source, expected in chosen:
            module = modules[name]
            try:
                elementwise = element_wise(module, net, entries, rng)
                along = directional(module, net, rng)
            except Exception as exc:  # the implementation raised: both checks fail it
                elementwise = along = Outcome(True, 0.0, f"raised {type(exc).__name__}")
            graded = grader_check(source, seed) if with_grader and hidden == "relu" else None
            if name == "solution" and graded is not None:
                grader_solution_s = graded.seconds
            agree = elementwise.caught == along.caught
            disagreements += not agree
            notes = "; ".join(n for n in (elementwise.note, "" if agree else "DISAGREE",
                                          graded.note if graded and graded.caught else "") if n)
            print(f"{name:<38} {expected or '-':<32} {verdict(elementwise):>15} {verdict(along):>15} "
                  f"{verdict(graded):>15}  {notes}")
    print(f"\nelement-wise and directional disagree on {disagreements} row(s)")
    if with_grader:
        print(f"the grader's {GRADER_CHECK} on the solution: {grader_solution_s:.3f} s "
              f"(limit {GRADER_LIMIT_S} s)")
    slow = with_grader and grader_solution_s >= GRADER_LIMIT_S
    return 1 if disagreements or slow else 0


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=32, help="entries per tensor for element-wise (default 32)")
    parser.add_argument("--full", action="store_true", help="element-wise on every entry (minutes per row)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-grader", action="store_true", help="leave out the sandboxed grader check")
    parser.add_argument("--only", type=int, default=None, help="the first N implementations only (smoke runs)")
    args = parser.parse_args(argv)
    if args.entries < 1:
        parser.error("--entries must be at least 1")
    return run(None if args.full else args.entries, args.seed, not args.no_grader, args.only)


if __name__ == "__main__":
    sys.exit(main())
