"""Answers a student release withholds: it ships what they are for the public cases, not the code.

Some public checks compare with answers only the answer key can compute (da6401-a1's gradients
come from the reference's backward). A function computing one is marked, and a student release
(`grade release`) treats it by its mark:

- `@withheld`: its signature and docstring stay, its body becomes `raise AnswerWithheld(...)`;
- `@recorded(table, name)`: the same, and the release also ships the answer it gave for each
  input the public checks used when the release was built (their fixed self-check cases), in
  `grader/public_data/<table>.json`, keyed by a digest of the arguments. There the function
  answers from that table; an input not in it (a grading run's drawn case) raises
  `AnswerWithheld`, never a guess.

In the instructor's tree both marks do nothing but run the function, and, inside `recording()`,
note each answer a `@recorded` function gives (how the release builder fills the table).
"""
from __future__ import annotations

import base64
import contextlib
import dataclasses
import functools
import hashlib
import json
from importlib import resources
from typing import Any, Callable, Iterator, Optional, TypeVar

import numpy as np


F = TypeVar("F", bound=Callable[..., Any])

TABLE_FOLDER = "public_data"
_RECORDING: Optional[dict[str, dict[str, dict[str, Any]]]] = None
_RECORDED_ARGS: dict[tuple[str, str], list[tuple]] = {}  # the arguments of each answer recorded, in order


class AnswerWithheld(RuntimeError):
    """An answer only the instructor's grader computes was asked for in a student release."""


def withheld(fn: F) -> F:
    """Mark `fn` as answer-key code: a student release keeps only its signature and docstring."""
    return fn


def _feed(digest: "hashlib._Hash", value: Any) -> None:
    if isinstance(value, np.ndarray):
        digest.update(f"a{value.dtype.str}{value.shape}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())  # (its shape is 1-d for a 0-d array)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(f"d{type(value).__name__}".encode())
        for item in dataclasses.fields(value):
            digest.update(item.name.encode())
            _feed(digest, getattr(value, item.name))
    elif isinstance(value, (list, tuple)):
        digest.update(f"l{len(value)}".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, dict):
        digest.update(f"m{len(value)}".encode())
        for key in sorted(value, key=str):
            _feed(digest, str(key))
            _feed(digest, value[key])
    elif isinstance(value, (np.generic, bool, int, float, str)) or value is None:
        item = value.item() if isinstance(value, np.generic) else value
        digest.update(f"s{type(item).__name__}:{item!r}".encode())
    else:
        raise TypeError(f"a recorded answer's argument cannot be a {type(value).__name__}")


def encoded(value: Any) -> Any:
    """Plain JSON for an answer: arrays as base64 of their bytes (little-endian), with dtype and shape."""
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        return {"__array__": base64.b64encode(array.tobytes()).decode("ascii"), "dtype": array.dtype.str,
                "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(key): encoded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encoded(item) for item in value]
    return value


def decoded(value: Any) -> Any:
    """`encoded`'s inverse (tuples come back as lists)."""
    if isinstance(value, dict):
        if "__array__" in value:
            data = base64.b64decode(value["__array__"])
            return np.frombuffer(data, dtype=np.dtype(value["dtype"])).reshape(value["shape"]).copy()
        return {key: decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decoded(item) for item in value]
    return value


def digest_of(*args: Any) -> str:
    """A digest of plain values, arrays (dtype, shape and bytes) and dataclasses of them."""
    digest = hashlib.sha256()
    _feed(digest, list(args))
    return digest.hexdigest()[:32]


@functools.lru_cache(maxsize=None)
def shipped_table(table: str) -> Optional[dict]:
    """The release's recorded answers for `table`, read once per process (None in the instructor's tree)."""
    try:
        text = resources.files("grader").joinpath(TABLE_FOLDER, f"{table}.json").read_text("utf-8")
    except (FileNotFoundError, OSError, ModuleNotFoundError):
        return None
    return json.loads(text)


def recorded(table: str, name: str) -> Callable[[F], F]:
    """Mark `fn` as answer-key code whose answers on the public cases the release ships (see above)."""

    def mark(fn: F) -> F:
        @functools.wraps(fn)
        def answer(*args: Any) -> Any:
            shipped = shipped_table(table)
            if shipped is None and _RECORDING is None:
                return fn(*args)  # the instructor's tree, not building a release: no digest needed
            key = digest_of(*args)
            if shipped is not None:
                try:
                    return decoded(shipped[name][key])
                except KeyError:
                    raise AnswerWithheld(
                        f"{name}: this case is not one of the release's public cases (a grading run draws its "
                        f"own, which only the instructor's grader can answer; or this numpy draws other "
                        f"numbers than the one the release was built with, numpy {shipped.get('numpy')})"
                    ) from None
            result = fn(*args)
            _RECORDING.setdefault(table, {}).setdefault(name, {})[key] = encoded(result)
            _RECORDED_ARGS.setdefault((table, name), []).append(args)
            return result

        answer.__recorded__ = (table, name)  # type: ignore[attr-defined]
        return answer  # type: ignore[return-value]

    return mark


@contextlib.contextmanager
def recording() -> Iterator[dict[str, dict[str, dict[str, Any]]]]:
    """Collect every answer `@recorded` functions give inside the block: table -> name -> digest -> JSON."""
    global _RECORDING
    if _RECORDING is not None:
        raise RuntimeError("recording() does not nest")
    _RECORDING = {}
    _RECORDED_ARGS.clear()
    try:
        yield _RECORDING
    finally:
        _RECORDING = None


def prefetch(fn: Callable[..., Any], *args: Any) -> None:
    """Inside `recording()`, ask `fn(*args)` now, so that a release ships the answer a failure
    would ask for (a correct submission never fails, so the builder's run would not ask).
    Elsewhere nothing: the check asks later, only if it needs to."""
    if _RECORDING is not None:
        fn(*args)


def recorded_arguments(table: str, name: str) -> list[tuple]:
    """The arguments `@recorded(table, name)` was called with in the current `recording()`, in order."""
    return list(_RECORDED_ARGS.get((table, name), ()))
