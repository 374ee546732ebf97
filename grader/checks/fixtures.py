"""Public-check data: inputs with the reference's answers.

In the instructor's tree a fixture is built on demand by its builder (which imports the
reference). `grade release` writes every public fixture to `grader/public_data/<exercise>.json`,
and the student's copy reads that file instead, so the release needs no reference code.

The published inputs serve the self-check only. At grading, a builder registered with
`draws=True` builds its fixture again on inputs drawn from the grading seed (`drawn_fixture`),
so a table of the published answers earns nothing there; fixed data (the lecture's case) stays
as published.
"""
from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any, Callable

import numpy as np

# `build()` gives the published fixture; a drawing builder also takes `build(rng)` for fresh inputs.
Builder = Callable[..., dict]
BUILDERS: dict[str, dict[str, Builder]] = {}
DRAWING: dict[str, set[str]] = {}  # per exercise: the fixtures whose builders accept an rng
_CACHE: dict[tuple[str, str], dict] = {}
_DRAWN: dict[tuple[str, str, int], dict] = {}
_DRAWN_KEPT = 256  # drawn fixtures kept per process: a batch shares one seed, so a few suffice


def fixture_builder(exercise: str, name: str, *, draws: bool = False) -> Callable[[Builder], Builder]:
    """Register `fn() -> dict` as the builder of fixture `name` for `exercise`.

    `draws`: `fn(rng)` builds the same kind of data on inputs drawn from `rng` (used at grading).
    """

    def register(fn: Builder) -> Builder:
        BUILDERS.setdefault(exercise, {})[name] = fn
        if draws:
            DRAWING.setdefault(exercise, set()).add(name)
        else:
            DRAWING.get(exercise, set()).discard(name)
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


def drawn_fixture(exercise: str, name: str, seed: int) -> dict:
    """Fixture `name` built on fresh inputs from `seed` (the grading run's), or the published
    data when its builder does not draw. Needs the reference: the instructor's tree only."""
    if name not in DRAWING.get(exercise, set()):
        return load_fixture(exercise, name)
    key = (exercise, name, seed)
    if key not in _DRAWN:
        if len(_DRAWN) >= _DRAWN_KEPT:
            _DRAWN.pop(next(iter(_DRAWN)))
        rng = np.random.default_rng(seed)
        _DRAWN[key] = from_json(to_json(BUILDERS[exercise][name](rng)))
    return _DRAWN[key]


def build_all(exercise: str) -> dict:
    """Every public fixture of `exercise` as JSON-ready data (for the release)."""
    return {name: to_json(build()) for name, build in sorted(BUILDERS.get(exercise, {}).items())}
