"""Activation functions for the hidden layers and their derivatives with respect to the pre-activation z.

Needed: sigmoid, tanh and relu (the names `--activation` accepts), each with its derivative
(relu'(0) = 0). The output layer has no activation: the network returns logits.
Work elementwise on arrays of any shape, without modifying the input; keep sigmoid finite for
large |z|.
"""
