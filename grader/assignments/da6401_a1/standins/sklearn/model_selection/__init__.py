"""Stand-in for `sklearn.model_selection`: `train_test_split` only."""
import math

import numpy as np

import sklearn as _root

STANDIN = True
USED = False


def _mark():
    global USED
    USED = True
    _root._mark()


def _count(size, total, default):
    if size is None:
        return default
    if isinstance(size, float):
        return int(math.ceil(size * total)) if size < 1 else total
    return int(size)


def train_test_split(*arrays, test_size=None, train_size=None, random_state=None, shuffle=True, stratify=None):
    """Split each array the same way: [a_train, a_test, b_train, b_test, ...], as scikit-learn does."""
    _mark()
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    total = len(arrays[0])
    if test_size is None and train_size is None:
        test_size = 0.25
    n_test = _count(test_size, total, None)
    n_train = _count(train_size, total, None)
    if n_test is None:
        n_test = total - n_train
    if n_train is None:
        n_train = total - n_test
    if n_train + n_test > total or n_train <= 0 or n_test <= 0:
        raise ValueError(f"cannot split {total} samples into {n_train} for training and {n_test} for testing")
    order = np.random.RandomState(random_state).permutation(total) if shuffle else np.arange(total)
    train, test = order[:n_train], order[n_train:n_train + n_test]
    out = []
    for array in arrays:
        if isinstance(array, list):
            out += [[array[i] for i in train], [array[i] for i in test]]
        else:
            array = np.asarray(array)
            out += [array[train], array[test]]
    return out
