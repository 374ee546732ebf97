"""reference.datasets: generated data sets, one-hot targets and the train/test split."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.datasets import KINDS, make_dataset, one_hot, train_test_split

KIND_CLASSES = [("spirals", 3), ("spirals", 5), ("blobs", 4), ("blobs", 2), ("moons", 2)]


@pytest.mark.parametrize("kind,classes", KIND_CLASSES)
@pytest.mark.parametrize("n", [301, 600])
def test_shapes_types_and_balanced_classes(kind, classes, n):
    X, labels = make_dataset(kind, n=n, classes=classes, seed=1)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert labels.shape == (n,) and labels.dtype == np.int64
    counts = np.bincount(labels, minlength=classes)
    assert counts.sum() == n and len(counts) == classes
    assert counts.max() - counts.min() <= 1
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("kind,classes", KIND_CLASSES)
def test_same_seed_same_data_other_seed_other_data(kind, classes):
    X, labels = make_dataset(kind, n=90, classes=classes, seed=4)
    X_again, labels_again = make_dataset(kind, n=90, classes=classes, seed=4)
    X_other, _ = make_dataset(kind, n=90, classes=classes, seed=5)
    np.testing.assert_array_equal(X, X_again)
    np.testing.assert_array_equal(labels, labels_again)
    assert not np.allclose(X, X_other)


def test_rows_are_shuffled_so_classes_mix():
    _, labels = make_dataset("spirals", n=300, classes=3, seed=0)
    assert len(set(labels[:30].tolist())) == 3  # sorted labels would start with 30 zeros


def test_noise_free_spirals_have_radius_from_zero_to_one():
    X, labels = make_dataset("spirals", n=300, classes=3, noise=0.0, seed=0)
    for k in range(3):
        radii = np.sort(np.linalg.norm(X[labels == k], axis=1))
        np.testing.assert_allclose(radii, np.linspace(0.0, 1.0, 100), atol=1e-12)


def test_blobs_sit_around_centres_on_the_unit_circle():
    X, labels = make_dataset("blobs", n=4000, classes=4, noise=0.1, seed=0)
    for k in range(4):
        centre = X[labels == k].mean(axis=0)
        assert np.linalg.norm(centre) == pytest.approx(1.0, abs=0.02)
        assert X[labels == k].std(axis=0) == pytest.approx([0.1, 0.1], rel=0.1)


@pytest.mark.parametrize("kwargs,match", [
    ({"kind": "circles"}, "unknown dataset kind"),
    ({"kind": "moons", "classes": 3}, "exactly 2"),
    ({"classes": 1}, "at least 2"),
    ({"n": 2, "classes": 3}, "at least classes"),
    ({"noise": -0.1}, "noise"),
])
def test_make_dataset_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_dataset(**kwargs)


def test_kinds_lists_every_kind():
    assert set(KINDS) == {"spirals", "blobs", "moons"}


# ---------------------------------------------------------------- one_hot

@pytest.mark.parametrize("labels,classes,expected", [
    ([0, 2, 1], 3, [[1, 0, 0], [0, 0, 1], [0, 1, 0]]),
    ([1, 1], 2, [[0, 1], [0, 1]]),
    ([3], 4, [[0, 0, 0, 1]]),
])
def test_one_hot_table(labels, classes, expected):
    encoded = one_hot(np.array(labels), classes)
    assert encoded.dtype == np.float64
    np.testing.assert_array_equal(encoded, expected)


@settings(max_examples=50, deadline=None)
@given(data=st.data(), classes=st.integers(1, 8))
def test_one_hot_rows_sum_to_one_and_argmax_returns_the_label(data, classes):
    labels = np.array(data.draw(st.lists(st.integers(0, classes - 1), min_size=1, max_size=20)))
    encoded = one_hot(labels, classes)
    assert encoded.shape == (labels.shape[0], classes)
    np.testing.assert_array_equal(encoded.sum(axis=1), 1.0)
    np.testing.assert_array_equal(encoded.argmax(axis=1), labels)


def test_one_hot_accepts_whole_floats():
    np.testing.assert_array_equal(one_hot(np.array([1.0, 0.0]), 2), [[0, 1], [1, 0]])


@pytest.mark.parametrize("labels,classes,match", [
    ([0, 3], 3, "0..2"),
    ([-1, 0], 3, "0..2"),
    ([[0, 1]], 3, "1-D"),
    ([0.5, 1.0], 3, "whole"),
])
def test_one_hot_rejects_bad_labels(labels, classes, match):
    with pytest.raises(ValueError, match=match):
        one_hot(np.array(labels), classes)


# ---------------------------------------------------------------- train_test_split

@pytest.mark.parametrize("n,fraction,n_test", [(100, 0.25, 25), (10, 0.5, 5), (7, 0.3, 2)])
def test_split_sizes_and_every_row_once(n, fraction, n_test):
    X = np.arange(2 * n, dtype=np.float64).reshape(n, 2)
    labels = np.arange(n)
    X_train, X_test, labels_train, labels_test = train_test_split(X, labels, fraction, seed=3)
    assert X_test.shape == (n_test, 2) and X_train.shape == (n - n_test, 2)
    np.testing.assert_array_equal(np.sort(np.concatenate([labels_train, labels_test])), labels)
    # rows stay paired with their labels
    np.testing.assert_array_equal(X_train[:, 0], 2 * labels_train)
    np.testing.assert_array_equal(X_test[:, 0], 2 * labels_test)


def test_split_depends_only_on_the_seed():
    X, labels = make_dataset("moons", n=50, classes=2, seed=0)
    first, again, other = (train_test_split(X, labels, 0.2, seed=s) for s in (1, 1, 2))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])


@pytest.mark.parametrize("fraction,rows,match", [
    (0.0, 10, "strictly between"),
    (1.0, 10, "strictly between"),
    (0.01, 10, "empty"),
    (0.99, 10, "empty"),
])
def test_split_rejects_empty_parts(fraction, rows, match):
    with pytest.raises(ValueError, match=match):
        train_test_split(np.zeros((rows, 2)), np.zeros(rows), fraction)


def test_split_rejects_mismatched_rows():
    with pytest.raises(ValueError, match="rows"):
        train_test_split(np.zeros((10, 2)), np.zeros(9), 0.5)
