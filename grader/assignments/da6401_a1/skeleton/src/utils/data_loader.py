"""Loading and preparing MNIST and Fashion-MNIST.

keras.datasets.<name>.load_data() returns ((x_train, y_train), (x_test, y_test)) with uint8
images (N, 28, 28) and integer labels (N,). Flatten the images to 784 features, scale them to
[0, 1], split off a validation set, and one-hot the labels where you need them.
"""
