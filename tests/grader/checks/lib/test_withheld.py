"""`grader.checks.lib.withheld`: digests, the answers' encoding, recording, and a release's lookup."""
from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from grader.checks.lib import withheld
from grader.checks.lib.withheld import (
    AnswerWithheld, decoded, digest_of, encoded, prefetch, recorded, recorded_arguments, recording,
)

arrays = hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64]),
                    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))


@settings(max_examples=100, deadline=None)
@given(arrays)
def test_encoded_answers_come_back_exactly(array):
    back = decoded(encoded([array, {"code": "x", "grads": (array,)}]))
    for got in (back[0], back[1]["grads"][0]):
        assert got.dtype == array.dtype and got.shape == array.shape
        assert np.array_equal(got, array, equal_nan=True)


@pytest.mark.parametrize("a, b", [
    (np.zeros(()), np.zeros(1)),
    (np.zeros((2, 3)), np.zeros((3, 2))),
    (np.zeros(3), np.zeros(3, dtype=np.float32)),
    (np.array([0.0]), np.array([-0.0])),
    (1, 1.0), ("1", 1), ([1, 2], [[1, 2]]),
])
def test_different_arguments_have_different_digests(a, b):
    assert digest_of(a) != digest_of(b)


def test_equal_arguments_in_new_objects_have_one_digest():
    a = np.arange(6.0).reshape(2, 3)
    assert digest_of(a, "tanh") == digest_of(a.copy(), "tanh") == digest_of(np.asfortranarray(a), "tanh")


def _double(x):
    return 2 * x


def test_recording_keeps_each_answer_and_its_arguments():
    answer = recorded("t", "double")(_double)
    assert answer(np.ones(2)).tolist() == [2.0, 2.0]  # outside a recording: just the function
    with recording() as table:
        answer(np.ones(3))
        prefetch(answer, np.zeros(1))
    assert set(table["t"]["double"]) == {digest_of(np.ones(3)), digest_of(np.zeros(1))}
    assert [a[0].tolist() for a in recorded_arguments("t", "double")] == [[1.0, 1.0, 1.0], [0.0]]


def test_a_release_answers_only_its_recorded_cases(monkeypatch):
    answer = recorded("t", "double")(_double)
    with recording() as table:
        answer(np.ones(3))
    calls = []
    monkeypatch.setattr(withheld, "shipped_table", lambda name: {"numpy": "x", **table[name]})
    body = recorded("t", "double")(lambda x: calls.append(x))
    assert body(np.ones(3)).tolist() == [2.0, 2.0, 2.0] and calls == []  # from the table, not the body
    with pytest.raises(AnswerWithheld, match="not one of the release's public cases"):
        body(np.ones(4))
