"""Running the repository's `src/train.py` with the rubric's options, and what each run left.

A run is one table of the rubric's `runs` (or `hidden_runs`): the spec's eleven options, given
on the command line with the short flags of the course's README (`-d mnist -e 5 ... -w_i
xavier`). The probe's `_train` runs the script in the worker (see inside/probe.py) within the
rubric's `timeout`, and the answer becomes a `TrainingRun`: whether a model was saved, or in
words what happened instead. The same run feeds several tests, so it runs once per part's run
(`shared_answers`). After a run that timed out the worker does not run train.py again: one
that hung once would only hang again and use up the part's time.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import numpy as np

from grader.assignments.da6401_a1.checks.lib.cases import INPUT_SIZE, OUTPUT_SIZE
from grader.assignments.da6401_a1.checks.lib.parts import TRAIN
from grader.assignments.da6401_a1.checks.lib.shared_answers import shared
from grader.assignments.da6401_a1.reference.config import hidden_sizes
from grader.assignments.da6401_a1.support import DATA_SIZES
from grader.checks.base import CheckContext
from grader.checks.compare import to_array
from grader.errors import StudentCodeError

# (option, flag), in the order of the spec's table
FLAGS: tuple[tuple[str, str], ...] = (
    ("dataset", "-d"), ("epochs", "-e"), ("batch_size", "-b"), ("loss", "-l"), ("optimizer", "-o"),
    ("learning_rate", "-lr"), ("weight_decay", "-wd"), ("num_layers", "-nhl"), ("hidden_size", "-sz"),
    ("activation", "-a"), ("weight_init", "-w_i"),
)
OPTIONS: tuple[str, ...] = tuple(name for name, _ in FLAGS)
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_MODEL_MB = 128
OUTPUT_LINES = 5  # lines of what train.py printed, quoted when it exited with an error


@dataclass(frozen=True)
class RunSpec:
    """One run's options (every one of OPTIONS), and the accuracy it must reach (None: the rubric's)."""

    options: tuple[tuple[str, Any], ...]
    min_accuracy: Optional[float] = None

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> "RunSpec":
        missing = [name for name in OPTIONS if name not in table]
        unknown = [name for name in table if name not in OPTIONS and name != "min_accuracy"]
        if missing or unknown:
            raise ValueError(f"a training run in the rubric needs exactly the options {', '.join(OPTIONS)} "
                             f"(and optionally min_accuracy); missing {missing}, unknown {unknown}")
        hidden = table["hidden_size"]
        options = {**table, "hidden_size": tuple(hidden) if isinstance(hidden, (list, tuple)) else int(hidden)}
        threshold = table.get("min_accuracy")
        return cls(tuple((name, options[name]) for name in OPTIONS), None if threshold is None else float(threshold))

    def get(self, name: str) -> Any:
        return dict(self.options)[name]

    @property
    def dataset(self) -> str:
        return str(self.get("dataset"))

    @property
    def activation(self) -> str:
        return str(self.get("activation"))

    @property
    def hidden(self) -> list[int]:
        return hidden_sizes(int(self.get("num_layers")), self.get("hidden_size"))

    @property
    def sizes(self) -> tuple[int, ...]:
        """The architecture the options ask for: 784, the hidden sizes, 10."""
        return (INPUT_SIZE, *self.hidden, OUTPUT_SIZE)

    def _value(self, name: str) -> list[str]:
        value = self.get(name)
        if name == "hidden_size":  # one value when all layers agree: "-sz 32" works for int and list options
            sizes = self.hidden
            return [str(sizes[0])] if len(set(sizes)) == 1 else [str(n) for n in sizes]
        return [f"{value:g}" if isinstance(value, float) else str(value)]

    def flag(self, name: str) -> str:
        """The option as the command line gives it: "-sz 32"."""
        return " ".join((dict(FLAGS)[name], *self._value(name)))

    @property
    def argv(self) -> list[str]:
        return [part for name, flag in FLAGS for part in (flag, *self._value(name))]

    @property
    def command(self) -> str:
        return shlex.join(["python", "src/train.py", *self.argv])

    @property
    def label(self) -> str:
        """A short name: "mnist, sgd, relu, cross_entropy, 1 hidden layer of 64"."""
        layers = self.hidden
        shape = (f"{len(layers)} hidden layer{'s' if len(layers) > 1 else ''} of "
                 f"{layers[0] if len(set(layers)) == 1 else ', '.join(map(str, layers))}")
        return f"{self.dataset}, {self.get('optimizer')}, {self.activation}, {self.get('loss')}, {shape}"


def run_specs(settings: Mapping[str, Any], key: str) -> list[RunSpec]:
    """The rubric's runs under `key` ("runs" or "hidden_runs")."""
    tables = settings.get(key) or []
    if not tables or not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ValueError(f"the rubric's settings.{key} must be a non-empty list of tables ([[settings.{key}]])")
    return [RunSpec.from_table(table) for table in tables]


