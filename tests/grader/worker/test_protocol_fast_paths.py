"""The protocol's shortcuts change nothing on the wire: exact-type fast paths in the encoder and the
decoder give what the documented walk gives, depth limits hold on both ends, and a frame's header
is parsed once."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.worker.inside import protocol
from grader.worker.inside.protocol import BUFFERS_KEY, RESERVED, Frame, Limits


class MyFloat(float):
    """A float subclass that is not numpy's."""


def same(a, b) -> bool:
    """Equal in value and in type, NaN equal to NaN and -0.0 told from 0.0."""
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
                and (a.dtype.kind != "f" or np.array_equal(np.signbit(a), np.signbit(b))))
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


# ---------------------------------------------------------------- the documented walk, item by item


def slow_wire(obj, buffers: list) -> object:
    """What the wire format (the module docstring) says `obj` becomes in the JSON header, one item at
    a time; arrays append their little-endian float64 bytes to `buffers`."""
    if obj is None or type(obj) in (bool, int, str):
        return obj
    if isinstance(obj, np.ndarray) or (isinstance(obj, np.generic) and obj.dtype.kind in "biuf"):
        arr = np.asarray(obj)
        buffers.append(arr.astype("<f8").tobytes())
        return {"__array__": len(buffers) - 1, "shape": list(arr.shape), "dtype": arr.dtype.name}
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        number = float(obj)
        if math.isfinite(number):
            return number
        return {"__float__": "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")}
    if isinstance(obj, tuple):
        return {"__tuple__": [slow_wire(item, buffers) for item in obj]}
    if isinstance(obj, list):
        return [slow_wire(item, buffers) for item in obj]
    if isinstance(obj, dict):
        out = {str(key): slow_wire(item, buffers) for key, item in obj.items()}
        return {"__dict__": out} if RESERVED.intersection(out) else out
    raise AssertionError(f"no wire form for {obj!r}")


def slow_round_trip(obj):
    """What decoding gives back: numpy scalars as 0-d arrays, float subclasses as floats."""
    if isinstance(obj, np.ndarray) or (isinstance(obj, np.generic) and obj.dtype.kind in "biuf"):
        return np.array(obj)
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, tuple):
        return tuple(slow_round_trip(item) for item in obj)
    if isinstance(obj, list):
        return [slow_round_trip(item) for item in obj]
    return {str(key): slow_round_trip(item) for key, item in obj.items()}


def depth_of(obj) -> int:
    """The depth of `obj`'s deepest item when `obj` is a message field (depth 1)."""
    if isinstance(obj, dict) and obj:
        return 1 + max(depth_of(item) for item in obj.values())
    if isinstance(obj, (list, tuple)) and obj:
        return 1 + max(depth_of(item) for item in obj)
    return 1


def header_of(frame: Frame) -> dict:
    header = json.loads(frame.header)
    header.pop(BUFFERS_KEY)
    return header


def assert_like_the_slow_path(value) -> None:
    frame = protocol.encode({"value": value})
    buffers: list = []
    assert same(header_of(frame), {"value": slow_wire(value, buffers)})
    assert [bytes(b) for b in frame.buffers] == buffers
    back = protocol.unpack(frame.to_bytes())["value"]
    assert same(back, slow_round_trip(value))


# ---------------------------------------------------------------- strategies

float_likes = (st.floats() | st.floats().map(np.float64) | st.floats().map(MyFloat)
               | st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan, 1e308, -1e308, 5e-324]))
scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=6)
           | st.integers(-5, 5).map(np.int64) | st.booleans().map(np.bool_) | float_likes)
keys = st.text(max_size=5) | st.sampled_from(sorted(RESERVED))
small_arrays = hnp.arrays(st.sampled_from([np.float64, np.float32, np.int32, np.bool_]),
                          hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
values = st.recursive(scalars | small_arrays,
                      lambda inner: st.lists(inner, max_size=5) | st.lists(inner, max_size=4).map(tuple)
                      | st.dictionaries(keys, inner, max_size=4),
                      max_leaves=25)


# ---------------------------------------------------------------- fast paths equal the walk


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(), max_size=30))
def test_lists_of_floats_are_sent_as_the_walk_sends_them(numbers):
    assert_like_the_slow_path(numbers)
    assert_like_the_slow_path(tuple(numbers))
    assert_like_the_slow_path({"x": numbers, "y": [numbers, numbers]})


