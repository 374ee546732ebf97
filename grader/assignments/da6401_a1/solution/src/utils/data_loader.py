"""Load MNIST or Fashion-MNIST through keras.datasets and prepare them for the network.

Images become float64 rows of 784 pixels in [0, 1]; labels stay integers 0..9. keras is
imported only when data is loaded, so the `ann` package never needs it.
"""
import numpy as np

DATASETS = ("mnist", "fashion_mnist")


def load_raw(name):
    """keras's ((x_train, y_train), (x_test, y_test)): uint8 images (N, 28, 28), labels (N,)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose mnist or fashion_mnist")
    try:
        if name == "mnist":
            from keras.datasets import mnist as source
        else:
            from keras.datasets import fashion_mnist as source
    except ImportError:  # keras bundled with TensorFlow
        from tensorflow import keras
        source = getattr(keras.datasets, name)
    return source.load_data()


def preprocess(images):
    """(N, 28, 28) uint8 -> (N, 784) float64 in [0, 1]."""
    images = np.asarray(images)
    return images.reshape(len(images), -1).astype(np.float64) / 255.0


def one_hot(labels, num_classes=10):
    """(N, num_classes) float64 rows with a 1 at each label."""
    return np.eye(num_classes)[np.asarray(labels, dtype=np.int64)]


def load_dataset(name):
    """(X_train, y_train), (X_test, y_test), preprocessed, labels as int64."""
    (x_train, y_train), (x_test, y_test) = load_raw(name)
    return ((preprocess(x_train), np.asarray(y_train, dtype=np.int64).reshape(-1)),
            (preprocess(x_test), np.asarray(y_test, dtype=np.int64).reshape(-1)))


def train_validation_split(X, y, validation_fraction=0.1, seed=0):
    """A shuffled split: (X_train, y_train), (X_val, y_val), the validation part at least one row."""
    order = np.random.default_rng(seed).permutation(len(X))
    n_val = max(1, int(round(validation_fraction * len(X))))
    val, train = order[:n_val], order[n_val:]
    return (X[train], y[train]), (X[val], y[val])
