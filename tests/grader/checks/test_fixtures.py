"""Public-check data: built once per process from the reference, or read once from the release."""
from __future__ import annotations

import numpy as np
import pytest

from grader.checks import fixtures


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(fixtures, "_CACHE", {})
    monkeypatch.setattr(fixtures, "BUILDERS", {})
    fixtures._shipped.cache_clear()
    yield
    fixtures._shipped.cache_clear()


def test_a_fixture_is_built_once_and_comes_back_as_json_would_give_it(fresh):
    calls = []

    @fixtures.fixture_builder("ex_nothing_shipped", "data")
    def build() -> dict:
        calls.append(1)
        return {"x": np.arange(3, dtype=np.int64), "n": np.float64(2.5)}

    first = fixtures.load_fixture("ex_nothing_shipped", "data")
    assert fixtures.load_fixture("ex_nothing_shipped", "data") is first and calls == [1]
    assert first["x"].dtype == np.float64 and first["x"].tolist() == [0.0, 1.0, 2.0] and first["n"] == 2.5


def test_the_release_file_is_read_once_per_exercise(fresh, monkeypatch):
    reads = []

    class Shipped:
        def joinpath(self, *parts):
            return self

        def read_text(self, encoding):
            reads.append(encoding)
            return '{"a": {"v": 1}, "b": {"v": 2}}'

    monkeypatch.setattr(fixtures.resources, "files", lambda package: Shipped())
    assert fixtures.load_fixture("ex_shipped", "a") == {"v": 1}
    assert fixtures.load_fixture("ex_shipped", "b") == {"v": 2}
    assert reads == ["utf-8"]
    with pytest.raises(LookupError, match="reinstall the student release"):
        fixtures.load_fixture("ex_shipped", "c")


def test_a_drawing_builder_gives_fresh_inputs_per_seed_and_the_published_ones_without(fresh, monkeypatch):
    monkeypatch.setattr(fixtures, "DRAWING", {})
    monkeypatch.setattr(fixtures, "_DRAWN", {})

    @fixtures.fixture_builder("ex_drawn", "data", draws=True)
    def build(rng=None) -> dict:
        rng = np.random.default_rng(5) if rng is None else rng
        return {"x": rng.normal(size=3)}

    @fixtures.fixture_builder("ex_drawn", "lecture")
    def build_fixed() -> dict:
        return {"x": np.array([0.5, 1.0])}

    published = fixtures.load_fixture("ex_drawn", "data")["x"]
    first, again = fixtures.drawn_fixture("ex_drawn", "data", 1), fixtures.drawn_fixture("ex_drawn", "data", 1)
    other = fixtures.drawn_fixture("ex_drawn", "data", 2)
    assert again is first and not np.array_equal(first["x"], other["x"])
    assert not np.array_equal(first["x"], published)
    assert fixtures.drawn_fixture("ex_drawn", "lecture", 1) is fixtures.load_fixture("ex_drawn", "lecture")


def test_exercise_one_draws_inputs_with_the_published_properties():
    from grader.checks import ex1_activations_losses as ex1

    for seed in range(20):
        rng = np.random.default_rng(seed)
        acts, losses, deltas = ex1.build_activations(rng), ex1.build_losses(rng), ex1.build_deltas(rng)
        assert 0.0 in acts["inputs"]["vec"] and np.min(np.abs(acts["inputs"]["mat"])) >= 0.1
        assert np.max(np.abs(acts["large"]["mat"])) >= 900.0
        regression = losses["cases"]["regression"]
        assert np.min(np.abs(regression["y_hat"] - regression["y"])) >= 0.1  # off mae's kink
        tie = losses["cases"]["tie"]
        assert np.any(tie["y_hat"] == tie["y"]) and np.any(tie["y_hat"] != tie["y"])
        for edge in ("binary_edge", "classes_edge"):
            y_hat = losses["cases"][edge]["y_hat"]
            assert np.any(y_hat == 0.0) and np.any(y_hat == 1.0)
        assert np.max(np.abs(deltas["cases"]["class_large"]["z"])) >= 900.0
