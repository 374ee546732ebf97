import numpy as np
import pytest

from grader.personal_case import format_case, personal_case


@pytest.mark.parametrize("sid", ["s001", "alice", "x" * 200, "Émile", "42"])
def test_case_is_deterministic_and_on_the_grid(sid):
    x, V, w, y = personal_case(sid)
    x2, V2, w2, y2 = personal_case(sid)
    assert np.array_equal(x, x2) and np.array_equal(V, V2) and np.array_equal(w, w2) and y == y2
    assert x.shape == (2,) and V.shape == (2, 2) and w.shape == (2,) and y in (0, 1)
    for arr in (x, V, w):
        assert np.allclose(arr * 10, np.round(arr * 10))  # a 0.1 grid, workable by hand
    assert np.all((x >= 0.1) & (x <= 1.0))
    assert np.all((np.abs(V) >= 0.1) & (np.abs(V) <= 0.9))
    assert np.all((np.abs(w) >= 0.5) & (np.abs(w) <= 1.5))


def test_surrounding_whitespace_does_not_change_the_case():
    assert all(np.array_equal(a, b) for a, b in zip(personal_case(" s001 ")[:3], personal_case("s001")[:3]))


def test_cases_differ_between_students():
    cases = {tuple(np.concatenate([x, V.ravel(), w, [y]])) for x, V, w, y in map(personal_case, [f"s{i:03d}" for i in range(50)])}
    assert len(cases) == 50


def test_empty_id_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="non-empty student id"):
        personal_case("   ")


def test_format_case_shows_every_quantity():
    text = format_case("s001")
    x, V, w, y = personal_case("s001")
    for label in ("x", "v11", "v12", "v21", "v22", "w", "y"):
        assert label in text
    assert f"{V[1, 0]:.1f}" in text and f"y   = {y}" in text
