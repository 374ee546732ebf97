"""Partial credit for a handed-in model's accuracy: the rubric's bands, per data set.

A band is `[accuracy at least, share of the points]`; the best band the accuracy reaches gives
the credit, and below every band there is none. The rubric (rubric/a1_model.toml) states them,
so an instructor moves them without touching code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence


@dataclass(frozen=True)
class Band:
    at_least: float
    credit: float


def bands_of(table: Any) -> tuple[Band, ...]:
    """[[0.97, 1.0], [0.95, 0.75], ...] as Bands, best first; ValueError for anything else."""
    if not isinstance(table, (list, tuple)) or not table:
        raise ValueError(f"accuracy bands must be a list of [accuracy, credit] pairs, not {table!r}")
    bands = []
    for entry in table:
        if not isinstance(entry, (list, tuple)) or len(entry) != 2 or not all(0.0 <= float(x) <= 1.0 for x in entry):
            raise ValueError(f"an accuracy band is [accuracy, credit], both in [0, 1], not {entry!r}")
        bands.append(Band(float(entry[0]), float(entry[1])))
    return tuple(sorted(bands, key=lambda band: band.at_least, reverse=True))


def band_for(accuracy: float, bands: Sequence[Band]) -> Optional[Band]:
    """The best band `accuracy` reaches, or None below all of them."""
    return next((band for band in bands if accuracy >= band.at_least), None)


def bands_words(bands: Sequence[Band]) -> str:
    """"full credit from 0.97, 0.75 from 0.95, ..." for feedback."""
    return ", ".join(f"{'full credit' if band.credit == 1.0 else f'{band.credit:g}'} from {band.at_least:g}"
                     for band in bands)
