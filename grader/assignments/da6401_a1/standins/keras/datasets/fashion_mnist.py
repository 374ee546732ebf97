"""Stand-in for keras.datasets.fashion_mnist: the grader's data from keras's cache."""
from .cache_files import read_fashion_idx

STANDIN = True
USED = False


def load_data():
    """`((x_train, y_train), (x_test, y_test))`: uint8 images (N, 28, 28), uint8 labels (N,)."""
    global USED
    USED = True
    return read_fashion_idx()
