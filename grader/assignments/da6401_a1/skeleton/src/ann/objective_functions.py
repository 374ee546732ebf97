"""The losses and their gradients with respect to the logits.

Losses are computed on p = softmax(logits):
- cross_entropy: the mean over the batch of -log p[y];
- mean_squared_error (also called mse): the mean over all B x C entries of (p - onehot(y))^2.
Gradients are of these batch means; the MSE gradient goes through the softmax's Jacobian.
Targets may be integer labels (B,) or one-hot rows (B, C): accept both.
"""
