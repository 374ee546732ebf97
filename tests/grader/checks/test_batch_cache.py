"""Reference answers memoized by content: equal specs share an entry, any change in content gets its
own, and what is handed out cannot change the memo for the next student."""
from __future__ import annotations

import copy
import math
import traceback
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.checks import batch_cache
from grader.checks.batch_cache import batch_memo, content_key, frozen, handed_out, reference_memo


def same_content(a, b) -> bool:
    """The content the key is meant to tell apart: types (bool, int, float, str, list, dict, array),
    values (NaN equal to NaN, -0.0 told from 0.0), dict key order, array dtype, shape and values."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and a.tobytes() == b.tobytes())
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list):
        return len(a) == len(b) and all(same_content(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_content(a[k], b[k]) for k in a)
    return a == b


# Small domains on purpose, so that two drawn values are often equal, or differ in one place only.
small_scalars = (st.none() | st.booleans() | st.sampled_from([0, 1, 2]) | st.sampled_from([0.0, -0.0, 1.0, 2.5])
                 | st.sampled_from(["", "a", "1"]))
small_arrays = hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64]),
                          hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=2),
                          elements=st.sampled_from([0, 1]))
small_values = st.recursive(small_scalars | small_arrays,
                            lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from("ab"), inner,
                                                                                         max_size=2),
                            max_leaves=6)

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
arrays = hnp.arrays(st.sampled_from([np.float64, np.float32, np.int32, np.int64, np.bool_]),
                    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
values = st.recursive(scalars | arrays, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=20)


def rebuilt(obj):
    """The same content in new objects; arrays as non-contiguous views where they can be."""
    if isinstance(obj, np.ndarray):
        if obj.ndim == 0:
            return obj.copy()
        wide = np.zeros(obj.shape[:-1] + (2 * obj.shape[-1],), dtype=obj.dtype)
        wide[..., ::2] = obj
        return wide[..., ::2]  # a strided view, not the array's own memory layout
    if isinstance(obj, list):
        return [rebuilt(item) for item in obj]
    if isinstance(obj, dict):
        return {key: rebuilt(item) for key, item in obj.items()}
    return copy.copy(obj)


# ---------------------------------------------------------------- content_key


@settings(max_examples=150, deadline=None)
@given(values)
def test_equal_content_in_new_objects_has_the_same_key(value):
    again = rebuilt(value)
    assert same_content(value, again)
    assert content_key(again) == content_key(value)


@settings(max_examples=300, deadline=None)
@given(small_values, small_values)
def test_the_key_changes_exactly_when_the_content_does(a, b):
    assert (content_key(a) == content_key(b)) == same_content(a, b)


@pytest.mark.parametrize("a, b", [
    (np.zeros((2, 3)), np.zeros((3, 2))),  # shape
    (np.zeros(4), np.zeros((2, 2))),
    (np.zeros(()), np.zeros(1)),  # a 0-d array is not its 1-element copy (ascontiguousarray makes it 1-d)
    (np.zeros(3), np.zeros(3, dtype=np.float32)),  # dtype
    (np.zeros(3, dtype=np.int64), np.zeros(3)),
    (np.array([1.0, 2.0]), np.array([1.0, 2.5])),  # one value
    (np.array([0.0]), np.array([-0.0])),
    (np.array(1.0), 1.0),  # a 0-d array is not a float
    ([1, 2], [[1, 2]]),  # nesting
    ({"a": [1]}, {"a": 1}),
    ({"a": 1}, {"b": 1}),
    (1, 1.0), (1, True), (0, False), (None, 0), ("1", 1),
])
def test_known_differences_give_different_keys(a, b):
    assert content_key(a) != content_key(b)


def test_a_spec_built_twice_has_the_same_key():
    def spec():
        rng = np.random.default_rng(7)
        return {"nodes": [["leaf", rng.normal(size=(2, 3)), True], ["op", "sum", 0]], "backward": [[1, None]]}

    first, second = spec(), spec()
    assert first["nodes"][0][1] is not second["nodes"][0][1]
    assert content_key(first) == content_key(second)
    second["nodes"][0][1][1, 2] += 1e-12
    assert content_key(first) != content_key(second)


def test_objects_that_are_not_content_have_no_key():
    with pytest.raises(TypeError, match="no content key"):
        content_key({"x": object()})


# ---------------------------------------------------------------- frozen and handed_out


def test_frozen_makes_every_nested_array_read_only_in_place():
    answer = {"data": [np.ones(2), (np.zeros(1),)], "grad": np.arange(3.0), "n": 1}
    assert frozen(answer) is answer
    for arr in (answer["data"][0], answer["data"][1][0], answer["grad"]):
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0] = 5.0


def test_handed_out_gives_new_containers_around_the_same_arrays():
    arr = frozen(np.ones(2))
    kept = {"a": [arr, 1.5, ("x", [2])]}
    out = handed_out(kept)
    assert same_content(out["a"][:2], kept["a"][:2]) and out["a"][2] == kept["a"][2]
    assert out is not kept and out["a"] is not kept["a"] and out["a"][2][1] is not kept["a"][2][1]
    assert out["a"][0] is arr  # read-only arrays are shared, not copied
    out["a"].append("more")
    out["a"][2][1].append(3)
    assert kept == {"a": [arr, 1.5, ("x", [2])]}


# ---------------------------------------------------------------- reference_memo


class Counting:
    """A reference computation that counts its calls and builds a fresh answer each time."""

    def __init__(self, fail_on=None, error=ArithmeticError):
        self.calls = []
        self.fail_on = fail_on
        self.error = error

    def __call__(self, spec):
        self.calls.append(spec)
        if self.fail_on is not None and spec.get("n") == self.fail_on:
            raise self.error(f"no answer for {spec['n']}")
        n = spec["n"]
        return {"data": [float(n), np.full(2, float(n))], "grad": {"x": np.arange(3.0) * n}}


def expected_answer(n):
    return {"data": [float(n), np.full(2, float(n))], "grad": {"x": np.arange(3.0) * n}}


def test_memo_computes_once_per_distinct_content():
    fn = Counting()
    memo = reference_memo(fn)
    for n in [1, 2, 1, 1, 2, 3]:
        assert same_content(memo({"n": n, "x": np.ones(2) * n}), expected_answer(n))
    assert [spec["n"] for spec in fn.calls] == [1, 2, 3]
    assert memo.cache_size() == 3
    memo({"n": 1, "x": np.ones(2, dtype=np.float32)})  # same numbers, another dtype: another entry
    assert len(fn.calls) == 4
    memo.cache_clear()
    memo({"n": 1, "x": np.ones(2)})
    assert len(fn.calls) == 5
    assert memo.__wrapped__ is fn


def test_answers_handed_out_cannot_change_the_next_answer():
    memo = reference_memo(Counting())
    first = memo({"n": 2})
    first["data"].append("junk")
    first["grad"]["y"] = 1
    first["data"][0] = -1.0
    with pytest.raises(ValueError):
        first["grad"]["x"][0] = 99.0  # arrays are read-only rather than copied
    second = memo({"n": 2})
    assert same_content(second, expected_answer(2))
    assert second is not first and second["data"] is not first["data"]
    assert not second["data"][1].flags.writeable and not second["grad"]["x"].flags.writeable


def test_changing_the_argument_after_the_call_does_not_reach_the_memo():
    fn = Counting()
    memo = reference_memo(fn)
    spec = {"n": 4, "x": np.zeros(2)}
    memo(spec)
    spec["x"][0] = 1.0  # the key was the content at the time; this is new content
    memo(spec)
    memo({"n": 4, "x": np.zeros(2)})
    assert len(fn.calls) == 2


@pytest.mark.parametrize("error", [ValueError, ArithmeticError, ZeroDivisionError, np.linalg.LinAlgError])
def test_an_input_outside_the_domain_is_remembered_and_raised_again(error):
    fn = Counting(fail_on=5, error=error)
    memo = reference_memo(fn)
    depths = []
    for _ in range(3):
        with pytest.raises(error) as caught:
            memo({"n": 5})
        assert type(caught.value) is error and str(caught.value) == "no answer for 5"
        depths.append(len(traceback.extract_tb(caught.value.__traceback__)))
    assert len(fn.calls) == 1 and memo.cache_size() == 1  # every student meets the same rejected draw
    assert depths[1] == depths[2]  # raised again without the old traceback: it does not grow
    assert same_content(memo({"n": 6}), expected_answer(6))


@pytest.mark.parametrize("error", [RuntimeError, TypeError, KeyError, AssertionError])
def test_other_exceptions_are_not_cached(error):
    fn = Counting(fail_on=5, error=error)
    memo = reference_memo(fn)
    for _ in range(2):
        with pytest.raises(error, match="no answer for 5"):
            memo({"n": 5})
    assert len(fn.calls) == 2 and memo.cache_size() == 0
    fn.fail_on = None
    assert same_content(memo({"n": 5}), expected_answer(5))
    assert len(fn.calls) == 3


def test_the_entry_cap_evicts_the_least_recently_used(monkeypatch):
    monkeypatch.setattr(batch_cache, "MAX_ENTRIES", 3)
    fn = Counting()
    memo = reference_memo(fn)
    for n in [1, 2, 3]:
        memo({"n": n})
    memo({"n": 1})  # a hit: 1 is now the most recent, 2 the oldest
    memo({"n": 4})  # over the cap: 2 goes
    assert memo.cache_size() == 3
    assert [spec["n"] for spec in fn.calls] == [1, 2, 3, 4]
    for n in [1, 3, 4]:
        memo({"n": n})
    assert len(fn.calls) == 4  # all still there
    memo({"n": 2})
    assert [spec["n"] for spec in fn.calls] == [1, 2, 3, 4, 2]
    assert memo.cache_size() == 3


def test_the_default_cap_keeps_memory_flat():
    fn = Counting()
    memo = reference_memo(fn)
    for n in range(batch_cache.MAX_ENTRIES + 10):
        memo({"n": n})
    assert memo.cache_size() == batch_cache.MAX_ENTRIES
    memo({"n": 0})  # among the first, so evicted
    assert len(fn.calls) == batch_cache.MAX_ENTRIES + 11


def test_remembered_errors_count_towards_the_cap(monkeypatch):
    monkeypatch.setattr(batch_cache, "MAX_ENTRIES", 2)
    fn = Counting(fail_on=1, error=ValueError)
    memo = reference_memo(fn)
    for n in [1, 2, 3]:
        try:
            memo({"n": n})
        except ValueError:
            pass
    assert memo.cache_size() == 2
    with pytest.raises(ValueError):
        memo({"n": 1})  # evicted, so computed (and raised) again
    assert [spec["n"] for spec in fn.calls] == [1, 2, 3, 1]


# ---------------------------------------------------------------- batch_memo


@pytest.fixture
def fresh_draws(monkeypatch):
    """An empty process-wide memo for the test, the real one left as it was."""
    monkeypatch.setattr(batch_cache, "_DRAWS", OrderedDict())


def test_batch_memo_builds_once_per_key_and_hands_out_fresh_containers(fresh_draws):
    builds = []

    def build():
        builds.append(1)
        return [({"spec": [1, 2]}, np.arange(3.0)), {"n": 1}]

    first = batch_memo(("ex", "test", 0), build)
    first[0][0]["spec"].append(99)
    first[1]["n"] = -1
    first.append("junk")
    with pytest.raises(ValueError):
        first[0][1][0] = 5.0
    second = batch_memo(("ex", "test", 0), build)
    assert len(builds) == 1
    assert same_content(second[1], {"n": 1}) and second[0][0] == {"spec": [1, 2]} and len(second) == 2
    np.testing.assert_array_equal(second[0][1], np.arange(3.0))
    batch_memo(("ex", "test", 1), build)  # another seed: another build
    assert len(builds) == 2


def test_batch_memo_does_not_keep_a_failed_build(fresh_draws):
    def build():
        raise ValueError("no draw")

    for _ in range(2):
        with pytest.raises(ValueError, match="no draw"):
            batch_memo("key", build)
    assert batch_memo("key", lambda: 7) == 7


def test_batch_memo_evicts_the_least_recently_used(fresh_draws, monkeypatch):
    monkeypatch.setattr(batch_cache, "MAX_ENTRIES", 2)
    builds = []

    def builder(key):
        def build():
            builds.append(key)
            return key
        return build

    for key in ["a", "b", "a", "c", "a", "b"]:
        assert batch_memo(key, builder(key)) == key
    assert builds == ["a", "b", "c", "b"]  # "b" was the oldest when "c" came


def test_a_cached_case_is_handed_out_with_a_fresh_spec():
    from grader.checks.ex4_autograd_scalar import GraphCase

    built = []

    def build() -> list:
        built.append(1)
        return [GraphCase("a case", {"nodes": [["leaf", 1.0]], "backward": [0], "x": np.zeros(2)}, ("x",))]

    key = ("a check", "a case", 0)
    first = batch_memo(key, build)
    first[0].spec["nodes"].append(["op", "neg", 0])  # a check changing its case's spec in place
    with pytest.raises(ValueError):
        first[0].spec["x"][0] = 1.0  # arrays inside a case are read-only
    second = batch_memo(key, build)
    assert len(built) == 1 and second[0].spec["nodes"] == [["leaf", 1.0]]
    assert type(second[0]) is GraphCase and second[0].names == ("x",)
