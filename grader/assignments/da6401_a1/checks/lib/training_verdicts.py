"""Verdicts on training runs: did it save a model, of the architecture asked for, that learned?

Each question is asked of every run of a test, and the test's credit is the share of runs that
pass; the feedback names each run that failed and why. One failure costs only its own
question: a model of the wrong size that learned still scores for learning, since the grader
reads its sizes from the saved shapes. A run that saved nothing fails every question; when no
run of the test got as far as saving because the script could not run or finish, the test
takes that status (error, timeout, blocked, missing), as a check whose calls all raised does.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from grader.assignments.da6401_a1.checks.lib.accuracy import CHANCE, accuracy, generated_private
from grader.assignments.da6401_a1.checks.lib.cases import OUTPUT_SIZE
from grader.assignments.da6401_a1.checks.lib.saved_weights import ModelError, architecture_words, read_network
from grader.assignments.da6401_a1.checks.lib.training_runs import TrainingRun
from grader.assignments.da6401_a1.data.private import PrivateSplit
from grader.checks.base import Verdict, fail, ok
from grader.errors import StudentCodeError

DEFAULT_MIN_ACCURACY = 0.6
DEFAULT_PRIVATE_SIZE = 1000

# what each stand-in stood for, by top-level module
STANDIN_WORDS: dict[str, str] = {
    "keras": "keras (load_data() gave the grader's generated images in keras's shapes, not the real data set)",
    "tensorflow": "tensorflow.keras (load_data() gave the grader's generated images in keras's shapes)",
    "wandb": "wandb (it logged nothing)",
    "sklearn": "scikit-learn (numpy versions of its functions)",
    "tqdm": "tqdm",
    "matplotlib": "matplotlib (nothing was drawn)",
    "seaborn": "seaborn (nothing was drawn)",
}


def standin_note(runs: Sequence[TrainingRun]) -> str:
    """One sentence naming the stand-ins the runs used, or ""."""
    used = sorted({name.partition(".")[0] for run in runs for name in run.standins})
    if not used:
        return ""
    words = [STANDIN_WORDS.get(name, name) for name in used]
    return (f"The grader's stand-ins replaced {'; '.join(words)}: the sandbox has no network and does not "
            "hold these libraries.")


def no_model(run: TrainingRun) -> Verdict:
    return fail(f"no model to judge: {run.short}.")


def ran_verdict(run: TrainingRun) -> Verdict:
    """Passed when the run finished and saved a best_model.npy that np.load reads."""
    if not run.saved:
        return fail(run.account())
    return ok(f"ran in {run.seconds:.1f} s and saved {run.found}.")


def architecture_verdict(run: TrainingRun) -> Verdict:
    """Passed when the saved weights have the sizes the run's -nhl and -sz ask for."""
    if not run.saved:
        return no_model(run)
    try:
        network = read_network(run.weights or {})
    except ModelError as exc:
        return fail(f"best_model.npy cannot be read as a network: {exc}.")
    asked = run.spec.sizes
    if network.sizes == asked:
        return ok(f"saved {architecture_words(asked)}.")
    flags = f"{run.spec.flag('num_layers')} {run.spec.flag('hidden_size')}"
    return fail(f"the saved model is {architecture_words(network.sizes)}, but {flags} asks for "
                f"{architecture_words(asked)}: build the layers from args.num_layers and args.hidden_size.")


def learning_verdict(run: TrainingRun, split: PrivateSplit, threshold: float) -> Verdict:
    """Passed when the saved weights classify at least `threshold` of the private split right."""
    if not run.saved:
        return no_model(run)
    try:
        network = read_network(run.weights or {})
    except ModelError as exc:
        return fail(f"best_model.npy cannot be read as a network: {exc}.")
    if network.sizes[-1] != OUTPUT_SIZE:
        return fail(f"the saved model has {network.sizes[-1]} outputs, not one per class ({OUTPUT_SIZE}).")
    if not network.finite:
        return fail("the saved weights hold inf or nan: training diverged.")
    score = accuracy(network, run.spec.activation, split)
    scored = f"accuracy {score:.3f} on {split.source}"
    if score >= threshold:
        return ok(f"{scored} (at least {threshold:g} needed).")
    return fail(f"{scored}, below the {threshold:g} needed (chance is {CHANCE:g}): the saved weights did not learn. "
                f"They are scored with the run's activation ({run.spec.activation}) on images flattened to 784 values "
                "and scaled to [0, 1], as src/utils/data_loader.py prepares them.")


def _listed(runs: Sequence[TrainingRun], verdicts: Sequence[Verdict]) -> str:
    if len(runs) == 1:
        return f"{runs[0].spec.label}: {verdicts[0].feedback}"
    return "\n".join(f"Run {index} ({run.spec.label}): {verdict.feedback}"
                     for index, (run, verdict) in enumerate(zip(runs, verdicts), start=1))


def judged(runs: Sequence[TrainingRun], judge: Callable[[TrainingRun], Verdict], note: str = "",
           full: bool = True) -> Verdict:
    """`judge(run)` for every run as one test: passed when all pass, else the share that passed.

    When no run saved a model and every run failed to run or finish, raises StudentCodeError
    with the first run's status, so the test's status says so (no points either way); its
    message tells each run's failure in full, or in a few words (`full` False: for the tests
    whose runs' failures training.runs tells).
    """
    if runs and all(not run.saved and run.status for run in runs):
        quoted: set = set()
        message = "\n".join(run.account(quoted) if full else f"No model to judge: {run.short} (`{run.spec.command}`)."
                            for run in runs)
        raise StudentCodeError(runs[0].status, f"{message}\n{note}" if note else message)
    verdicts = [judge(run) for run in runs]
    feedback = _listed(runs, verdicts) + (f"\n{note}" if note else "")
    if all(v.passed for v in verdicts):
        return ok(feedback)
    return fail(feedback, None, sum(v.credit for v in verdicts) / len(verdicts))


def learned(run: TrainingRun, settings: Mapping[str, Any]) -> Verdict:
    """learning_verdict with the rubric's threshold (the run's own, if it has one) and private split."""
    threshold = run.spec.min_accuracy if run.spec.min_accuracy is not None else float(
        settings.get("min_accuracy", DEFAULT_MIN_ACCURACY))
    split = generated_private(run.spec.dataset, int(settings.get("private_size", DEFAULT_PRIVATE_SIZE)),
                              int(settings.get("private_seed", 0)))
    return learning_verdict(run, split, threshold)


def whole_run(run: TrainingRun, settings: Mapping[str, Any]) -> Verdict:
    """All three questions of one run as one verdict: the mean credit, the failures' feedback."""
    if not run.saved:
        return ran_verdict(run)
    verdicts = [ran_verdict(run), architecture_verdict(run), learned(run, settings)]
    if all(v.passed for v in verdicts):
        return ok(verdicts[-1].feedback)
    feedback = " ".join(dict.fromkeys(v.feedback for v in verdicts if not v.passed))
    return fail(feedback, None, sum(v.credit for v in verdicts) / len(verdicts))
