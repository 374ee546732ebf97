"""The grader's answer key for `da6401-a1`: a functional MLP in float64 numpy.

- `activations`: sigmoid, tanh, relu and their derivatives.
- `losses`: softmax, cross_entropy, mean_squared_error and their gradients w.r.t. the logits.
- `network`: `forward`, `backward`, `numerical_gradients` for weights (n_in, n_out), input layer first.
- `config`: the layer sizes and loss name a `NeuralNetwork(cli_args)` namespace describes.
- `gradcheck`: central differences and the norm-relative error.

The skeleton's own conventions (index 0 = output layer in `backward`, keys `W0, b0, ...` in
`get_weights`) are the grader's business when it compares; here everything is input layer first.
"""
