"""Which check groups each exercise notebook runs: the single list notebooks and checks share.

A graded cell of `solutions/<stem>.ipynb` calls `grader.selfcheck.check(stem, group, globals())`
for one group. `check` runs the registered checks of `stem` whose test name is `group` or starts
with `group + "."`, so every registered test name must start with one of these groups, and every
group must have at least one check.
"""
from __future__ import annotations

from grader.submission.exercises import EXERCISES  # the one list of exercise stems

CHECK_GROUPS: dict[str, tuple[str, ...]] = {
    "ex1_activations_losses": (
        "identity", "sigmoid", "tanh", "relu", "softmax",
        "identity_grad", "sigmoid_grad", "tanh_grad", "relu_grad", "softmax_jacobian",
        "mse", "mae", "bce", "cce",
        "mse_grad", "mae_grad", "bce_grad", "cce_grad",
        "sigmoid_bce_delta", "softmax_cce_delta",
    ),
    "ex2_hand_calculation": ("forward_backward_221", "HAND_ANSWERS"),
    "ex3_mlp_backprop": ("init_params", "forward", "backward"),
    "ex4_autograd_scalar": ("Value", "sigmoid_trace"),
    "ex5_autograd_tensor": ("Tensor", "mse_loss", "cross_entropy"),
    "ex6_gradient_descent": ("sgd_step", "train"),
}


def group_of(exercise: str, test_name: str) -> str | None:
    """The group a registered test name belongs to, or None when it belongs to none."""
    for group in CHECK_GROUPS.get(exercise, ()):
        if test_name == group or test_name.startswith(group + "."):
            return group
    return None
