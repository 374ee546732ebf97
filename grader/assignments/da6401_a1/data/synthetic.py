"""MNIST-shaped data sets made up from templates: deterministic, small, and learnable.

Each of the ten classes is one 28x28 template with intensities in [0, 1]: for `mnist` three
curved pen strokes (quadratic Bezier curves, about 3 pixels wide), for `fashion_mnist` two filled,
striped shapes (rectangles and ellipses). The templates depend only on the data set's name, so
every split shares them. An image of class c is

    x = clip(a * shift(template_c, dy, dx) + noise, 0, 1) * 255,   as uint8,

with a ~ U(0.75, 1), dy, dx uniform in {-3, ..., 3} and noise ~ N(0, 0.25^2) per pixel; labels
are uniform over 0-9, uint8, as keras gives them. Learnable, not trivial: a logistic regression
reaches about 70% (mnist) and 90% (fashion_mnist) on the test split after one epoch, against the
chance 10%. Splits: `train` and `test` are what the student's `load_data()` returns; `private`
is the grader's, drawn from its own random stream.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DATASETS: tuple[str, ...] = ("mnist", "fashion_mnist")
SPLITS: tuple[str, ...] = ("train", "test", "private")
SIDE = 28
CLASSES = 10
MAX_SHIFT = 3
NOISE = 0.25
CONTRAST = (0.75, 1.0)
TEMPLATE_SEED = 6401

_DATASET_IDS = {"mnist": 1, "fashion_mnist": 2}
_SPLIT_IDS = {"train": 1, "test": 2, "private": 3}


@dataclass(frozen=True)
class Sizes:
    """Images per split; small, so a sandboxed epoch takes seconds (keras: 60000 and 10000)."""

    train: int = 6000
    test: int = 1000
    private: int = 1000


@dataclass(frozen=True, eq=False)
class Split:
    """`images` (N, 28, 28) uint8 in 0-255 and `labels` (N,) uint8 in 0-9."""

    images: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True, eq=False)
class SyntheticDataset:
    name: str
    train: Split
    test: Split
    private: Split


def _grid() -> tuple[np.ndarray, np.ndarray]:
    return np.mgrid[0:SIDE, 0:SIDE].astype(np.float64)


def stroke(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, width: float = 1.6) -> np.ndarray:
    """A quadratic Bezier curve `(1-s)^2 p0 + 2 s (1-s) p1 + s^2 p2` drawn `width` pixels from its centre."""
    s = np.linspace(0.0, 1.0, 48)[:, None]
    curve = (1 - s) ** 2 * p0 + 2 * s * (1 - s) * p1 + s ** 2 * p2          # (48, 2): row, column
    rows, cols = _grid()
    distance = np.sqrt((rows[None] - curve[:, 0, None, None]) ** 2 + (cols[None] - curve[:, 1, None, None]) ** 2)
    return np.clip(width - distance.min(axis=0), 0.0, 1.0)


def stroke_templates(rng: np.random.Generator) -> np.ndarray:
    """(10, 28, 28): each class three strokes with control points inside the central 18x18."""
    return np.stack([np.max([stroke(*rng.uniform(5, 23, size=(3, 2))) for _ in range(3)], axis=0)
                     for _ in range(CLASSES)])


def filled_shape(rng: np.random.Generator) -> np.ndarray:
    """A rectangle or an ellipse, striped in [0.5, 1] at a random angle and frequency."""
    rows, cols = _grid()
    centre = rng.uniform(8, 20, size=2)
    half = rng.uniform(3, 9, size=2)
    dy, dx = (rows - centre[0]) / half[0], (cols - centre[1]) / half[1]
    inside = (dy ** 2 + dx ** 2 <= 1.0) if rng.random() < 0.5 else (np.abs(dy) <= 1) & (np.abs(dx) <= 1)
    angle, frequency, phase = rng.uniform(0, np.pi), rng.uniform(0.3, 1.2), rng.uniform(0, 2 * np.pi)
    stripes = 0.75 + 0.25 * np.sin(frequency * (np.cos(angle) * rows + np.sin(angle) * cols) + phase)
    return inside * stripes


def shape_templates(rng: np.random.Generator) -> np.ndarray:
    """(10, 28, 28): each class the union (maximum) of two filled shapes."""
    return np.stack([np.maximum(filled_shape(rng), filled_shape(rng)) for _ in range(CLASSES)])


def class_templates(name: str) -> np.ndarray:
    """The data set's ten templates; fixed by its name alone."""
    if name not in _DATASET_IDS:
        raise ValueError(f"unknown data set {name!r}; the data sets are {', '.join(DATASETS)}")
    rng = np.random.default_rng([TEMPLATE_SEED, _DATASET_IDS[name]])
    return stroke_templates(rng) if name == "mnist" else shape_templates(rng)


def noisy_images(templates: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, 28, 28) uint8: each label's template shifted, rescaled and noised (formula above)."""
    n = len(labels)
    padded = np.pad(templates, ((0, 0), (MAX_SHIFT, MAX_SHIFT), (MAX_SHIFT, MAX_SHIFT)))
    dy, dx = (rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, size=n) for _ in range(2))
    index = np.arange(SIDE) + MAX_SHIFT
    rows = index[None, :, None] - dy[:, None, None]
    cols = index[None, None, :] - dx[:, None, None]
    shifted = padded[labels.astype(np.intp)[:, None, None], rows, cols]
    contrast = rng.uniform(*CONTRAST, size=(n, 1, 1))
    pixels = np.clip(contrast * shifted + rng.normal(0.0, NOISE, size=shifted.shape), 0.0, 1.0)
    return np.rint(pixels * 255).astype(np.uint8)


def make_split(name: str, split: str, size: int, seed: int = 0) -> Split:
    """`size` images of data set `name`, from the random stream of (seed, name, split)."""
    if split not in _SPLIT_IDS:
        raise ValueError(f"unknown split {split!r}; the splits are {', '.join(SPLITS)}")
    if size < 0:
        raise ValueError(f"a split cannot have {size} images")
    templates = class_templates(name)
    rng = np.random.default_rng([seed, _DATASET_IDS[name], _SPLIT_IDS[split]])
    labels = rng.integers(0, CLASSES, size=size).astype(np.uint8)
    return Split(images=noisy_images(templates, labels, rng), labels=labels)


def synthetic_dataset(name: str, *, sizes: Sizes = Sizes(), seed: int = 0) -> SyntheticDataset:
    """The three splits of `name`; the same `seed` and sizes give the same bytes."""
    return SyntheticDataset(name=name, **{split: make_split(name, split, getattr(sizes, split), seed)
                                          for split in SPLITS})
