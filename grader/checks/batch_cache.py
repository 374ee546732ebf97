"""Reference answers computed once per grading process, not once per student.

A check's inputs come from its seed, so every submission of a batch meets the same random
graphs and networks; only the student's answers differ. `reference_memo` wraps a pure
reference computation (`spec -> answer`) so that the second student's request is a lookup.

The key is the argument's content (a SHA-256 of its JSON, arrays by dtype, shape and bytes),
never its identity, so a check that builds an equal spec again still hits. Answers are handed
out as fresh lists and dicts around read-only arrays: a check that changed a cached answer in
place would change it for the next student, so it fails loudly instead.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections import OrderedDict
from typing import Any, Callable, Hashable, TypeVar

import numpy as np

T = TypeVar("T")

MAX_ENTRIES = 512  # answers are small; the cap keeps a long batch's memory flat


def content_key(obj: Any) -> bytes:
    """A digest of `obj`'s content: plain data and numpy arrays (dtype, shape and values)."""
    text = json.dumps(obj, default=_array_content, separators=(",", ":"))
    return hashlib.sha256(text.encode()).digest()


def _array_content(obj: Any) -> Any:
    if isinstance(obj, (np.ndarray, np.generic)):
        arr = np.asarray(obj)  # the shape of the array itself: ascontiguousarray makes a 0-d array 1-d
        data = np.ascontiguousarray(arr).tobytes()
        return {"ndarray": [arr.dtype.str, list(arr.shape), hashlib.sha256(data).hexdigest()]}
    raise TypeError(f"no content key for a {type(obj).__name__}")


def frozen(obj: Any) -> Any:
    """`obj` with its arrays made read-only (in place), for keeping in the memo."""
    if isinstance(obj, np.ndarray):
        obj.flags.writeable = False
    elif isinstance(obj, dict):
        for item in obj.values():
            frozen(item)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            frozen(item)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for item in dataclasses.fields(obj):
            frozen(getattr(obj, item.name))
    return obj


def handed_out(obj: Any) -> Any:
    """Fresh containers around the memo's (read-only) arrays and immutable scalars."""
    if isinstance(obj, dict):
        return {key: handed_out(item) for key, item in obj.items()}
    if isinstance(obj, list):
        return [handed_out(item) for item in obj]
    if isinstance(obj, tuple):
        return type(obj)(*(handed_out(item) for item in obj)) if hasattr(obj, "_fields") \
            else tuple(handed_out(item) for item in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):  # a check's case: its spec is fresh too
        return dataclasses.replace(obj, **{item.name: handed_out(getattr(obj, item.name))
                                           for item in dataclasses.fields(obj) if item.init})
    return obj


@dataclasses.dataclass(frozen=True)
class _Raised:
    """What a memoized computation raised for an input: the same exception, raised again on a hit."""

    error: BaseException


_DRAWS: OrderedDict[Hashable, Any] = OrderedDict()


def batch_memo(key: Hashable, build: Callable[[], T]) -> T:
    """`build()` once per `key` in this process, for material every student of a batch shares
    (a check's random cases with their reference answers). The key must name everything the
    build depends on: the check, the seed and the settings it reads."""
    if key in _DRAWS:
        _DRAWS.move_to_end(key)
    else:
        _DRAWS[key] = frozen(build())
        if len(_DRAWS) > MAX_ENTRIES:
            _DRAWS.popitem(last=False)
    return handed_out(_DRAWS[key])


def reference_memo(fn: Callable[[Any], T]) -> Callable[[Any], T]:
    """Memoize a pure one-argument reference computation by the argument's content.

    An input outside the computation's domain (ValueError, ArithmeticError) is remembered too and
    raised again (the same exception, its old traceback dropped): random cases are drawn until
    one is well-conditioned, and every student meets the same rejected draws. Other exceptions are
    not remembered.
    """
    memo: OrderedDict[bytes, Any] = OrderedDict()

    @functools.wraps(fn)
    def wrapper(arg: Any) -> T:
        key = content_key(arg)
        if key in memo:
            memo.move_to_end(key)
        else:
            try:
                memo[key] = frozen(fn(arg))
            except (ValueError, ArithmeticError) as exc:
                memo[key] = _Raised(exc)
                raise
            finally:
                if len(memo) > MAX_ENTRIES:
                    memo.popitem(last=False)
        answer = memo[key]
        if isinstance(answer, _Raised):
            raise answer.error.with_traceback(None)
        return handed_out(answer)

    wrapper.cache_clear = memo.clear  # type: ignore[attr-defined]
    wrapper.cache_size = memo.__len__  # type: ignore[attr-defined]
    return wrapper
