"""A saved model's weights, read into the reference's terms: which tensor is which layer, and how big.

The probe sends a saved model as flat named tensors (`"W0"`, `"weights/1"`, `"0/1"`: the path of
each array in the dicts and lists `np.load` gave). The skeleton's `get_weights()` names them
`W0, b0, W1, b1, ...` from the input layer on; students also number them from 1, spell them
`w0`/`weights_0`/`bias0`, or save `{"weights": [...], "biases": [...]}`, `[(W0, b0), ...]` or
`[W0, b0, W1, ...]`. Each of those says unambiguously which tensor is which, so all are read.

The sizes come from the shapes alone: W0 takes the 784 pixels, and each W is (n_in, n_out) or
(n_out, n_in), whichever fits the size before it. A square W fits both ways; it takes the
orientation of the model's other layers, since a network stores all its layers alike. Biases may
be (n,), (1, n) or (n, 1). Nothing else is assumed, so a wrong architecture is read as it is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np

from grader.assignments.da6401_a1.checks.lib.cases import INPUT_SIZE

_INDEXED = re.compile(r"^(?P<kind>w|weight|weights|b|bias|biases)[_/. -]?(?P<index>\d+)$", re.IGNORECASE)
_PAIRED = re.compile(r"^(?P<index>\d+)/(?P<slot>[01])$")
_LISTED = re.compile(r"^\d+$")


class ModelError(ValueError):
    """A saved model that cannot be read as a network; the message says why, for feedback."""


@dataclass(frozen=True, eq=False)
class SavedNetwork:
    """A saved model as the reference computes with it: W_l (n_l, n_{l+1}), b_l (n_{l+1},), input first.

    `transposed`: whether the file stored the W's as (n_out, n_in).
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    transposed: bool

    @property
    def sizes(self) -> tuple[int, ...]:
        return (int(self.weights[0].shape[0]), *(int(W.shape[1]) for W in self.weights))

    @property
    def finite(self) -> bool:
        return all(np.all(np.isfinite(t)) for t in (*self.weights, *self.biases))


def architecture_words(sizes: Sequence[int]) -> str:
    """"784-32-32-10 (2 hidden layers of 32)", for feedback."""
    hidden = [int(n) for n in sizes[1:-1]]
    chain = "-".join(str(int(n)) for n in sizes)
    if not hidden:
        return f"{chain} (no hidden layer)"
    count = f"{len(hidden)} hidden layer{'s' if len(hidden) > 1 else ''}"
    each = f"of {hidden[0]}" if len(set(hidden)) == 1 else f"of {', '.join(map(str, hidden))}"
    return f"{chain} ({count} {each})"


def _by_index(found: dict[int, np.ndarray], what: str) -> list[np.ndarray]:
    """The tensors of indices 0..n-1 (or 1..n), in order; ModelError when one is missing."""
    if not found:
        return []
    low, high = min(found), max(found)
    if low not in (0, 1) or sorted(found) != list(range(low, high + 1)):
        raise ModelError(f"its {what} are numbered {', '.join(map(str, sorted(found)))}; they should be numbered "
                         "0, 1, 2, ... from the input layer")
    return [found[index] for index in range(low, high + 1)]


def _indexed(flat: Mapping[str, np.ndarray]) -> Optional[tuple[list[np.ndarray], list[np.ndarray]]]:
    """W0, b0, ... in any spelling _INDEXED reads ("w1", "weights_0", "weights/0" from a list), or None."""
    Ws: dict[int, np.ndarray] = {}
    bs: dict[int, np.ndarray] = {}
    for key, tensor in flat.items():
        match = _INDEXED.match(key)
        if match:
            (Ws if match["kind"].lower().startswith("w") else bs)[int(match["index"])] = tensor
    if not Ws:
        return None
    return _by_index(Ws, "weights"), _by_index(bs, "biases")


def _paired(flat: Mapping[str, np.ndarray]) -> Optional[tuple[list[np.ndarray], list[np.ndarray]]]:
    """[(W0, b0), (W1, b1), ...], or None."""
    pairs = {key: _PAIRED.match(key) for key in flat}
    if not pairs or not all(pairs.values()):
        return None
    Ws = {int(m["index"]): flat[key] for key, m in pairs.items() if m["slot"] == "0"}
    bs = {int(m["index"]): flat[key] for key, m in pairs.items() if m["slot"] == "1"}
    return _by_index(Ws, "weights"), _by_index(bs, "biases")


def _listed(flat: Mapping[str, np.ndarray]) -> Optional[tuple[list[np.ndarray], list[np.ndarray]]]:
    """[W0, b0, W1, b1, ...]: matrices and vectors alternating, or None."""
    if not flat or not all(_LISTED.match(key) for key in flat):
        return None
    tensors = [flat[key] for key in sorted(flat, key=int)]
    if len(tensors) % 2 or not all(t.ndim == 2 for t in tensors[0::2]):
        return None
    return tensors[0::2], tensors[1::2]


def layer_tensors(flat: Mapping[str, np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(weights, biases) as stored, input layer first; ModelError saying what the file holds instead."""
    for read in (_indexed, _paired, _listed):
        found = read(flat)
        if found is not None:
            Ws, bs = found
            if len(Ws) != len(bs):
                raise ModelError(f"it holds {len(Ws)} weight matrices and {len(bs)} biases; a network has one "
                                 "bias per weight matrix")
            return Ws, bs
    keys = ", ".join(sorted(flat)[:12]) or "none"
    raise ModelError(f"its arrays are named {keys}; the skeleton's get_weights() names them W0, b0, W1, b1, ... "
                     "from the input layer on")


def _orientation(shape: tuple[int, ...], n_in: int) -> Optional[bool]:
    """False for (n_in, k), True for (k, n_in), None for neither (a square W gives False)."""
    if len(shape) != 2:
        return None
    if shape[0] == n_in:
        return False
    return True if shape[1] == n_in else None


def read_network(flat: Mapping[str, np.ndarray], input_size: int = INPUT_SIZE) -> SavedNetwork:
    """The saved model as a SavedNetwork; ModelError when its tensors do not chain into a network."""
    Ws, bs = layer_tensors(flat)
    n_in, transposed = int(input_size), []
    for layer, W in enumerate(Ws):
        found = _orientation(W.shape, n_in)
        if found is None:
            takes = "the 784 pixels" if layer == 0 else f"the {n_in} outputs of layer {layer - 1}"
            raise ModelError(f"W{layer} has shape {W.shape}, but layer {layer} takes {takes}")
        transposed.append(found)
        n_in = W.shape[0] if found else W.shape[1]
    decided = [t for W, t in zip(Ws, transposed) if W.shape[0] != W.shape[1]]
    stored_transposed = bool(decided) and all(decided)
    weights = tuple(np.asarray(W.T if (t if W.shape[0] != W.shape[1] else stored_transposed) else W,
                               dtype=np.float64) for W, t in zip(Ws, transposed))
    biases = []
    for layer, (W, b) in enumerate(zip(weights, bs)):
        if b.size != W.shape[1] or (b.ndim == 2 and 1 not in b.shape) or b.ndim > 2:
            raise ModelError(f"b{layer} has shape {b.shape}; layer {layer} has {W.shape[1]} units")
        biases.append(np.asarray(b, dtype=np.float64).reshape(-1))
    return SavedNetwork(weights, tuple(biases), stored_transposed)
