"""Module 2A: losses, activations, backpropagation in MLPs and automatic differentiation.

The first assignment, and the default of every command. Its parts predate assignment folders
and stay where they were: checks in `grader/checks/`, rubrics in `grader/rubric/`, the answer
key in `reference/`, notebooks in `exercises/` and `solutions/`, the release built by
`grader/release.py`.
"""
from __future__ import annotations

from pathlib import Path

from grader.assignments.spec import Assignment, Exercise
from grader.submission.exercises import EXERCISES, MODULE_2A_LAYOUT

TITLES = {
    "ex1_activations_losses": "Activations and losses, with their derivatives",
    "ex2_hand_calculation": "Backpropagation by hand on a 2-2-1 network",
    "ex3_mlp_backprop": "Forward and backward passes of an MLP",
    "ex4_autograd_scalar": "A scalar autograd engine",
    "ex5_autograd_tensor": "A tensor autograd engine",
    "ex6_gradient_descent": "Gradient descent and training",
}

# The names each exercise's graded notebook cells check, one group of tests each (a test named
# `group` or `group.<detail>`): the contract's names a student defines.
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

# Exercises ask for hand-written gradients: frameworks that would do the work are blocked.
FORBIDDEN_MODULES = ("torch", "jax", "jaxlib", "autograd", "tensorflow", "mxnet", "tinygrad", "micrograd")

ASSIGNMENT = Assignment(
    name="module-2a",
    title="Module 2A: losses, activations, backpropagation and autograd",
    exercises=tuple(Exercise(stem, TITLES[stem], CHECK_GROUPS[stem]) for stem in EXERCISES),
    checks_package="grader.checks",
    rubric_dir=Path(__file__).resolve().parents[1] / "rubric",
    layout=MODULE_2A_LAYOUT,
    forbidden_modules=FORBIDDEN_MODULES,
    gradebook_name="module2a_backprop",
    release="grader.release:build_release",
)
