"""The diagnosis codes: each names one known mistake, and the report's `diagnosis` is one of them.

The contract's table fixes the first twenty; codes are added when another mistake is worth
naming (the contract's `da6401-a1` table adds thirteen), and none is ever renamed (instructors
and external tools count them).
"""
from __future__ import annotations

from typing import Optional

# In the contract's order.
CONTRACT_CODES: tuple[str, ...] = (
    "sign_flipped",
    "batch_mean_twice",
    "batch_sum_not_mean",
    "transposed",
    "missing_activation_derivative",
    "activation_instead_of_derivative",
    "derivative_of_wrong_input",
    "relu_derivative_constant",
    "mse_with_ce_delta",
    "layer_order_reversed",
    "log_base_2",
    "softmax_unstable",
    "softmax_wrong_axis",
    "log_of_zero",
    "mutates_input",
    "gradient_overwritten",
    "wrong_topological_order",
    "broadcast_grad_not_reduced",
    "recursion_limit",
    "hardcoded_answer",
)

# The codes CONTRACT.md adds for `da6401-a1` (the course's Assignment 1 repository), besides
# activation_applied_twice, which Module 2A names too; grader/assignments/da6401_a1/checks give them.
DA6401_A1_CODES: tuple[str, ...] = (
    "mse_grad_scale_classes",
    "mse_missing_softmax_jacobian",
    "expects_probabilities",
    "labels_int_only",
    "arguments_swapped",
    "stale_state",
    "nag_is_momentum",
    "nag_is_sgd",
    "momentum_ema",
    "adam_step_per_layer",
    "no_bias_correction",
    "weight_decay_ignored",
    "float32_precision",
)

# Added since the contract was written: activation_applied_twice is act(act(Z)) in a forward
# pass (the output activation on top of the hidden one, or a hidden one twice); then da6401-a1's.
ADDED_CODES: tuple[str, ...] = (
    "activation_applied_twice",
) + DA6401_A1_CODES

CODES: tuple[str, ...] = CONTRACT_CODES + ADDED_CODES


def known_code(code: Optional[str]) -> Optional[str]:
    """`code` itself when it is None or a known code; raises ValueError for anything else."""
    if code is not None and code not in CODES:
        raise ValueError(f"{code!r} is not a diagnosis code; add it to grader/diagnosis/codes.py "
                         f"(known: {', '.join(CODES)})")
    return code