@pytest.mark.parametrize("numbers", [
    [1e308, 1e308],  # every item finite, their sum is not
    [1e308, 1e308, -1e308],
    [-1e308, -1e308, 1.0],
    [1.7976931348623157e308, 1.7976931348623157e308, math.nan],
    [math.inf, -math.inf],  # inf - inf: the sum is nan
    [math.nan],
    [0.0, -0.0, -0.0],
    [5e-324, -5e-324],
    [],
])
def test_edge_lists_of_floats(numbers):
    assert_like_the_slow_path(numbers)
    back = protocol.unpack(protocol.pack({"v": numbers}))["v"]
    assert len(back) == len(numbers) and all(type(x) is float for x in back)


@pytest.mark.parametrize("value", [
    [1.0, np.float64(2.0), 3.0],  # a numpy float among floats is a 0-d array, not a float
    [np.float64(math.nan), 1.0],
    [MyFloat(1.5), MyFloat(math.inf), 2.0],
    [1.0, True, 2.0, False],  # bools stay bools
    [1.0, 2, 3.0, 10**30],  # ints stay ints
    [np.float32(0.5), np.int64(3), np.bool_(True)],
    {"a": 1.0, "b": np.float64(2.0), "c": MyFloat(-0.0), "d": math.nan, "e": True, "f": 0},
    {"__array__": [1.0, 2.0], "plain": 1.0},  # marker keys: the dict is wrapped, so it decodes as a dict
    {"__float__": "nan"},
    {"__dict__": {"__tuple__": [1.0]}},
    {BUFFERS_KEY: 3, "x": [math.inf]},
    [[1.0, [2.0, [math.nan, [None, "s"]]]], {"k": [-0.0]}],
    ([1.0, 2.0], (3.0,), ()),
    [{"const": 0.5}, "op", 3, None],  # a graph spec's mix
])
def test_mixed_values_are_sent_as_the_walk_sends_them(value):
    assert_like_the_slow_path(value)


@settings(max_examples=300, deadline=None)
@given(values)
def test_any_value_is_sent_as_the_walk_sends_it(value):
    assert_like_the_slow_path(value)


@settings(max_examples=100, deadline=None)
@given(values)
def test_decoding_a_plain_header_equals_decoding_it_item_by_item(value):
    # The decoder keeps a parsed list when no item needs decoding; what it returns is what an
    # item-by-item decode of the same header gives.
    frame = protocol.encode({"value": value})
    decoded = protocol.decode(protocol.read_frame(protocol.BytesReader(frame.to_bytes())))["value"]
    assert same(decoded, slow_round_trip(value))


# ---------------------------------------------------------------- depth limits on both ends


def nested(kind: str, levels: int, leaf):
    """`levels` containers of `kind` around `leaf`: the leaf sits at depth levels + 1."""
    value = leaf
    for _ in range(levels):
        value = {"k": value} if kind == "dict" else ([value] if kind == "list" else (value,))
    return value


def scalars_at(kind: str, depth: int):
    """A list (dict, tuple) of scalars whose scalars sit at exactly `depth`."""
    inner = {"a": 1.0, "b": 2, "c": None, "d": "s", "e": True} if kind == "dict" else [1.0, 2, None, "s", True, 2.5]
    if kind == "tuple":
        inner = tuple(inner)
    return nested(kind, depth - 2, inner)


def float_list_at(depth: int):
    return nested("list", depth - 2, [0.5, 1.5, -0.0])  # the all-floats fast path


def empty_at(kind: str, depth: int):
    return nested(kind, depth - 1, {} if kind == "dict" else ([] if kind == "list" else ()))


