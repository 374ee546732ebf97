"""Train a NeuralNetwork on MNIST or Fashion-MNIST; save the best model and its configuration.

    python src/train.py -d fashion_mnist -e 10 -b 64 -l cross_entropy -o adam -lr 1e-3 \
        -wd 0 -nhl 3 -sz 128 -a relu -w_i xavier

After each epoch the model is evaluated on a validation split (10% of the training set);
the weights of the epoch with the best validation accuracy are saved with np.save as a dict
(`best_model.npy`, load with allow_pickle=True), and the arguments with the scores as
`best_config.json`. Runs are logged to Weights & Biases when wandb is installed and
--wandb_project is given.
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # `python src/train.py` from the repository root finds ann and utils
    sys.path.insert(0, HERE)

from ann import NeuralNetwork  # noqa: E402
from utils.data_loader import load_dataset, train_validation_split  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description="Train a NumPy MLP on MNIST or Fashion-MNIST.")
    parser.add_argument("-d", "--dataset", default="fashion_mnist", choices=["mnist", "fashion_mnist"])
    parser.add_argument("-e", "--epochs", type=int, default=10)
    parser.add_argument("-b", "--batch_size", type=int, default=64)
    parser.add_argument("-l", "--loss", default="cross_entropy", choices=["cross_entropy", "mean_squared_error", "mse"])
    parser.add_argument("-o", "--optimizer", default="adam",
                        choices=["sgd", "momentum", "nag", "rmsprop", "adam", "nadam"])
    parser.add_argument("-lr", "--learning_rate", type=float, default=1e-3)
    parser.add_argument("-wd", "--weight_decay", type=float, default=0.0)
    parser.add_argument("-nhl", "--num_layers", type=int, default=3, help="number of hidden layers")
    parser.add_argument("-sz", "--hidden_size", type=int, nargs="+", default=[128],
                        help="one size per hidden layer, or one size for all")
    parser.add_argument("-a", "--activation", default="relu", choices=["sigmoid", "tanh", "relu"])
    parser.add_argument("-w_i", "--weight_init", default="xavier", choices=["random", "xavier"])
    parser.add_argument("-m", "--momentum", type=float, default=0.9, help="momentum and nag")
    parser.add_argument("-beta", "--beta", type=float, default=0.9, help="rmsprop")
    parser.add_argument("-beta1", "--beta1", type=float, default=0.9, help="adam and nadam")
    parser.add_argument("-beta2", "--beta2", type=float, default=0.999, help="adam and nadam")
    parser.add_argument("-eps", "--epsilon", type=float, default=1e-8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save_dir", default=".", help="where best_model.npy and best_config.json go")
    parser.add_argument("-wp", "--wandb_project", default=None)
    return parser


def parse_arguments(argv=None):
    return build_parser().parse_args(argv)


def start_logging(args):
    """A wandb run, or None when wandb is missing or no project was given."""
    if not args.wandb_project:
        return None
    try:
        import wandb
    except ImportError:
        return None
    return wandb.init(project=args.wandb_project, config=vars(args))


def save_best(weights, config, save_dir):
    os.makedirs(save_dir, exist_ok=True)
    np.save(os.path.join(save_dir, "best_model.npy"), weights)
    with open(os.path.join(save_dir, "best_config.json"), "w") as handle:
        json.dump(config, handle, indent=2)


def main(argv=None):
    args = parse_arguments(argv)
    (X_full, y_full), (X_test, y_test) = load_dataset(args.dataset)
    (X_train, y_train), (X_val, y_val) = train_validation_split(X_full, y_full, 0.1, args.seed)
    args.input_size, args.output_size = X_train.shape[1], 10
    model = NeuralNetwork(args)
    run = start_logging(args)
    best = {"epoch": 0, "validation": model.evaluate(X_val, y_val), "weights": model.get_weights()}
    for epoch in range(1, args.epochs + 1):
        train_loss = model.train(X_train, y_train, epochs=1, batch_size=args.batch_size)[-1]
        validation = model.evaluate(X_val, y_val)
        print(f"epoch {epoch}: train loss {train_loss:.4f}, validation accuracy {validation['accuracy']:.4f}")
        if run is not None:
            run.log({"epoch": epoch, "train_loss": train_loss,
                     **{f"val_{name}": value for name, value in validation.items()}})
        if validation["accuracy"] > best["validation"]["accuracy"]:
            best = {"epoch": epoch, "validation": validation, "weights": model.get_weights()}
    model.set_weights(best["weights"])
    test = model.evaluate(X_test, y_test)
    config = {**vars(args), "best_epoch": best["epoch"], "validation": best["validation"], "test": test}
    save_best(best["weights"], config, args.save_dir)
    print(f"test accuracy {test['accuracy']:.4f}, f1 {test['f1']:.4f}")
    if run is not None:
        run.finish()
    return config


if __name__ == "__main__":
    main()
