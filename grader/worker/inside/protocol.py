"""The wire format between the grader and the worker: plain data, never pickle.

A message is one frame:

    b"BPG1" | header length (4 bytes, big-endian) | UTF-8 JSON header
            | for each raw buffer: length (8 bytes, big-endian) | the bytes

The header is the message dict itself, its values encoded as below, plus `"__buffers__": n`,
the number of raw buffers that follow (so a reader knows how much to read before decoding).

Values are plain data: None, bool, int, float, str, list, dict with str keys, and

    {"__tuple__": [...]}                                   a tuple
    {"__float__": "nan" | "inf" | "-inf"}                  a float JSON cannot spell
    {"__array__": k, "shape": [...], "dtype": "int64"}     a bool/int/float numpy array; buffer k
                                                           holds its values as little-endian float64
    {"__handle__": n, "type": "Value"}                     an object that stays in the worker
    {"__dict__": {...}}                                    a dict that itself uses one of these keys

numpy scalars travel as 0-d arrays. Every length is checked against `Limits` on both ends, so a
hostile peer cannot make the other side allocate without bound.

This module is copied into the sandbox: it may import only the standard library and numpy.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import numpy as np

MAGIC = b"BPG1"
BUFFERS_KEY = "__buffers__"
MARKERS = ("__array__", "__tuple__", "__float__", "__handle__", "__dict__")
RESERVED = frozenset(MARKERS + (BUFFERS_KEY,))

# dtypes that travel as float64 buffers; anything else (complex, object, str...) is not an array here
ARRAY_KINDS = "biuf"
ARRAY_DTYPES = frozenset(np.dtype(t).name for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.longdouble))
_SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}

BytesLike = Union[bytes, bytearray, memoryview]


@dataclass(frozen=True)
class Limits:
    """Caps checked when encoding and decoding. Violations raise ValueError."""

    max_header_bytes: int = 16 * 2**20
    max_buffer_bytes: int = 512 * 2**20  # all buffers of one message together
    max_buffers: int = 2**20
    max_ndim: int = 8
    max_depth: int = 64  # nesting of lists/dicts/tuples
    max_containers: int = 2**21  # JSON lists and objects in one header: what parsing it allocates


DEFAULT_LIMITS = Limits()
MAX_TYPE_CHARS = 100  # a handle's type name

# An int literal of 300 or more digits (not part of a float), so a header that has none is parsed
# as it is: only such headers pay for reading ints one at a time.
_LONG_INT = re.compile(rb"(?<![\d.])\d{300,}(?![\d.eE])")
_FLOAT_DIGITS = 310  # no int with more digits has a float


class FrameTooLargeError(ValueError):
    """A frame claims more than the limits allow: refused before its body is read."""


class Handle(dict):
    """A reference to an object that stays in the worker, e.g. a student's `Value` node.

    It is a dict (`{"__handle__": id, "type": "Value"}`) so it prints and compares as plain data,
    and a distinct type so the encoder sends it back as a reference, not as a dict.
    """

    def __init__(self, id: int, type: str):
        super().__init__({"__handle__": int(id), "type": str(type)})

    @property
    def id(self) -> int:
        return self["__handle__"]

    @property
    def type(self) -> str:
        return self["type"]


@dataclass(frozen=True)
class Frame:
    """One message on the wire: the serialized JSON header and the raw buffers after it."""

    header: bytes
    buffers: tuple[BytesLike, ...] = ()
    # the header as read_frame parsed it (to count the buffers), so decoding does not parse it again
    parsed: Optional[dict] = field(default=None, compare=False, repr=False)

    def parts(self) -> list[BytesLike]:
        """The frame as byte strings to write in order (buffers are not copied)."""
        out: list[BytesLike] = [MAGIC, len(self.header).to_bytes(4, "big"), self.header]
        for buffer in self.buffers:
            out.append(len(buffer).to_bytes(8, "big"))
            out.append(buffer)
        return out

    def to_bytes(self) -> bytes:
        return b"".join(self.parts())


# ---------------------------------------------------------------- encoding


def encode(message: dict, *, make_handle: Optional[Callable[[Any], Handle]] = None,
           limits: Limits = DEFAULT_LIMITS) -> Frame:
    """Turn a message dict into a frame.

    `make_handle(obj)` is called for any value that is not plain data (the worker registers it
    and sends a handle); without it such a value raises ValueError naming its type.
    """
    if not isinstance(message, dict):
        raise TypeError(f"a message must be a dict, got {type(message).__name__}")
    encoder = _Encoder(make_handle, limits)
    if message:
        encoder.check_depth(1)  # the fields sit at depth 1, as the decoder counts
    header: dict[str, Any] = {}
    for key, value in message.items():
        if not isinstance(key, str) or key in RESERVED:
            raise ValueError(f"message field {key!r} is not allowed: use a str that is not a marker")
        header[key] = encoder.value(value, 1)
    header[BUFFERS_KEY] = len(encoder.buffers)
    text = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("ascii")
    if len(text) > limits.max_header_bytes:
        raise ValueError(f"message header is {len(text)} bytes, over the limit of "
                         f"{limits.max_header_bytes}: send large numbers as numpy arrays")
    return Frame(text, tuple(encoder.buffers))


def pack(message: dict, *, make_handle: Optional[Callable[[Any], Handle]] = None,
         limits: Limits = DEFAULT_LIMITS) -> bytes:
    """`encode` and serialize in one step."""
    return encode(message, make_handle=make_handle, limits=limits).to_bytes()


class _Encoder:
    def __init__(self, make_handle: Optional[Callable[[Any], Handle]], limits: Limits):
        self.make_handle = make_handle
        self.limits = limits
        self.buffers: list[BytesLike] = []
        self.buffer_bytes = 0

    def value(self, obj: Any, depth: int) -> Any:
        # Exact-type fast paths first: a deep graph's spec is tens of thousands of plain numbers.
        kind = type(obj)
        if kind is float:
            return obj if obj - obj == 0.0 else self.special_float(obj)  # inf - inf and nan are nan
        if kind is int or kind is str or obj is None or kind is bool:
            return obj
        if kind is list:
            return self.sequence(obj, depth)
        self.check_depth(depth)
        # numpy first: np.float64 is also a Python float, np.str_ also a str
        if isinstance(obj, np.ndarray):
            return self.array(obj) if obj.dtype.kind in ARRAY_KINDS else self.other(obj)
        if isinstance(obj, np.generic):
            if obj.dtype.kind in ARRAY_KINDS:
                return self.array(np.asarray(obj))
            if isinstance(obj, np.str_):
                return str(obj)
            return self.other(obj)
        if isinstance(obj, Handle):
            return {"__handle__": obj.id, "type": obj.type}
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return self.value(float(obj), depth)
        if isinstance(obj, str):
            return str(obj)
        if isinstance(obj, tuple):
            return {"__tuple__": self.sequence(obj, depth)}
        if isinstance(obj, list):
            return self.sequence(obj, depth)
        if isinstance(obj, dict):
            return self.mapping(obj, depth)
        return self.other(obj)

    def sequence(self, items: Union[list, tuple], depth: int) -> list:
        self.check_depth(depth + 1 if items else depth)
        if all(type(item) is float for item in items) and math.isfinite(sum(items)):
            return list(items)  # finite floats as they are; an overflowing sum takes the long way
        out = []
        for item in items:  # plain scalars inline: a graph spec is mostly [str, int, {"const": x}]
            kind = type(item)
            if kind is str or kind is int or item is None or kind is bool:
                out.append(item)
            else:
                out.append(self.value(item, depth + 1))
        return out

    @staticmethod
    def special_float(number: float) -> dict:
        return {"__float__": "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")}

    def check_depth(self, depth: int) -> None:
        if depth > self.limits.max_depth:
            raise ValueError(f"value is nested deeper than {self.limits.max_depth} levels "
                             "(or contains itself)")

    def mapping(self, obj: dict, depth: int) -> dict:
        self.check_depth(depth + 1 if obj else depth)
        out = {}
        for key, item in obj.items():
            if type(key) is not str:
                if not isinstance(key, str):
                    raise ValueError(f"dict keys must be str; got the {type(key).__name__} key {key!r:.60}")
                key = str(key)
            kind = type(item)
            if kind is str or kind is int or item is None or kind is bool or (kind is float and item - item == 0.0):
                out[key] = item
            else:
                out[key] = self.value(item, depth + 1)
        # a plain dict that happens to use a marker key is wrapped, so it decodes as a dict again
        return {"__dict__": out} if RESERVED.intersection(out) else out

    def array(self, arr: np.ndarray) -> dict:
        arr = np.asarray(arr)
        if arr.ndim > self.limits.max_ndim:
            raise ValueError(f"array has {arr.ndim} dimensions; at most {self.limits.max_ndim} can be sent")
        data = np.ascontiguousarray(arr, dtype="<f8")
        size = data.size * 8
        if self.buffer_bytes + size > self.limits.max_buffer_bytes:
            raise ValueError(f"arrays in one message total over {self.limits.max_buffer_bytes} bytes")
        if len(self.buffers) >= self.limits.max_buffers:
            raise ValueError(f"more than {self.limits.max_buffers} arrays in one message")
        self.buffer_bytes += size
        self.buffers.append(data.reshape(-1).view(np.uint8).data if size else b"")
        return {"__array__": len(self.buffers) - 1, "shape": list(arr.shape), "dtype": _dtype_name(arr.dtype)}

    def other(self, obj: Any) -> Any:
        if self.make_handle is None:
            raise ValueError(f"a {type(obj).__name__} is not plain data: only None, bool, int, float, "
                             "str, list, tuple, dict with str keys and numeric numpy arrays can be sent")
        return self.value(self.make_handle(obj), 0)


_DTYPE_NAMES: dict[np.dtype, str] = {}


def _dtype_name(dtype: np.dtype) -> str:
    # `dtype.name` is computed in Python on every access; a message can hold thousands of arrays
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES.setdefault(dtype, dtype.name)
    return name


# ---------------------------------------------------------------- reading frames


def read_frame(read_exact: Callable[[int], BytesLike], *, limits: Limits = DEFAULT_LIMITS) -> Frame:
    """Read one frame with `read_exact(n)`, which returns exactly n bytes or raises EOFError.

    Raises EOFError when the stream ends before the frame starts, ValueError when it is malformed
    or breaks a limit (checked before anything is allocated).
    """
    start = read_exact(8)
    if bytes(start[:4]) != MAGIC:
        raise ValueError(f"not a message: expected {MAGIC!r}, got {bytes(start[:4])!r}")
    header_size = int.from_bytes(start[4:8], "big")
    if header_size > limits.max_header_bytes:
        raise FrameTooLargeError(f"its header of {header_size} bytes is over the limit of {limits.max_header_bytes}")
    header = bytes(_read_rest(read_exact, header_size))
    containers = header.count(b"[") + header.count(b"{")  # counted in C before json allocates them
    if containers > limits.max_containers:
        raise FrameTooLargeError(f"its header holds {containers} lists and objects, over the limit of "
                                 f"{limits.max_containers}")
    parsed = _parse_header(header)
    count = _buffer_count(parsed, limits)
    buffers, total = [], 0
    for _ in range(count):
        size = int.from_bytes(_read_rest(read_exact, 8), "big")
        total += size
        if total > limits.max_buffer_bytes:
            raise FrameTooLargeError(f"its arrays total over the limit of {limits.max_buffer_bytes} bytes")
        buffers.append(_read_rest(read_exact, size))
    return Frame(header, tuple(buffers), parsed)


def _read_rest(read_exact: Callable[[int], BytesLike], size: int) -> BytesLike:
    # EOF inside a frame is a truncated message, not a clean end of stream
    try:
        return read_exact(size) if size else b""
    except EOFError:
        raise ValueError("message is truncated") from None


def _buffer_count(parsed: dict, limits: Limits) -> int:
    count = parsed.get(BUFFERS_KEY)
    if type(count) is not int or count < 0:
        raise ValueError(f"header field {BUFFERS_KEY!r} must be a non-negative int")
    if count > limits.max_buffers:
        raise FrameTooLargeError(f"its {count} arrays are over the limit of {limits.max_buffers}")
    return count


def _parse_header(header: bytes) -> dict:
    wide = {} if _LONG_INT.search(header) is None else {"parse_int": _wide_int}
    try:
        parsed = json.loads(header.decode("utf-8"), parse_constant=_reject_constant, **wide)
    except RecursionError:
        raise ValueError("header is nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"header is not UTF-8: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"header is not JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise ValueError("header must be a JSON object")
    return parsed


def _wide_int(text: str) -> Union[int, float]:
    """An int literal beyond float range arrives as inf (or -inf), so whoever reads a message can
    convert every number in it to float: a student's 10**400 is an infinite answer, not an
    OverflowError in the grader. Every other int arrives exactly."""
    digits = len(text) - text.startswith("-")
    if digits > _FLOAT_DIGITS:
        return -math.inf if text.startswith("-") else math.inf
    number = int(text)
    try:
        float(number)
    except OverflowError:
        return -math.inf if number < 0 else math.inf
    return number


def request_id(frame: Frame) -> Any:
    """The plain "id" field of a frame's header, or None; readable even when decoding fails."""
    try:
        value = _parsed(frame).get("id")
    except ValueError:
        return None
    return value if isinstance(value, (int, str)) else None


