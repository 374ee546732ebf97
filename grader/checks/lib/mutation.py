"""Did the student's function change its arguments in place? Compared on the arguments as the
worker sends them back after the call (`CheckContext.call_with_args`)."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from grader.checks.compare import to_array


def changed_arguments(sent: Sequence[np.ndarray], after: Any) -> list[int]:
    """Positions of the arguments that came back different from what was sent."""
    if not isinstance(after, (list, tuple)) or len(after) != len(sent):
        return list(range(len(sent)))
    changed = []
    for i, (before, now) in enumerate(zip(sent, after)):
        arr = to_array(now)
        if arr is None or arr.shape != before.shape or not np.array_equal(arr, before, equal_nan=True):
            changed.append(i)
    return changed
