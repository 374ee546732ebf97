"""NeuralNetwork: the multi-layer perceptron the grader builds and calls. Keep this interface.

The network maps input_size -> hidden_size[0] -> ... -> hidden_size[num_layers - 1] -> output_size.
Hidden layers use `activation`; the output layer has no activation, so `forward` returns
logits. input_size and output_size are 784 and 10 for MNIST and Fashion-MNIST; read them with
getattr(cli_args, "input_size", 784) and getattr(cli_args, "output_size", 10), since the grader
builds small networks of other sizes.

Conventions the grader checks:
- losses are computed on p = softmax(logits): cross_entropy is the batch mean of -log p[y];
  mean_squared_error is the mean over all B x C entries of (p - onehot(y))^2;
- gradients are of that batch-mean loss, in float64;
- labels y may be integers (B,) or one-hot rows (B, C);
- weight decay is L2 on weights only: g_W = grad_W + weight_decay * W.
"""
import numpy as np


class NeuralNetwork:
    def __init__(self, cli_args):
        """Build the layers, the loss and the optimizer from an argparse.Namespace.

        cli_args holds dataset, epochs, batch_size, loss (cross_entropy, mean_squared_error
        or mse), optimizer (sgd, momentum, nag, rmsprop, adam, nadam), learning_rate,
        weight_decay, num_layers (the number of hidden layers), hidden_size (a list with one
        size per hidden layer; a single int or a one-element list means all the same),
        activation (sigmoid, tanh, relu) and weight_init (random, xavier).
        """
        raise NotImplementedError

    def forward(self, X):
        """Logits of shape (B, output_size) for inputs X of shape (B, input_size); no softmax."""
        raise NotImplementedError

    def backward(self, y_true, y_pred):
        """Gradients of the batch-mean loss, for the last forward pass.

        y_true: labels (B,) or one-hot (B, output_size). y_pred: the logits forward returned.
        Returns (grad_Ws, grad_bs), two lists with index 0 = the OUTPUT layer, each gradient
        shaped like its parameter. Every layer must also expose self.grad_W and self.grad_b.
        """
        raise NotImplementedError

    def update_weights(self):
        """Apply one step of the optimizer to the gradients of the last backward pass."""
        raise NotImplementedError

    def train(self, X_train, y_train, epochs, batch_size):
        """Mini-batch training for `epochs` passes over the data; returns what you find useful."""
        raise NotImplementedError

    def evaluate(self, X, y):
        """A dict of metrics on X against y: loss, accuracy, precision, recall, f1."""
        raise NotImplementedError

    def get_weights(self):
        """A dict {"W0": ..., "b0": ..., "W1": ..., ...}, input layer first."""
        raise NotImplementedError

    def set_weights(self, weights):
        """Load a dict shaped like get_weights()'s."""
        raise NotImplementedError
