"""The synthetic data sets and their keras cache files: shapes, determinism, idx format, learnability."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from grader.assignments.da6401_a1.data.keras_cache import (
    FASHION_FILES,
    FASHION_FOLDER,
    MNIST_FILE,
    idx_bytes,
    keras_datasets_folder,
    write_keras_cache,
)
from grader.assignments.da6401_a1.data.synthetic import (
    DATASETS,
    Sizes,
    class_templates,
    make_split,
    synthetic_dataset,
)

SMALL = Sizes(train=600, test=200, private=100)


def read_idx(path: Path) -> np.ndarray:
    """A small idx reader: big-endian magic (0, 0, type 0x08, ndim), ndim int32 sizes, uint8 data."""
    with gzip.open(path, "rb") as stream:
        data = stream.read()
    zero, kind, ndim = struct.unpack(">HBB", data[:4])
    assert (zero, kind) == (0, 0x08)
    shape = struct.unpack(f">{ndim}i", data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    assert body.size == np.prod(shape)
    return body.reshape(shape)


@pytest.mark.parametrize("name", DATASETS)
def test_splits_have_keras_s_shapes_and_dtypes(name):
    data = synthetic_dataset(name, sizes=SMALL)
    for split, n in (("train", 600), ("test", 200), ("private", 100)):
        part = getattr(data, split)
        assert part.images.shape == (n, 28, 28) and part.images.dtype == np.uint8
        assert part.labels.shape == (n,) and part.labels.dtype == np.uint8
        assert set(np.unique(part.labels)) <= set(range(10))
    assert set(np.unique(data.train.labels)) == set(range(10))
    assert data.train.images.max() > 200 and data.train.images.min() == 0


def test_the_default_sizes_are_small():
    assert Sizes() == Sizes(train=6000, test=1000, private=1000)


@pytest.mark.parametrize("name", DATASETS)
def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_images(name):
    first, again = make_split(name, "train", 300, seed=3), make_split(name, "train", 300, seed=3)
    other = make_split(name, "train", 300, seed=4)
    assert first.images.tobytes() == again.images.tobytes() and first.labels.tobytes() == again.labels.tobytes()
    assert first.images.tobytes() != other.images.tobytes()


@pytest.mark.parametrize("name", DATASETS)
def test_the_private_split_is_neither_train_nor_test(name):
    data = synthetic_dataset(name, sizes=Sizes(train=200, test=200, private=200))
    private = {image.tobytes() for image in data.private.images}
    assert not private & {image.tobytes() for image in data.train.images}
    assert not private & {image.tobytes() for image in data.test.images}


def test_mnist_and_fashion_mnist_have_different_templates():
    mnist, fashion = class_templates("mnist"), class_templates("fashion_mnist")
    assert mnist.shape == fashion.shape == (10, 28, 28)
    assert np.abs(mnist - fashion).mean() > 0.1
    for templates in (mnist, fashion):
        flat = templates.reshape(10, -1)
        flat = flat / np.linalg.norm(flat, axis=1, keepdims=True)
        cosines = flat @ flat.T - np.eye(10)
        assert cosines.max() < 0.9  # ten classes, no two alike


def test_unknown_names_are_errors():
    with pytest.raises(ValueError, match="unknown data set"):
        class_templates("cifar10")
    with pytest.raises(ValueError, match="unknown split"):
        make_split("mnist", "validation", 10)


def one_epoch_logistic_regression_accuracy(name: str) -> float:
    """Softmax regression, one epoch of mini-batch SGD (batch 64, lr 0.1), accuracy on test."""
    data = synthetic_dataset(name, sizes=Sizes(train=3000, test=500, private=0))
    X = data.train.images.reshape(len(data.train.labels), -1) / 255.0
    Y = np.eye(10)[data.train.labels]
    W, b = np.zeros((784, 10)), np.zeros(10)
    for i in range(0, len(X), 64):
        x, y = X[i:i + 64], Y[i:i + 64]
        z = x @ W + b
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        g = (p - y) / len(x)
        W -= 0.1 * x.T @ g
        b -= 0.1 * g.sum(axis=0)
    X_test = data.test.images.reshape(len(data.test.labels), -1) / 255.0
    return float(((X_test @ W + b).argmax(axis=1) == data.test.labels).mean())


@pytest.mark.parametrize("name", DATASETS)
def test_a_logistic_regression_learns_far_above_chance_in_one_epoch(name):
    assert one_epoch_logistic_regression_accuracy(name) > 0.5  # chance is 0.1


def test_idx_bytes_have_the_magic_numbers_and_big_endian_sizes():
    labels, images = np.arange(3, dtype=np.uint8), np.zeros((2, 28, 28), dtype=np.uint8)
    assert idx_bytes(labels)[:8] == bytes.fromhex("00000801 00000003".replace(" ", ""))
    assert idx_bytes(images)[:16] == bytes.fromhex("00000803 00000002 0000001c 0000001c".replace(" ", ""))
    with pytest.raises(ValueError, match="uint8"):
        idx_bytes(labels.astype(np.int64))


def test_the_cache_has_keras_s_layout_and_round_trips(tmp_path):
    cache = write_keras_cache(tmp_path, sizes=SMALL, seed=5)
    folder = keras_datasets_folder(tmp_path)
    assert cache.datasets == folder == tmp_path / ".keras" / "datasets"
    assert sorted(p.relative_to(folder).as_posix() for p in cache.files) == sorted(
        [MNIST_FILE] + [f"{FASHION_FOLDER}/{name}" for name in FASHION_FILES.values()])

    mnist = synthetic_dataset("mnist", sizes=SMALL, seed=5)
    with np.load(folder / "mnist.npz") as archive:
        assert sorted(archive.files) == ["x_test", "x_train", "y_test", "y_train"]
        np.testing.assert_array_equal(archive["x_train"], mnist.train.images)
        np.testing.assert_array_equal(archive["y_test"], mnist.test.labels)
        assert archive["x_train"].dtype == np.uint8 and archive["y_train"].shape == (600,)

    fashion = synthetic_dataset("fashion_mnist", sizes=SMALL, seed=5)
    fashion_folder = folder / "fashion-mnist"
    np.testing.assert_array_equal(read_idx(fashion_folder / "train-images-idx3-ubyte.gz"), fashion.train.images)
    np.testing.assert_array_equal(read_idx(fashion_folder / "train-labels-idx1-ubyte.gz"), fashion.train.labels)
    np.testing.assert_array_equal(read_idx(fashion_folder / "t10k-images-idx3-ubyte.gz"), fashion.test.images)
    np.testing.assert_array_equal(read_idx(fashion_folder / "t10k-labels-idx1-ubyte.gz"), fashion.test.labels)


def test_keras_s_own_reading_of_the_fashion_files_works(tmp_path):
    # keras skips the header by offset: 8 bytes for labels, 16 for images, then reshapes
    write_keras_cache(tmp_path, sizes=SMALL, datasets=("fashion_mnist",))
    folder = keras_datasets_folder(tmp_path) / "fashion-mnist"
    with gzip.open(folder / "train-labels-idx1-ubyte.gz", "rb") as stream:
        y_train = np.frombuffer(stream.read(), np.uint8, offset=8)
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "rb") as stream:
        x_train = np.frombuffer(stream.read(), np.uint8, offset=16).reshape(len(y_train), 28, 28)
    assert x_train.shape == (600, 28, 28) and y_train.shape == (600,)


def test_the_cache_files_are_the_same_bytes_each_time(tmp_path):
    first = write_keras_cache(tmp_path / "a", sizes=SMALL)
    second = write_keras_cache(tmp_path / "b", sizes=SMALL)
    for a, b in zip(first.files, second.files):
        assert a.read_bytes() == b.read_bytes()


def test_a_keras_home_replaces_dot_keras(tmp_path):
    cache = write_keras_cache(tmp_path, sizes=SMALL, datasets=("mnist",), keras_home=tmp_path / "kh")
    assert cache.files == (tmp_path / "kh" / "datasets" / "mnist.npz",)
