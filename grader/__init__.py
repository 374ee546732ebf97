"""backprop-grader: grade Module 2A (losses, activations, backpropagation, autograd)."""
from grader.personal_case import personal_case

__version__ = "0.1.0"
__all__ = ["personal_case", "__version__"]
