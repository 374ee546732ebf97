"""Stand-in for keras.datasets.mnist: the grader's MNIST-shaped data from keras's cache."""
from .cache_files import read_mnist_npz

STANDIN = True
USED = False


def load_data(path="mnist.npz"):
    """`((x_train, y_train), (x_test, y_test))`: uint8 images (N, 28, 28), uint8 labels (N,)."""
    global USED
    USED = True
    return read_mnist_npz(path)
