"""The training script: parse the command line, load the data, train, save the best model.

Options: -d/--dataset (mnist, fashion_mnist), -e/--epochs, -b/--batch_size, -l/--loss
(cross_entropy, mean_squared_error), -o/--optimizer (sgd, momentum, nag, rmsprop, adam,
nadam), -lr/--learning_rate, -wd/--weight_decay, -nhl/--num_layers (hidden layers),
-sz/--hidden_size (one size per hidden layer, or one for all), -a/--activation (sigmoid, tanh,
relu), -w_i/--weight_init (random, xavier).
Load the data with keras.datasets.mnist.load_data() or fashion_mnist.load_data(), build
NeuralNetwork(args), train it (log to wandb if you like), and save the best weights with
np.save("best_model.npy", model.get_weights()) and its configuration as best_config.json.
`python src/train.py ...` must work from the repository root.
"""
