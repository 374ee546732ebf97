"""What a `NeuralNetwork(cli_args)` namespace of `da6401-a1` describes: its layer sizes and its loss.

The skeleton's options: `num_layers` is the number of hidden layers; `hidden_size` is a list
of ints, one per hidden layer, and a single int or a one-element list means every hidden layer
has that size. The grader adds `input_size` and `output_size` to the namespace to build small
networks; a student's namespace from `train.py` has neither, so they default to 784 and 10.
"""
from __future__ import annotations

from argparse import Namespace
from typing import Sequence, Union

from grader.assignments.da6401_a1.reference.losses import canonical_loss

INPUT_SIZE = 784  # 28 x 28 pixels, flattened
OUTPUT_SIZE = 10  # ten classes in both MNIST and Fashion-MNIST


def hidden_sizes(num_layers: int, hidden_size: Union[int, Sequence[int]]) -> list[int]:
    """One size per hidden layer: an int or a one-element list is repeated num_layers times."""
    sizes = [int(hidden_size)] if isinstance(hidden_size, (int, float, str)) else [int(n) for n in hidden_size]
    if len(sizes) == 1:
        sizes = sizes * int(num_layers)
    if len(sizes) != int(num_layers) or any(n < 1 for n in sizes):
        raise ValueError(f"hidden_size {hidden_size!r} does not give {num_layers} positive sizes")
    return sizes


def layer_sizes(args: Namespace) -> list[int]:
    """[input_size, hidden sizes..., output_size] for the namespace `args`."""
    hidden = hidden_sizes(args.num_layers, args.hidden_size)
    return [int(getattr(args, "input_size", INPUT_SIZE)), *hidden, int(getattr(args, "output_size", OUTPUT_SIZE))]


def loss_name(args: Namespace) -> str:
    """`cross_entropy` or `mean_squared_error` (the namespace may say `mse`)."""
    return canonical_loss(args.loss)
