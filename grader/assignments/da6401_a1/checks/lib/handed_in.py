"""The handed-in `best_model.npy` and `best_config.json`, read into what scoring them needs.

The probe's `_saved_model` loads both in the worker (unpickling runs code) and sends the model's
tensors and the configuration's plain entries. Here they become a `HandedIn`: the network (its
sizes read from the shapes, see `saved_weights.py`) or why there is none, and the data set and
activation to score it with, from best_config.json. The data set defaults to the rubric's
(MNIST); an activation the configuration does not name is not guessed: the model is scored with
each of the three and the best counts, with a note saying so.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

import numpy as np

from grader.assignments.da6401_a1.checks.lib.cases import ACTIVATIONS, INPUT_SIZE, OUTPUT_SIZE
from grader.assignments.da6401_a1.checks.lib.parts import SAVED_MODEL
from grader.assignments.da6401_a1.checks.lib.saved_weights import ModelError, SavedNetwork, architecture_words, read_network
from grader.assignments.da6401_a1.checks.lib.shared_answers import shared
from grader.assignments.da6401_a1.data.synthetic import DATASETS
from grader.checks.base import CheckContext
from grader.checks.compare import to_array

NO_MODEL = "No best_model.npy in the repository (the grader looks in its root, src/ and models/)."
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_MODEL_MB = 128


@dataclass(frozen=True, eq=False)
class HandedIn:
    """`network`, or `problem` saying why there is none; the data set and activation to score it with,
    and `notes` on what best_config.json did not say."""

    found: bool
    network: Optional[SavedNetwork]
    problem: str
    dataset: str
    activation: Optional[str]
    notes: tuple[str, ...] = ()


def _name(config: Optional[Mapping[str, Any]], key: str) -> Optional[str]:
    value = (config or {}).get(key)
    return value.strip().lower().replace("-", "_") if isinstance(value, str) else None


def _dataset(config: Optional[Mapping[str, Any]], default: str) -> tuple[str, tuple[str, ...]]:
    named = _name(config, "dataset")
    if named in DATASETS:
        return named, ()
    said = "does not name the data set" if named is None else f"names the data set {named!r}, which is not one of the course's"
    return default, (f"best_config.json {said}: the model is scored as a {default} model.",)


def _activation(config: Optional[Mapping[str, Any]]) -> tuple[Optional[str], tuple[str, ...]]:
    named = _name(config, "activation")
    if named in ACTIVATIONS:
        return named, ()
    said = "does not name the activation" if named is None else f"names the activation {named!r}"
    return None, (f"best_config.json {said}: the model is scored with sigmoid, tanh and relu, and the best counts.",)


def _config_notes(answer: Mapping[str, Any]) -> tuple[str, ...]:
    if not answer.get("has_config"):
        return ("There is no best_config.json beside best_model.npy.",)
    if answer.get("config_error"):
        return (f"best_config.json could not be read: {answer['config_error']}.",)
    return ()


def _network(answer: Mapping[str, Any]) -> tuple[Optional[SavedNetwork], str]:
    weights = answer.get("weights")
    if not isinstance(weights, dict) or not weights:
        return None, f"best_model.npy could not be used: {answer.get('unreadable') or 'it holds no weight arrays'}."
    arrays = {str(key): to_array(value) for key, value in weights.items()}
    try:
        network = read_network({key: np.asarray(a, dtype=np.float64) for key, a in arrays.items() if a is not None})
    except ModelError as exc:
        return None, f"best_model.npy cannot be read as a network: {exc}."
    if network.sizes[0] != INPUT_SIZE or network.sizes[-1] != OUTPUT_SIZE:
        return None, (f"best_model.npy holds {architecture_words(network.sizes)}: a model of the course takes "
                      f"{INPUT_SIZE} pixels and gives {OUTPUT_SIZE} logits.")
    return network, ""


def from_answer(answer: Any, default_dataset: str) -> HandedIn:
    """The probe's `_saved_model` answer as a HandedIn."""
    answer = answer if isinstance(answer, dict) else {}
    config = answer.get("config") if isinstance(answer.get("config"), dict) else None
    dataset, dataset_notes = _dataset(config, default_dataset)
    activation, activation_notes = _activation(config)
    if not isinstance(answer.get("found"), str):
        return HandedIn(False, None, NO_MODEL, dataset, activation)
    network, problem = _network(answer)
    return HandedIn(True, network, problem, dataset, activation,
                    _config_notes(answer) + dataset_notes + activation_notes)


def handed_in(ctx: CheckContext) -> HandedIn:
    """The repository's model, asked of the worker once for the part's checks."""
    timeout = float(ctx.settings.get("timeout", DEFAULT_TIMEOUT_S))
    cap = int(float(ctx.settings.get("max_model_mb", DEFAULT_MAX_MODEL_MB)) * 2**20)
    default = str(ctx.settings.get("default_dataset", "mnist"))
    return shared(ctx, "handed_in", lambda: from_answer(ctx.call(SAVED_MODEL, timeout=timeout, max_reply_bytes=cap),
                                                         default))