@dataclass(frozen=True, eq=False)
class TrainingRun:
    """What one run left.

    `kind`: "saved" (a readable model), "no_model", "unreadable", "raised", "exited", "blocked",
    "no_script", "timeout", "not_run" or "worker" (the worker failed). `problem`: what went wrong,
    a sentence naming the command ("" for "saved"); `detail`: the traceback or the output that
    shows it, quoted after the problem; `short`: the problem in a few words, for the tests that
    judge the model it did not save. `status`: the test status the failure stands for when the
    script could not run or finish ("error", "timeout", "blocked", "missing"), else None (it
    finished, and what it saved is judged).
    """

    spec: RunSpec
    kind: str
    problem: str = ""
    short: str = ""
    status: Optional[str] = None
    detail: str = ""
    weights: Optional[dict[str, np.ndarray]] = None
    config: Optional[dict] = None
    seconds: float = 0.0
    standins: tuple[str, ...] = ()
    found: Optional[str] = None

    @property
    def saved(self) -> bool:
        return self.kind == "saved"

    def account(self, quoted: Optional[set] = None) -> str:
        """The problem, then its detail unless `quoted` already holds it (runs that failed alike
        quote their traceback once); adds the detail to `quoted`."""
        if not self.detail:
            return self.problem
        shown = "output" if self.kind == "exited" else "error"
        if quoted is not None and self.detail in quoted:
            return f"{self.problem} The same {shown} as above."
        if quoted is not None:
            quoted.add(self.detail)
        return f"{self.problem}{' Its last output:' if shown == 'output' else ''}\n{self.detail}"


def _tail(text: str, lines: int = OUTPUT_LINES) -> str:
    kept = [line for line in str(text).splitlines() if line.strip()][-lines:]
    return "\n".join(f"    {line}" for line in kept)


def _weights(value: Any) -> Optional[dict[str, np.ndarray]]:
    if not isinstance(value, dict):
        return None
    arrays = {str(key): to_array(array) for key, array in value.items()}
    return {key: np.asarray(array, dtype=np.float64) for key, array in arrays.items() if array is not None} or None


def from_answer(spec: RunSpec, answer: Any) -> TrainingRun:
    """The probe's answer (see `_train` in inside/probe.py) as a TrainingRun."""
    answer = answer if isinstance(answer, dict) else {}
    status, seconds = answer.get("status"), float(answer.get("seconds") or 0.0)
    common = dict(seconds=seconds, standins=tuple(str(s) for s in answer.get("standins") or ()),
                  found=answer.get("found") if isinstance(answer.get("found"), str) else None,
                  config=answer.get("config") if isinstance(answer.get("config"), dict) else None)
    run = f"`{spec.command}`"
    if status == "no_script":
        return TrainingRun(spec, "no_script", "There is no src/train.py to run.", "there is no src/train.py",
                           "missing", **common)
    if status == "raised":
        blocked = bool(answer.get("blocked"))
        words = "was stopped by the sandbox" if blocked else "crashed"
        return TrainingRun(spec, "blocked" if blocked else "raised", f"{run} {words} after {seconds:.1f} s.",
                           f"train.py {words}", "blocked" if blocked else "error",
                           str(answer.get("traceback") or answer.get("error")), **common)
    if status == "exited":
        output = _tail(answer.get("output", ""))
        return TrainingRun(spec, "exited", f"{run} exited with status {answer.get('error')}.",
                           f"train.py exited with status {answer.get('error')}", "error", output, **common)
    if status != "ran":
        return TrainingRun(spec, "worker", f"{run}: the grader got no account of the run.",
                           "the run gave no account", "error", **common)
    if common["found"] is None:
        written = [str(p) for p in answer.get("written") or []]
        wrote = f"it wrote {', '.join(written)}" if written else "it wrote no file"
        return TrainingRun(spec, "no_model", f"{run} finished in {seconds:.1f} s but saved no best_model.npy ({wrote}). "
                                             "Save the best weights with np.save(\"best_model.npy\", model.get_weights()) "
                                             "in the working directory (the repository root).",
                           "train.py saved no best_model.npy", **common)
    weights = _weights(answer.get("weights"))
    if weights is None:
        return TrainingRun(spec, "unreadable", f"{run} saved {common['found']}, but np.load(..., allow_pickle=True) "
                                               f"cannot give its weights: {answer.get('unreadable') or 'it holds none'}.",
                           f"its {common['found']} holds no weights", **common)
    return TrainingRun(spec, "saved", weights=weights, **common)


def from_error(spec: RunSpec, error: StudentCodeError, timeout: float) -> TrainingRun:
    """A run the worker could not finish (a timeout, running out of memory, a crash) as a TrainingRun."""
    run = f"`{spec.command}`"
    if error.status == "timeout" and error.message.startswith("Not run:"):
        return TrainingRun(spec, "not_run", f"{run} was not run: an earlier run of train.py did not finish in time.",
                           "train.py was not run after an earlier run timed out", "timeout")
    if error.status == "timeout":
        return TrainingRun(spec, "timeout", f"{run} did not finish within {timeout:g} s on the grader's small data "
                                            f"({DATA_SIZES.train} training images).",
                           f"train.py did not finish within {timeout:g} s", "timeout")
    return TrainingRun(spec, "worker", f"{run}: {error.message}", "the worker running train.py failed", error.status)


def run_training(ctx: CheckContext, spec: RunSpec) -> TrainingRun:
    """The run of `spec` in this part's worker: started by the first check that needs it, kept after."""
    timeout = float(ctx.settings.get("timeout", DEFAULT_TIMEOUT_S))
    cap = int(float(ctx.settings.get("max_model_mb", DEFAULT_MAX_MODEL_MB)) * 2**20)

    def start() -> TrainingRun:
        try:
            return from_answer(spec, ctx.call(TRAIN, spec.argv, timeout=timeout, max_reply_bytes=cap))
        except StudentCodeError as exc:
            return from_error(spec, exc, timeout)

    return shared(ctx, ("train", spec), start)
