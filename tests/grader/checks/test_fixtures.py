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
