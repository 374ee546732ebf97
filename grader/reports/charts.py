"""Charts for the class summary as inline SVG, drawn by matplotlib when it is installed.

matplotlib comes with the `instructor` extra. Without it, `charts_available()` is False and the
summary page shows tables only. The SVG keeps its text as text (readable, searchable, small),
and a fixed hash salt makes the same data give the same bytes.
"""
from __future__ import annotations

import io
import re
from typing import Optional, Sequence

_ID_REFERENCE = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


def charts_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _svg(figure, label: str, salt: str) -> str:
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    text = text[text.index("<svg"):]  # drop the XML prolog and doctype: the SVG sits inside HTML
    # matplotlib numbers its ids per figure (figure_1, patch_1, ...): two charts on one page would share them.
    text = _ID_REFERENCE.sub(lambda m: f"{m.group(1)}{salt}-{m.group(2)}", text)
    return text.replace("<svg ", f'<svg role="img" aria-label="{_attr(label)}" ', 1)


def _attr(text: str) -> str:
    from html import escape

    return escape(text, quote=True)


def histogram_svg(percents: Sequence[float], *, label: str) -> Optional[str]:
    """A histogram of scores in percent, bins of 10 points (100 falls in the last bin); None without matplotlib."""
    if not charts_available():
        return None
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.0, 2.8))
    axes = figure.add_subplot()
    axes.hist([min(max(p, 0.0), 100.0) for p in percents], bins=list(range(0, 101, 10)),
              color="#2f81f7", edgecolor="white")
    axes.set_xlabel("score (% of the maximum)")
    axes.set_ylabel("students")
    axes.set_xlim(0, 100)
    axes.set_xticks(range(0, 101, 10))
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure, label, "histogram")


def bars_svg(names: Sequence[str], percents: Sequence[float], *, label: str, xlabel: str) -> Optional[str]:
    """Horizontal bars, one per name, 0 to 100; None without matplotlib."""
    if not charts_available():
        return None
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.0, 0.45 * len(names) + 0.9))
    axes = figure.add_subplot()
    positions = list(range(len(names)))[::-1]
    axes.barh(positions, percents, color="#1a7f37")
    axes.set_yticks(positions, labels=list(names))
    axes.set_xlim(0, 100)
    axes.set_xlabel(xlabel)
    axes.spines[["top", "right"]].set_visible(False)
    for y, value in zip(positions, percents):
        axes.text(min(value + 1, 92), y, f"{value:.0f}%", va="center", fontsize=9)
    return _svg(figure, label, "bars")
