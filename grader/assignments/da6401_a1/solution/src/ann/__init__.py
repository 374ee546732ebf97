"""ann: a NumPy multi-layer perceptron for MNIST and Fashion-MNIST."""
from .neural_layer import NeuralLayer
from .neural_network import NeuralNetwork
from .objective_functions import get_loss, softmax
from .optimizers import make_optimizer

__all__ = ["NeuralLayer", "NeuralNetwork", "get_loss", "make_optimizer", "softmax"]
