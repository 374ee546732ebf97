"""Public-check data: fixed inputs with the reference's answers.

In the instructor's tree a fixture is built on demand by its builder (which imports the
reference). `grade release` writes every public fixture to `grader/public_data/<exercise>.json`,
and the student's copy reads that file instead, so the release needs no reference code.
"""
from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any, Callable

import numpy as np

Builder = Callable[[], dict]
BUILDERS: dict[str, dict[str, Builder]] = {}
_CACHE: dict[tuple[str, str], dict] = {}


def fixture_builder(exercise: str, name: str) -> Callable[[Builder], Builder]:
    """Register `fn() -> dict` as the builder of fixture `name` for `exercise`."""

    def register(fn: Builder) -> Builder:
        BUILDERS.setdefault(exercise, {})[name] = fn
        return fn

    return register


def to_json(value: Any) -> Any:
    """Plain JSON for fixture values; arrays keep their shape. Floats round-trip exactly."""
    if isinstance(value, np.ndarray):
        return {"__array__": [float(v) for v in value.astype(np.float64).ravel()], "shape": list(value.shape)}
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if "__array__" in value:
            return np.array(value["__array__"], dtype=np.float64).reshape(value["shape"])
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


@functools.lru_cache(maxsize=None)
def _shipped(exercise: str) -> dict | None:
    """The release's public data for `exercise`, read once per process (None in the instructor's tree)."""
    try:
        text = resources.files("grader").joinpath("public_data", f"{exercise}.json").read_text("utf-8")
    except (FileNotFoundError, OSError, ModuleNotFoundError):
        return None
    return json.loads(text)


def load_fixture(exercise: str, name: str) -> dict:
    """The fixture's data: from the shipped file when there is one, else built from the reference."""
    key = (exercise, name)
    if key not in _CACHE:
        shipped = _shipped(exercise)
        if shipped is not None and name in shipped:
            _CACHE[key] = from_json(shipped[name])
        elif name in BUILDERS.get(exercise, {}):
            _CACHE[key] = from_json(to_json(BUILDERS[exercise][name]()))
        else:
            raise LookupError(
                f"no public data {name!r} for {exercise}: reinstall the student release, "
                "or ask the instructor for a fresh copy")
    return _CACHE[key]


def build_all(exercise: str) -> dict:
    """Every public fixture of `exercise` as JSON-ready data (for the release)."""
    return {name: to_json(build()) for name, build in sorted(BUILDERS.get(exercise, {}).items())}
