"""One dense layer: Z = A_prev @ W + b followed by its activation.

It holds W and b, keeps what its backward pass needs from the forward pass, and after a
backward pass exposes `self.grad_W` and `self.grad_b` (the gradients of the batch-mean loss,
shaped like W and b) for the optimizer. Weight initialisation goes here too: `random` and
`xavier` (Glorot).
"""