def _parsed(frame: Frame) -> dict:
    return frame.parsed if frame.parsed is not None else _parse_header(frame.header)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"header contains {name}; non-finite floats travel as {{'__float__': ...}}")


class BytesReader:
    """`read_exact` over an in-memory message."""

    def __init__(self, data: BytesLike):
        self._view = memoryview(data)
        self._pos = 0

    def __call__(self, size: int) -> BytesLike:
        if self._pos + size > len(self._view):
            raise EOFError("end of data")
        chunk = self._view[self._pos:self._pos + size]
        self._pos += size
        return chunk

    @property
    def remaining(self) -> int:
        return len(self._view) - self._pos


# ---------------------------------------------------------------- decoding


def decode(frame: Frame, *, resolve_handle: Optional[Callable[[int], Any]] = None,
           limits: Limits = DEFAULT_LIMITS) -> dict:
    """Turn a frame back into a message dict.

    Handles become `resolve_handle(id)` (the worker's own objects) or, without it, `Handle`s.
    Arrays come back writable, with their original dtype.
    """
    # the top level is copied; the values inside become the message's (decode each frame once)
    header = dict(_parsed(frame))
    count = header.pop(BUFFERS_KEY, None)
    if count != len(frame.buffers):
        raise ValueError(f"header announces {count} buffers, the frame has {len(frame.buffers)}")
    decoder = _Decoder(frame.buffers, resolve_handle, limits)
    return {key: decoder.value(value, 1) for key, value in header.items()}


