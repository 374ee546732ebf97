"""How a student's network stores its parameters, read from the shapes `get_weights()` returns.

The skeleton fixes the keys (W0, b0, W1, b1, ... from the input layer on) but not the
orientation: W_l may be (n_in, n_out), as the reference keeps it, or (n_out, n_in), as the
column-vector notation writes it; b_l may be (n,), (1, n) or (n, 1). The sizes are all
different, so each shape says which it is; nothing is guessed. `Layout` converts the
reference's tensors to the student's storage and the student's back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np

from grader.checks.base import fail
from grader.checks.compare import describe, to_array
from grader.checks.lib.answers import AnswerError, with_mistake

SINGLE_DTYPES = frozenset({"float32", "float16"})


def is_single(value: Any) -> bool:
    """True for an array that arrived in single (or half) precision: the wire keeps the dtype."""
    return isinstance(value, np.ndarray) and value.dtype.name in SINGLE_DTYPES


def bias_shapes(n: int) -> tuple[tuple[int, ...], ...]:
    """The shapes a bias of n units may be stored in."""
    return ((n,), (1, n), (n, 1))


@dataclass(frozen=True)
class Layout:
    """Per layer (input first): whether W is stored (n_out, n_in), and b's stored shape."""

    sizes: tuple[int, ...]
    transposed: tuple[bool, ...]
    bias_shapes: tuple[tuple[int, ...], ...]
    single: bool = False  # get_weights returned single-precision arrays

    @property
    def depth(self) -> int:
        return len(self.sizes) - 1

    def weight_shape(self, layer: int) -> tuple[int, int]:
        n_in, n_out = self.sizes[layer], self.sizes[layer + 1]
        return (n_out, n_in) if self.transposed[layer] else (n_in, n_out)

    def stored_shapes(self) -> list[tuple[int, ...]]:
        """The student's shape of each flat tensor [W0, b0, W1, ...]."""
        return [shape for layer in range(self.depth) for shape in (self.weight_shape(layer), self.bias_shapes[layer])]

    def to_student(self, params: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        """Flat reference tensors [W0, b0, ...] as the dict set_weights takes, in the student's storage."""
        weights = {}
        for layer in range(self.depth):
            W, b = np.asarray(params[2 * layer], dtype=np.float64), np.asarray(params[2 * layer + 1], dtype=np.float64)
            weights[f"W{layer}"] = W.T.copy() if self.transposed[layer] else W.copy()
            weights[f"b{layer}"] = b.reshape(self.bias_shapes[layer]).copy()
        return weights

    def to_reference(self, index: int, value: np.ndarray) -> np.ndarray:
        """The student's flat tensor `index` (a parameter or its gradient, in the stored shape) in
        the reference's orientation; a bias as (n,)."""
        layer = index // 2
        if index % 2 == 1:
            return np.asarray(value, dtype=np.float64).reshape(-1)
        return np.asarray(value, dtype=np.float64).T if self.transposed[layer] else np.asarray(value, dtype=np.float64)

    def flat_index(self, index: int, entry: tuple[int, ...]) -> int:
        """Where the reference's entry of flat tensor `index` sits in the student's array (C order)."""
        layer = index // 2
        if index % 2 == 1:
            return int(entry[0])
        i, j = entry
        n_in, n_out = self.sizes[layer], self.sizes[layer + 1]
        return int(j * n_in + i) if self.transposed[layer] else int(i * n_out + j)

    def storage_words(self) -> str:
        """The layout in words, for feedback."""
        kinds = sorted({"(n_out, n_in)" if t else "(n_in, n_out)" for t in self.transposed})
        biases = sorted({"(n,)" if len(s) == 1 else "(1, n)" if s[0] == 1 else "(n, 1)" for s in self.bias_shapes})
        return f"W as {' and '.join(kinds)}, b as {' and '.join(biases)}"


def weight_keys(depth: int) -> list[str]:
    return [f"{kind}{layer}" for layer in range(depth) for kind in ("W", "b")]


def orientation(shape: tuple[int, ...], n_in: int, n_out: int) -> Optional[bool]:
    """False for (n_in, n_out), True for (n_out, n_in), None for neither."""
    if shape == (n_in, n_out):
        return False
    if shape == (n_out, n_in):
        return True
    return None


def reversed_fit(shapes: Sequence[tuple[int, ...]], sizes: Sequence[int]) -> bool:
    """True when W0, W1, ... have the shapes of the layers taken output layer first."""
    depth = len(sizes) - 1
    return depth > 1 and all(
        orientation(tuple(shapes[layer]), sizes[depth - 1 - layer], sizes[depth - layer]) is not None
        for layer in range(depth))


def read_layout(value: Any, sizes: Sequence[int], stem: str) -> Layout:
    """The Layout get_weights() shows for a network of `sizes`; raises AnswerError saying what is off."""
    sizes = tuple(int(n) for n in sizes)
    depth = len(sizes) - 1
    network = "-".join(str(n) for n in sizes)
    if not isinstance(value, dict):
        raise AnswerError(fail(f"get_weights() should return a dict {{'W0': ..., 'b0': ..., ...}}, "
                               f"but it returned {describe(value)}."))
    missing = [key for key in weight_keys(depth) if key not in value]
    if missing:
        found = ", ".join(sorted(str(k) for k in value)[:12]) or "none"
        raise AnswerError(fail(f"For a {network} network (num_layers={depth - 1}, hidden_size={list(sizes[1:-1])}), "
                               f"get_weights() should have the keys {', '.join(weight_keys(depth))}; it lacks "
                               f"{', '.join(missing)} (its keys: {found})."))
    arrays = {key: to_array(value[key]) for key in weight_keys(depth)}
    for key, array in arrays.items():
        if array is None:
            raise AnswerError(fail(f"get_weights()['{key}'] should be a numpy array, but it is "
                                   f"{describe(value[key])}."))
    shapes = [arrays[f"W{layer}"].shape for layer in range(depth)]
    transposed = []
    for layer in range(depth):
        n_in, n_out = sizes[layer], sizes[layer + 1]
        found = orientation(shapes[layer], n_in, n_out)
        if found is None:
            words = (f"For a {network} network, get_weights()['W{layer}'] has shape {shapes[layer]}; it should be "
                     f"({n_in}, {n_out}) or ({n_out}, {n_in}).")
            if reversed_fit(shapes, sizes):
                raise AnswerError(with_mistake(words + " The shapes are those of the layers from the output layer "
                                               "back.", "layer_order_reversed", stem))
            raise AnswerError(fail(words + " Build the layers from num_layers, hidden_size, input_size and "
                                           "output_size."))
        transposed.append(found)
    biases = []
    for layer in range(depth):
        shape, n = arrays[f"b{layer}"].shape, sizes[layer + 1]
        if shape not in bias_shapes(n):
            raise AnswerError(fail(f"For a {network} network, get_weights()['b{layer}'] has shape {shape}; it should "
                                   f"be ({n},), (1, {n}) or ({n}, 1)."))
        biases.append(shape)
    single = any(is_single(value[key]) for key in weight_keys(depth))
    return Layout(sizes, tuple(transposed), tuple(biases), single)
