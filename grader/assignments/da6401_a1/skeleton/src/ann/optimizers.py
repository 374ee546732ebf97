"""The optimizers `--optimizer` names: sgd, momentum, nag, rmsprop, adam, nadam.

Each moves every layer's W and b using the layer's grad_W and grad_b. Weight decay is L2 on
the weights only: g_W = grad_W + weight_decay * W; biases are not decayed. Hyperparameters
beyond the learning rate (momentum, beta, beta1, beta2, epsilon) default to 0.9, 0.9, 0.9,
0.999 and 1e-8. Adam and NAdam use bias correction, with one time step per update of the
whole network.
"""