def unpack(data: BytesLike, *, resolve_handle: Optional[Callable[[int], Any]] = None,
           limits: Limits = DEFAULT_LIMITS) -> dict:
    """Read and decode one whole message from bytes; trailing bytes are an error."""
    reader = BytesReader(data)
    try:
        frame = read_frame(reader, limits=limits)
    except EOFError:
        raise ValueError("message is empty or truncated") from None
    if reader.remaining:
        raise ValueError(f"{reader.remaining} bytes after the end of the message")
    return decode(frame, resolve_handle=resolve_handle, limits=limits)


class _Decoder:
    def __init__(self, buffers: tuple[BytesLike, ...], resolve_handle: Optional[Callable[[int], Any]],
                 limits: Limits):
        self.buffers = buffers
        self.resolve_handle = resolve_handle
        self.limits = limits

    def value(self, obj: Any, depth: int) -> Any:
        if depth > self.limits.max_depth:
            raise ValueError(f"value is nested deeper than {self.limits.max_depth} levels")
        if type(obj) is list:
            if obj and depth + 1 > self.limits.max_depth:
                raise ValueError(f"value is nested deeper than {self.limits.max_depth} levels")
            # the parsed JSON list is new and ours: keep it unless an item needs decoding
            if any(type(item) is list or type(item) is dict for item in obj):
                return [self.value(item, depth + 1) if type(item) is list or type(item) is dict else item
                        for item in obj]
            return obj
        if type(obj) is not dict:
            return obj  # None, bool, int, float, str straight from JSON
        if "__array__" in obj:
            return self.array(obj)
        if "__tuple__" in obj:
            items = _only(obj, "__tuple__")
            if not isinstance(items, list):
                raise ValueError("__tuple__ must hold a list")
            return tuple(self.value(item, depth + 1) for item in items)
        if "__float__" in obj:
            name = _only(obj, "__float__")
            if name not in _SPECIAL_FLOATS:
                raise ValueError(f"__float__ must be one of nan, inf, -inf; got {name!r:.40}")
            return _SPECIAL_FLOATS[name]
        if "__handle__" in obj:
            return self.handle(obj)
        if "__dict__" in obj:
            inner = _only(obj, "__dict__")
            if not isinstance(inner, dict):
                raise ValueError("__dict__ must hold an object")
            return {key: self.value(item, depth + 1) for key, item in inner.items()}
        if BUFFERS_KEY in obj:
            raise ValueError(f"{BUFFERS_KEY!r} may appear only at the top of a header")
        return {key: self.value(item, depth + 1) for key, item in obj.items()}

    def array(self, obj: dict) -> np.ndarray:
        if set(obj) != {"__array__", "shape", "dtype"}:
            raise ValueError(f"an array needs exactly __array__, shape and dtype; got {sorted(obj)}")
        index, shape, dtype = obj["__array__"], obj["shape"], obj["dtype"]
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise ValueError(f"array refers to buffer {index!r:.20}, the message has {len(self.buffers)}")
        if not isinstance(shape, list) or len(shape) > self.limits.max_ndim or not all(
                type(n) is int and n >= 0 for n in shape):
            raise ValueError(f"array shape must be a list of at most {self.limits.max_ndim} "
                             f"non-negative ints; got {shape!r:.80}")
        if dtype not in ARRAY_DTYPES:
            raise ValueError(f"array dtype {dtype!r:.40} is not one of {sorted(ARRAY_DTYPES)}")
        buffer = self.buffers[index]
        if len(buffer) != 8 * math.prod(shape):
            raise ValueError(f"buffer {index} has {len(buffer)} bytes; shape {shape} needs "
                             f"{8 * math.prod(shape)}")
        arr = np.frombuffer(buffer, dtype="<f8").reshape(shape)
        if dtype != "float64":
            with np.errstate(invalid="ignore", over="ignore"):
                return arr.astype(dtype)
        if arr.flags.writeable and arr.dtype.isnative:
            return arr
        return arr.astype(np.float64)  # a writable, native-order copy

    def handle(self, obj: dict) -> Any:
        if set(obj) != {"__handle__", "type"} or type(obj["__handle__"]) is not int or type(obj["type"]) is not str:
            raise ValueError("a handle needs exactly an int __handle__ and a str type")
        if self.resolve_handle is None:
            return Handle(obj["__handle__"], obj["type"][:MAX_TYPE_CHARS])
        return self.resolve_handle(obj["__handle__"])


def _only(obj: dict, key: str) -> Any:
    if len(obj) != 1:
        raise ValueError(f"{key} must be the only key of its object; got {sorted(obj)}")
    return obj[key]
