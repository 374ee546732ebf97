"""Evaluate a saved model on the test set: logits, loss, accuracy, f1, precision, recall.

    python src/inference.py --model_path best_model.npy --config_path best_config.json

The configuration saved by train.py rebuilds the network; options given here override it.
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from ann import NeuralNetwork  # noqa: E402
from utils.data_loader import load_dataset  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description="Evaluate a saved NumPy MLP.")
    parser.add_argument("--model_path", default="best_model.npy")
    parser.add_argument("--config_path", default="best_config.json")
    parser.add_argument("-d", "--dataset", default=None, choices=["mnist", "fashion_mnist"],
                        help="default: the dataset the model was trained on")
    return parser


def parse_arguments(argv=None):
    return build_parser().parse_args(argv)


def load_model(model_path, config_path):
    """The network the configuration describes, with the saved weights loaded."""
    with open(config_path) as handle:
        config = json.load(handle)
    model = NeuralNetwork(argparse.Namespace(**config))
    model.set_weights(np.load(model_path, allow_pickle=True).item())
    return model, config


def main(argv=None):
    args = parse_arguments(argv)
    model, config = load_model(args.model_path, args.config_path)
    _, (X_test, y_test) = load_dataset(args.dataset or config["dataset"])
    logits = model.forward(X_test)
    metrics = model.evaluate(X_test, y_test)
    for name in ("loss", "accuracy", "f1", "precision", "recall"):
        print(f"{name}: {metrics[name]:.4f}")
    return {"logits": logits, **metrics}


if __name__ == "__main__":
    main()
