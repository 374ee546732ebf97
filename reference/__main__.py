"""`python -m reference`: the lecture's hand calculations and a short training run, printed."""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from reference.activations import sigmoid
from reference.datasets import make_dataset, train_test_split
from reference.hand_network import (LECTURE_CASE, LECTURE_PRINTED, PYTORCH_SNIPPET_CASE, forward_backward_221,
                                    forward_backward_221_rounded, sigmoid_trace, squared_error_trace)
from reference.mlp import accuracy
from reference.training import SPIRALS_SETTINGS, train


def heading(title: str) -> None:
    print(f"\n{title}\n{'=' * len(title)}")


def show(value: Any, digits: int) -> str:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        return f"{float(array):.{digits}f}"
    rows = np.atleast_2d(array)  # a matrix as the lecture writes it: (a, b; c, d)
    return "(" + "; ".join(", ".join(f"{v:.{digits}f}" for v in row) for row in rows) + ")"


def show_hand_network() -> None:
    heading("The 2-2-1 network: x = (0.5, 1.0), every v = 0.5, w = (1, 1), y = 1")
    rounded = forward_backward_221_rounded(*LECTURE_CASE)
    exact = forward_backward_221(*LECTURE_CASE)
    print(f"{'quantity':<14}{'printed in the lecture':<36}{'rounded at each step':<36}exact")
    for key in rounded:
        print(f"{key:<14}{show(LECTURE_PRINTED[key], 3):<36}{show(rounded[key], 3):<36}{show(exact[key], 4)}")
    print(f"\nThe lecture rounds y_hat = sigmoid(1.358) = {float(sigmoid(1.358)):.5f} up to 0.796; "
          "the numbers after it follow from 0.796.")


def show_traces() -> None:
    w, x, b = PYTORCH_SNIPPET_CASE["w"], PYTORCH_SNIPPET_CASE["x"], PYTORCH_SNIPPET_CASE["b"]
    heading(f"Five-step trace of L = sigmoid(w x + b) at w = {w}, x = {x}, b = {b}")
    for key, value in sigmoid_trace(w, x, b).items():
        print(f"  {key:<8}{value: .6f}")
    heading("The PyTorch snippet: z = w x + b, loss = z**2 (squared-error graph with y = 0)")
    for key, value in squared_error_trace(**PYTORCH_SNIPPET_CASE).items():
        print(f"  {key:<8}{value: .6f}")
    print("  w.grad = 2 z x = dL_dw above")


def show_training() -> None:
    settings = dict(SPIRALS_SETTINGS)
    heading(f"Training a {settings['layer_sizes']} {settings['hidden']} MLP on 3 spirals "
            f"(SGD, lr {settings['lr']}, batch {settings['batch_size']})")
    X, labels = make_dataset("spirals", n=600, classes=3, seed=0)
    X_train, X_test, labels_train, labels_test = train_test_split(X, labels, test_fraction=0.25, seed=0)
    start = time.perf_counter()
    params, losses = train(X_train, labels_train, seed=0, **settings)
    seconds = time.perf_counter() - start
    for epoch in range(0, len(losses), max(1, len(losses) // 8)):
        print(f"  epoch {epoch + 1:>4}  mean training loss {losses[epoch]:.4f}")
    print(f"  epoch {len(losses):>4}  mean training loss {losses[-1]:.4f}")
    print(f"  train accuracy    {accuracy(params, X_train, labels_train, settings['hidden']):.3f}")
    print(f"  held-out accuracy {accuracy(params, X_test, labels_test, settings['hidden']):.3f}"
          f"  ({seconds:.1f} s)")


def main() -> None:
    show_hand_network()
    show_traces()
    show_training()


if __name__ == "__main__":
    main()