BUILDERS = {
    "list of scalars": lambda d: scalars_at("list", d),
    "dict of scalars": lambda d: scalars_at("dict", d),
    "tuple of scalars": lambda d: scalars_at("tuple", d),
    "list of floats": float_list_at,
    "empty list": lambda d: empty_at("list", d),
    "empty dict": lambda d: empty_at("dict", d),
    "nan in a dict": lambda d: nested("dict", d - 1, math.nan),
    "array in a list": lambda d: nested("list", d - 1, np.ones(2)),
}


def decode_with(value, limits: Limits):
    data = protocol.pack({"value": value}, limits=Limits(max_depth=200))
    return protocol.unpack(data, limits=limits)["value"]


@pytest.mark.parametrize("what", sorted(BUILDERS))
@pytest.mark.parametrize("max_depth", [2, 3, 7, 64])
def test_depth_limit_is_exact_on_both_ends(what, max_depth):
    limits = Limits(max_depth=max_depth)
    at_limit, over = BUILDERS[what](max_depth), BUILDERS[what](max_depth + 1)
    assert depth_of(at_limit) == max_depth and depth_of(over) == max_depth + 1
    assert same(decode_with(at_limit, limits), slow_round_trip(at_limit))
    assert same(protocol.unpack(protocol.pack({"value": at_limit}, limits=limits), limits=limits)["value"],
                slow_round_trip(at_limit))
    with pytest.raises(ValueError, match="nested deeper"):
        protocol.encode({"value": over}, limits=limits)
    with pytest.raises(ValueError, match="nested deeper"):
        decode_with(over, limits)


@settings(max_examples=200, deadline=None)
@given(values, st.integers(1, 6))
def test_a_value_is_refused_exactly_when_it_is_too_deep(value, max_depth):
    limits = Limits(max_depth=max_depth)
    fits = depth_of(value) <= max_depth
    for attempt in (lambda: protocol.encode({"value": value}, limits=limits), lambda: decode_with(value, limits)):
        if fits:
            attempt()
        else:
            with pytest.raises(ValueError, match="nested deeper"):
                attempt()


def test_a_value_that_contains_itself_is_refused():
    loop: list = [1.0]
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        protocol.encode({"value": loop})
    cycle: dict = {"a": 1.0}
    cycle["self"] = cycle
    with pytest.raises(ValueError, match="contains itself"):
        protocol.encode({"value": cycle})


# ---------------------------------------------------------------- Frame.parsed


def test_read_frame_parses_the_header_once(monkeypatch):
    data = protocol.pack({"id": 7, "x": [1.0, {"y": np.arange(3.0)}]})
    calls = []
    original = protocol._parse_header

    def counting(header):
        calls.append(header)
        return original(header)

    monkeypatch.setattr(protocol, "_parse_header", counting)
    frame = protocol.read_frame(protocol.BytesReader(data))
    assert len(calls) == 1
    assert frame.parsed == json.loads(frame.header)
    assert protocol.request_id(frame) == 7
    message = protocol.decode(frame)
    assert len(calls) == 1  # neither request_id nor decode parsed it again
    assert message["id"] == 7 and same(message["x"], [1.0, {"y": np.arange(3.0)}])


def test_a_frame_without_its_parse_is_parsed_when_decoded():
    data = protocol.pack({"id": 3, "x": (1.0, np.ones(2))})
    read = protocol.read_frame(protocol.BytesReader(data))
    bare = Frame(read.header, read.buffers)
    assert bare.parsed is None
    assert bare == read  # the parse takes no part in a frame's equality
    assert protocol.request_id(bare) == 3
    assert same(protocol.decode(bare), protocol.decode(read))


def test_decoding_leaves_the_frames_parse_as_it_was():
    frame = protocol.read_frame(protocol.BytesReader(protocol.pack({"id": 1, "v": [math.inf, 2.0]})))
    before = json.loads(frame.header)
    first = protocol.decode(frame)
    assert frame.parsed == before  # the buffer count is still there
    second = protocol.decode(frame)
    assert same(first, second) and same(first, {"id": 1, "v": [math.inf, 2.0]})
