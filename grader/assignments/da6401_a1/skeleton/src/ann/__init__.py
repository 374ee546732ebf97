"""ann: your NumPy multi-layer perceptron. `from ann.neural_network import NeuralNetwork` must work
with `src/` on sys.path; inside the package, import its modules relatively (`from .activations import ...`)."""
