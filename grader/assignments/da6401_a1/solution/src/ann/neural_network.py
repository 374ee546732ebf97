"""NeuralNetwork: a multi-layer perceptron built from the training script's arguments.

Architecture: input_size -> hidden_size[0] -> ... -> hidden_size[num_layers - 1] -> output_size,
every hidden layer with `activation`, the output layer with none: `forward` returns logits.
input_size and output_size default to 784 and 10 (MNIST, Fashion-MNIST).

Conventions:
- the loss is computed on p = softmax(logits): cross_entropy is the batch mean of -log p[y],
  mean_squared_error the mean over all B x C entries of (p - onehot(y))^2;
- `backward(y_true, y_pred)` takes labels (B,) or one-hot (B, C) and the logits, and returns
  the gradients of that batch-mean loss as (grad_Ws, grad_bs), index 0 = the output layer;
- weight decay is applied by the optimizer, to weights only (see optimizers.py);
- nag takes its gradient at the look-ahead point: `train` asks the optimizer to move there
  before each forward pass, and `update_weights` moves back before the update;
- `get_weights()` / `set_weights(d)` use keys W0, b0, W1, b1, ... from the input layer on.
"""
import numpy as np

from .metrics import classification_metrics, labels_of
from .neural_layer import DTYPE, NeuralLayer
from .objective_functions import get_loss, softmax
from .optimizers import make_optimizer, option


def hidden_sizes(args):
    """One size per hidden layer; a single int or a one-element list is used for all of them."""
    num_layers = int(option(args, "num_layers", 1))
    sizes = option(args, "hidden_size", [64])
    sizes = [int(sizes)] if np.isscalar(sizes) else [int(n) for n in sizes]
    if len(sizes) == 1:
        sizes = sizes * num_layers
    if len(sizes) != num_layers:
        raise ValueError(f"hidden_size gives {len(sizes)} sizes for {num_layers} hidden layers")
    return sizes


class NeuralNetwork:
    def __init__(self, cli_args):
        self.args = cli_args
        sizes = [int(option(cli_args, "input_size", 784)), *hidden_sizes(cli_args),
                 int(option(cli_args, "output_size", 10))]
        activation = option(cli_args, "activation", "sigmoid")
        weight_init = option(cli_args, "weight_init", "xavier")
        self.rng = np.random.default_rng(option(cli_args, "seed", 0))
        self.layers = [
            NeuralLayer(n_in, n_out, activation if index < len(sizes) - 2 else "identity", weight_init, self.rng)
            for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))
        ]
        self.loss, self.loss_gradient = get_loss(option(cli_args, "loss", "cross_entropy"))
        self.optimizer = make_optimizer(cli_args)

    def forward(self, X):
        """Logits (B, output_size) for inputs X (B, input_size)."""
        A = np.asarray(X, dtype=DTYPE)
        for layer in self.layers:
            A = layer.forward(A)
        return A

    def backward(self, y_true, y_pred):
        """Gradients of the batch-mean loss for the last forward pass; y_pred are its logits.

        Returns (grad_Ws, grad_bs), index 0 = the output layer; each layer keeps its own
        grad_W and grad_b for `update_weights`.
        """
        probabilities = softmax(y_pred)
        grad = self.loss_gradient(probabilities, y_true)  # dL/dlogits, (B, output_size)
        grad_Ws, grad_bs = [], []
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
            grad_Ws.append(layer.grad_W)
            grad_bs.append(layer.grad_b)
        return grad_Ws, grad_bs

    def update_weights(self):
        """One optimizer step with the gradients of the last backward."""
        self.optimizer.step(self.layers)

    def train(self, X_train, y_train, epochs=None, batch_size=None):
        """Mini-batch training, the data shuffled each epoch; returns the mean loss of each epoch."""
        X = np.asarray(X_train, dtype=DTYPE)
        y = np.asarray(y_train)
        epochs = int(option(self.args, "epochs", 1) if epochs is None else epochs)
        batch_size = int(option(self.args, "batch_size", 32) if batch_size is None else batch_size)
        history = []
        for _ in range(epochs):
            order = self.rng.permutation(len(X))
            losses, sizes = [], []
            for start in range(0, len(X), batch_size):
                batch = order[start:start + batch_size]
                self.optimizer.look_ahead(self.layers)
                logits = self.forward(X[batch])
                losses.append(self.loss(softmax(logits), y[batch]))
                sizes.append(len(batch))
                self.backward(y[batch], logits)
                self.update_weights()
            history.append(float(np.average(losses, weights=sizes)))
        return history

    def predict(self, X):
        """Class labels (B,)."""
        return self.forward(X).argmax(axis=1)

    def evaluate(self, X, y):
        """loss, accuracy, precision, recall and f1 (macro averages) on X against y."""
        probabilities = softmax(self.forward(X))
        metrics = classification_metrics(labels_of(y), probabilities.argmax(axis=1), probabilities.shape[1])
        metrics["loss"] = self.loss(probabilities, y)
        return metrics

    def get_weights(self):
        weights = {}
        for index, layer in enumerate(self.layers):
            weights[f"W{index}"] = layer.W.copy()
            weights[f"b{index}"] = layer.b.copy()
        return weights

    def set_weights(self, weights):
        """Load a dict from get_weights (or np.load(..., allow_pickle=True) of a saved one)."""
        if isinstance(weights, np.ndarray):  # np.save of a dict loads as a 0-d object array
            weights = weights.item()
        for index, layer in enumerate(self.layers):
            W = np.array(weights[f"W{index}"], dtype=DTYPE)
            if W.shape != layer.W.shape:
                raise ValueError(f"W{index} has shape {W.shape}; this network's is {layer.W.shape}")
            layer.W = W
            layer.b = np.array(weights[f"b{index}"], dtype=DTYPE).reshape(layer.b.shape)
