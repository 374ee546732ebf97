"""Layout evidence: the right numbers in the wrong arrangement.

Two slips keep every number and move it: a weight gradient computed as delta.T @ A_prev (the
transpose of dW = A_prev.T @ delta), and a list of layers returned last first (backprop walks
the layers backwards, and the list is never turned round). Undoing the slip and comparing again
names it; nothing is named when undoing changes nothing (a symmetric matrix, a single layer).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from grader.checks.compare import relative_error, to_array


def transposed_code(got: Any, expected: Any, tol: float) -> Optional[str]:
    """'transposed' when got with its last two axes swapped equals `expected` and got itself does not."""
    arr, want = to_array(got), to_array(expected)
    if arr is None or want is None or arr.ndim < 2 or want.ndim < 2:
        return None
    if not np.all(np.isfinite(arr)):
        return None
    flipped = np.swapaxes(arr, -1, -2)
    if flipped.shape != want.shape or relative_error(flipped, want) > tol:
        return None
    if arr.shape == want.shape and relative_error(arr, want) <= tol:
        return None  # symmetric: nothing to say
    return "transposed"


def transposed_back(tensors: Sequence[np.ndarray], shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    """Every 2-D tensor transposed when its transpose has the shape it should have.

    Square ones are transposed too: the mistake is in the one formula every layer uses.
    """
    return [t.T if t.ndim == 2 and t.T.shape == tuple(shape) else t for t, shape in zip(tensors, shapes)]


def reversed_layers(tensors: Sequence[Any], per_layer: int = 2) -> list[Any]:
    """A flat per-layer list [W_1, b_1, W_2, b_2, ...] with the layers in reverse order."""
    layers = [list(tensors[i:i + per_layer]) for i in range(0, len(tensors), per_layer)]
    return [t for layer in layers[::-1] for t in layer]


def layout_candidates(tensors: Sequence[np.ndarray], shapes: Sequence[tuple[int, ...]],
                      per_layer: int = 2) -> dict[str, list[np.ndarray]]:
    """The answer rearranged as each layout mistake would explain it, where every shape then fits.

    `tensors` and `shapes` are flat per-layer lists ([dW_1, db_1, ...] and the parameters' shapes);
    only 2-D tensors (the weight gradients) can be transposed back.
    """
    candidates = {"transposed": transposed_back(tensors, shapes),
                  "layer_order_reversed": reversed_layers(list(tensors), per_layer)}
    return {code: c for code, c in candidates.items()
            if len(c) == len(shapes) and all(np.shape(t) == tuple(s) for t, s in zip(c, shapes))}
