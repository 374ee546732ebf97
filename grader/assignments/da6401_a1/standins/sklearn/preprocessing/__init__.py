"""Stand-in for `sklearn.preprocessing`: `OneHotEncoder` and `LabelBinarizer` for integer labels."""
import numpy as np

import sklearn as _root

STANDIN = True
USED = False


def _mark():
    global USED
    USED = True
    _root._mark()


class OneHotEncoder:
    """Integer or string categories per column -> one-hot columns (always dense here)."""

    def __init__(self, sparse_output=False, sparse=None, handle_unknown="error", **_):
        self.categories_ = None

    def fit(self, X, y=None):
        _mark()
        X = np.asarray(X).reshape(len(X), -1)
        self.categories_ = [np.unique(X[:, j]) for j in range(X.shape[1])]
        return self

    def transform(self, X):
        X = np.asarray(X).reshape(len(X), -1)
        parts = [(X[:, [j]] == categories[None, :]).astype(float) for j, categories in enumerate(self.categories_)]
        return np.hstack(parts)

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)


class LabelBinarizer(OneHotEncoder):
    def fit(self, y):
        return super().fit(np.asarray(y).reshape(-1, 1))

    def transform(self, y):
        return super().transform(np.asarray(y).reshape(-1, 1))
