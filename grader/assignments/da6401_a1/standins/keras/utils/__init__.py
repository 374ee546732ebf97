"""Stand-in for keras.utils: `to_categorical`, the one-hot encoding train.py files use."""
import numpy as np

STANDIN = True
USED = False


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot rows for integer labels `y`, as keras's: shape `y.shape + (num_classes,)`."""
    global USED
    USED = True
    y = np.asarray(y, dtype="int64")
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    num_classes = int(y.max()) + 1 if num_classes is None else int(num_classes)
    return np.eye(num_classes, dtype=dtype)[y]
