"""Stand-in for tensorflow.keras.datasets.fashion_mnist: keras.datasets.fashion_mnist's stand-in."""
from keras.datasets import fashion_mnist as _keras_fashion_mnist

STANDIN = True
USED = False


def load_data():
    """`((x_train, y_train), (x_test, y_test))`: uint8 images (N, 28, 28), uint8 labels (N,)."""
    global USED
    USED = True
    return _keras_fashion_mnist.load_data()
