"""Small 2-D classification data sets made with numpy alone, and the helpers to use them.

`make_dataset` draws points in the plane (spirals, blobs or moons) from a seed, so the grader,
the demo and a student all get the same data without downloading anything.
"""
from __future__ import annotations

import numpy as np

KINDS: tuple[str, ...] = ("spirals", "blobs", "moons")


def make_dataset(kind: str = "spirals", n: int = 600, classes: int = 3, noise: float = 0.2,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` labelled points in the plane: X (n, 2) float64 and labels (n,) int64 in 0..classes-1.

    - spirals: `classes` interleaved arms, radius 0 to 1 over 4 radians each; `noise` is the
      standard deviation of the angle (radians). Not linearly separable: needs a hidden layer.
    - blobs: Gaussian clouds of standard deviation `noise` centred on a circle of radius 1.
    - moons: two interleaving half circles (needs classes=2); `noise` is the standard deviation
      added to each coordinate.
    Classes get n // classes points each, the first n % classes classes one more.
    Rows are shuffled so that a split or a minibatch sees every class.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown dataset kind {kind!r}; choose one of {list(KINDS)}")
    if classes < 2:
        raise ValueError(f"classes must be at least 2, got {classes}")
    if kind == "moons" and classes != 2:
        raise ValueError(f"moons has exactly 2 classes, got classes={classes}")
    if n < classes:
        raise ValueError(f"n must be at least classes={classes} so every class has a point, got {n}")
    if noise < 0:
        raise ValueError(f"noise is a standard deviation and must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    counts = [n // classes + (1 if k < n % classes else 0) for k in range(classes)]
    labels = np.repeat(np.arange(classes, dtype=np.int64), counts)
    draw = {"spirals": _spirals, "blobs": _blobs, "moons": _moons}[kind]
    X = np.concatenate([draw(k, count, classes, noise, rng) for k, count in enumerate(counts)])
    order = rng.permutation(n)
    return X[order], labels[order]


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    """One-hot rows (B, classes) float64 from integer labels (B,) in 0..classes-1."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D (one class index per example), got shape {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        if not np.all(labels == np.round(labels)):
            raise ValueError("labels must be whole class indices, e.g. [0, 2, 1]")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must lie in 0..{classes - 1}, got {labels.min()}..{labels.max()}")
    encoded = np.zeros((labels.shape[0], classes), dtype=np.float64)
    encoded[np.arange(labels.shape[0]), labels.astype(np.int64)] = 1.0
    return encoded


def train_test_split(X: np.ndarray, labels: np.ndarray, test_fraction: float = 0.25,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle the rows with `seed` and hold out round(test_fraction * n) of them.

    Returns `(X_train, X_test, labels_train, labels_test)`, scikit-learn's order. Both parts
    are non-empty; every row lands in exactly one of them.
    """
    X, labels = np.asarray(X), np.asarray(labels)
    if X.shape[0] != labels.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but labels has {labels.shape[0]}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    n_test = int(round(test_fraction * X.shape[0]))
    if not 0 < n_test < X.shape[0]:
        raise ValueError(f"test_fraction={test_fraction} of {X.shape[0]} rows leaves one part empty")
    order = np.random.default_rng(seed).permutation(X.shape[0])
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], labels[train], labels[test]


def _spirals(k: int, count: int, classes: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    radius = np.linspace(0.0, 1.0, count)
    # Each arm turns 4 radians; arm k starts 2*pi*k/classes round, so the arms interleave.
    angle = np.linspace(0.0, 4.0, count) + 2.0 * np.pi * k / classes + noise * rng.standard_normal(count)
    return np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])


def _blobs(k: int, count: int, classes: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    centre = np.array([np.cos(2.0 * np.pi * k / classes), np.sin(2.0 * np.pi * k / classes)])
    return centre + noise * rng.standard_normal((count, 2))


def _moons(k: int, count: int, classes: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    t = np.linspace(0.0, np.pi, count)
    if k == 0:
        points = np.column_stack([np.cos(t), np.sin(t)])
    else:
        points = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    return points + noise * rng.standard_normal((count, 2))
