"""The wire format: exact framing, faithful round trips, and hostile input refused."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.worker.inside import protocol
from grader.worker.inside.protocol import Frame, Handle, Limits, pack, unpack

EXACT_INT = 2**53  # float64 holds every integer up to here


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
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def round_trip(value, make_handle=None):
    return unpack(pack({"value": value}, make_handle=make_handle))["value"]


keys = st.text(max_size=8) | st.sampled_from(sorted(protocol.RESERVED))
scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20))
plain = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.lists(inner, max_size=4).map(tuple)
                     | st.dictionaries(keys, inner, max_size=4), max_leaves=30)

dtypes = (hnp.boolean_dtypes() | hnp.integer_dtypes(endianness="=") | hnp.unsigned_integer_dtypes(endianness="=")
          | hnp.floating_dtypes(endianness="=", sizes=(16, 32, 64)))


@st.composite
def arrays(draw):
    dtype = draw(dtypes)
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=8, min_side=0, max_side=3))
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        elements = st.integers(max(info.min, -EXACT_INT), min(info.max, EXACT_INT))
        return draw(hnp.arrays(dtype, shape, elements=elements))
    return draw(hnp.arrays(dtype, shape))


# ---------------------------------------------------------------- the framing


def test_frame_layout_is_the_documented_one():
    data = pack({"op": "ping"})
    header = b'{"op":"ping","__buffers__":0}'
    assert data == b"BPG1" + len(header).to_bytes(4, "big") + header


def test_arrays_travel_as_length_prefixed_little_endian_float64():
    data = pack({"x": np.array([1, 2], dtype=np.int32)})
    header = b'{"x":{"__array__":0,"shape":[2],"dtype":"int32"},"__buffers__":1}'
    assert data == (b"BPG1" + len(header).to_bytes(4, "big") + header
                    + (16).to_bytes(8, "big") + np.array([1.0, 2.0], dtype="<f8").tobytes())


def test_non_finite_floats_are_strict_json():
    header = json.loads(pack({"v": [math.nan, math.inf, -math.inf]})[8:])
    assert header["v"] == [{"__float__": "nan"}, {"__float__": "inf"}, {"__float__": "-inf"}]


# ---------------------------------------------------------------- round trips


@settings(max_examples=150, deadline=None)
@given(plain)
def test_plain_data_round_trips(value):
    assert same(round_trip(value), value)


@settings(max_examples=150, deadline=None)
@given(arrays())
def test_numeric_arrays_round_trip_with_their_dtype(arr):
    back = round_trip(arr)
    assert same(back, arr)
    assert back.flags.writeable and back.dtype.isnative


@settings(max_examples=50, deadline=None)
@given(st.lists(arrays(), max_size=4), plain)
def test_arrays_nested_in_plain_data_round_trip(arrs, extra):
    value = {"arrays": arrs, "pair": (arrs, extra)}
    assert same(round_trip(value), value)


@pytest.mark.parametrize("scalar, dtype", [
    (np.float64(1.5), "float64"), (np.float32(2.5), "float32"), (np.int64(-3), "int64"),
    (np.uint8(200), "uint8"), (np.bool_(True), "bool"),
])
def test_numpy_scalars_become_zero_d_arrays(scalar, dtype):
    back = round_trip(scalar)
    assert isinstance(back, np.ndarray) and back.shape == () and back.dtype == np.dtype(dtype)
    assert back[()] == scalar


@pytest.mark.parametrize("value", [-0.0, 1e-310, 5e-324, 1.7976931348623157e308, 0.1 + 0.2])
def test_floats_survive_bit_for_bit(value):
    assert round_trip(value).hex() == value.hex()


def test_non_contiguous_and_big_endian_arrays_are_sent_by_value():
    base = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(round_trip(base.T), base.T)
    np.testing.assert_array_equal(round_trip(base[:, ::2]), base[:, ::2])
    swapped = base.astype(">f8")
    back = round_trip(swapped)
    np.testing.assert_array_equal(back, base)
    assert back.dtype.isnative


def test_handles_are_references_and_resolve_on_the_worker_side():
    handle = Handle(7, "Value")
    assert round_trip(handle) == handle and isinstance(round_trip(handle), Handle)
    marker = object()
    assert unpack(pack({"h": handle}), resolve_handle={7: marker}.get)["h"] is marker


def test_objects_become_handles_only_where_the_sender_allows():
    made = []

    def make_handle(obj):
        made.append(obj)
        return Handle(len(made), type(obj).__name__)

    value = [object(), np.array([1j])]
    back = round_trip(value, make_handle=make_handle)
    assert [h.type for h in back] == ["object", "ndarray"] and made[0] is value[0]
    for unsendable in (object(), np.array([1 + 2j]), np.array(["a"]), b"bytes", {1, 2}):
        with pytest.raises(ValueError, match="not plain data"):
            pack({"v": unsendable})


def test_a_dict_using_marker_keys_comes_back_as_a_dict():
    value = {"__array__": 0, "shape": [1], "dtype": "float64"}
    assert round_trip(value) == value


# ---------------------------------------------------------------- refused on encoding


def test_dict_keys_must_be_strings():
    with pytest.raises(ValueError, match="dict keys must be str"):
        pack({"v": {1: "one"}})


@pytest.mark.parametrize("field", ["__buffers__", "__array__", 3])
def test_message_fields_must_be_plain_names(field):
    with pytest.raises(ValueError, match="not allowed"):
        pack({field: 1})


def test_nesting_is_capped_and_cycles_are_caught():
    deep = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper"):
        pack({"v": deep})
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="nested deeper"):
        pack({"v": cycle})


def test_encoding_caps():
    small = Limits(max_header_bytes=100, max_buffer_bytes=80, max_ndim=2)
    with pytest.raises(ValueError, match="header"):
        pack({"v": "x" * 200}, limits=small)
    with pytest.raises(ValueError, match="total over"):
        pack({"v": np.zeros(11)}, limits=small)
    pack({"v": np.zeros(10)}, limits=small)  # exactly at the cap is fine
    with pytest.raises(ValueError, match="dimensions"):
        pack({"v": np.zeros((1, 1, 1))}, limits=small)
    with pytest.raises(ValueError, match="dimensions"):
        pack({"v": np.zeros((1,) * 9)})


# ---------------------------------------------------------------- refused on decoding


def frame(header: dict, *buffers: bytes) -> bytes:
    text = json.dumps(header).encode()
    return Frame(text, buffers).to_bytes()


@pytest.mark.parametrize("data, words", [
    (b"", "empty or truncated"),
    (b"XXXX" + bytes(4), "not a message"),
    (b"BPG1" + (10).to_bytes(4, "big") + b"{}", "truncated"),
    (b"BPG1" + (2**31).to_bytes(4, "big"), "over the limit"),
    (frame({"__buffers__": 0}) + b"x", "after the end"),
    (Frame(b"[1]").to_bytes(), "JSON object"),
    (Frame(b"{not json").to_bytes(), "not JSON"),
    (Frame(b'{"v": NaN, "__buffers__": 0}').to_bytes(), "NaN"),
    (Frame(b'{"v": 1}').to_bytes(), "__buffers__"),
    (Frame(b'{"v": "\xff", "__buffers__": 0}').to_bytes(), "UTF-8"),
    (Frame(b"[" * 100_000 + b"]" * 100_000).to_bytes(), "nested"),
    (frame({"__buffers__": 1}), "truncated"),
    (frame({"__buffers__": 1}, b"12345678") + bytes(3), "after the end"),
    (frame({"v": {"__array__": 0, "shape": [2], "dtype": "float64"}, "__buffers__": 1}, bytes(8)), "needs 16"),
    (frame({"v": {"__array__": 1, "shape": [1], "dtype": "float64"}, "__buffers__": 1}, bytes(8)), "buffer 1"),
    (frame({"v": {"__array__": 0, "shape": [-1], "dtype": "float64"}, "__buffers__": 1}, bytes(8)), "shape"),
    (frame({"v": {"__array__": 0, "shape": [1.0], "dtype": "float64"}, "__buffers__": 1}, bytes(8)), "shape"),
    (frame({"v": {"__array__": 0, "shape": [1] * 9, "dtype": "float64"}, "__buffers__": 1}, bytes(8)), "shape"),
    (frame({"v": {"__array__": 0, "shape": [1], "dtype": "complex128"}, "__buffers__": 1}, bytes(8)), "dtype"),
    (frame({"v": {"__array__": 0, "shape": [1], "dtype": "object"}, "__buffers__": 1}, bytes(8)), "dtype"),
    (frame({"v": {"__array__": 0, "shape": [1], "dtype": "float64", "x": 1}, "__buffers__": 1}, bytes(8)), "exactly"),
    (frame({"v": {"__float__": "NaN"}, "__buffers__": 0}), "__float__"),
    (frame({"v": {"__tuple__": {}}, "__buffers__": 0}), "__tuple__"),
    (frame({"v": {"__tuple__": [], "x": 1}, "__buffers__": 0}), "only key"),
    (frame({"v": {"__handle__": "1", "type": "V"}, "__buffers__": 0}), "handle"),
    (frame({"v": {"__buffers__": 0}, "__buffers__": 0}), "only at the top"),
    (frame({"__buffers__": -1}), "non-negative"),
    (frame({"__buffers__": 2**40}), "over the limit"),
])
def test_malformed_messages_raise_value_error(data, words):
    with pytest.raises(ValueError, match=words):
        unpack(data)


def test_lengths_are_checked_before_anything_is_read_or_allocated():
    asked = []
    header = b'{"__buffers__":1}'
    prefix = b"BPG1" + len(header).to_bytes(4, "big") + header + (2**40).to_bytes(8, "big")

    def read_exact(n):
        asked.append(n)
        if sum(asked) > len(prefix):
            raise AssertionError(f"asked for {n} more bytes")
        start = sum(asked[:-1])
        return prefix[start:start + n]

    with pytest.raises(ValueError, match="over the limit"):
        protocol.read_frame(read_exact)
    assert max(asked) < 2**20


def test_decoding_caps_follow_the_limits():
    data = pack({"v": np.zeros(4)})
    with pytest.raises(ValueError, match="over the limit"):
        unpack(data, limits=Limits(max_buffer_bytes=31))
    with pytest.raises(ValueError, match="over the limit"):
        unpack(data, limits=Limits(max_header_bytes=10))
    assert unpack(data, limits=Limits(max_buffer_bytes=32))["v"].shape == (4,)


def test_request_id_is_readable_from_a_frame_that_does_not_decode():
    bad = protocol.read_frame(protocol.BytesReader(frame({"id": 9, "v": {"__handle__": 1, "type": "V"},
                                                          "__buffers__": 0})))
    with pytest.raises(KeyError):
        protocol.decode(bad, resolve_handle={}.__getitem__)
    assert protocol.request_id(bad) == 9
    assert protocol.request_id(Frame(b"nonsense")) is None
