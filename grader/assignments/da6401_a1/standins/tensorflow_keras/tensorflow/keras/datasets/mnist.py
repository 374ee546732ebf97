"""Stand-in for tensorflow.keras.datasets.mnist: keras.datasets.mnist's stand-in."""
from keras.datasets import mnist as _keras_mnist

STANDIN = True
USED = False


def load_data(path="mnist.npz"):
    """`((x_train, y_train), (x_test, y_test))`: uint8 images (N, 28, 28), uint8 labels (N,)."""
    global USED
    USED = True
    return _keras_mnist.load_data(path)
