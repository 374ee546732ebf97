"""When central differences of the student's own function can confirm a derivative.

A derivative check compares the student's analytic answer with slopes of the student's own
function; two functions that compute nothing agree perfectly, so agreement only counts where
those slopes carry as much information as the true ones.
"""
from __future__ import annotations

from typing import Optional

import numpy as np


def degenerate_slope(numerical: np.ndarray, reference: np.ndarray, ratio: float) -> Optional[str]:
    """Why the student's own slopes cannot confirm a derivative, or None when they can.

    Two functions that compute nothing agree perfectly (zero against zero), so agreement counts
    only where the student's slopes are as informative as the true ones on the same input: not
    (nearly) zero where the true slope is not, and not constant where the true slope varies.
    Both are measured against the reference's own scale.
    """
    num, ref = np.ravel(numerical), np.ravel(reference)
    ref_norm, num_norm = float(np.linalg.norm(ref)), float(np.linalg.norm(num))
    if ref_norm == 0.0:
        return None
    if num_norm <= ratio * ref_norm:
        return "are zero here, where the true slope is not"
    ref_spread = float(np.linalg.norm(ref - ref.mean())) / ref_norm
    num_spread = float(np.linalg.norm(num - num.mean())) / num_norm
    if ref_spread > ratio and num_spread <= ratio * ref_spread:
        return "are the same everywhere here, where the true slope varies"
    return None
