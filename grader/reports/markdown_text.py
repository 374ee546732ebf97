"""Plain text made safe inside Markdown: feedback can quote a student's exception message.

Escaping the characters Markdown gives meaning to keeps a message such as `y_hat * (1 - y)`,
`[x](javascript:...)` or `<script>` from turning into emphasis, links or raw HTML when a
renderer shows it. CommonMark lets any ASCII punctuation be backslash-escaped.
"""
from __future__ import annotations

import re

_INLINE = re.compile(r"([\\`*_{}\[\]<>|~&])")
# Only at the start of a line: headings, list items, block quotes (">" is escaped above).
_LINE_START = re.compile(r"^(?:([#+\-=])|(\d+)([.)]))")


def md_escape(text: str) -> str:
    """`text` (one line) with every character Markdown could act on backslash-escaped.

    Leading whitespace is dropped: four spaces or a tab would start a code block, and fewer
    are ignored by Markdown anyway.
    """
    escaped = _INLINE.sub(r"\\\1", text.lstrip())
    return _LINE_START.sub(_escape_line_start, escaped)


def _escape_line_start(match: re.Match) -> str:
    marker, digits, period = match.groups()
    # "1." starts a list; "1\." does not ("\1" would not be an escape: digits are not punctuation).
    return f"\\{marker}" if marker else f"{digits}\\{period}"


def md_block(text: str) -> str:
    """`text` escaped line by line, its line breaks kept (a trailing backslash is a hard break).

    Blank lines are dropped: they would end the paragraph and leave a lone backslash showing.
    """
    return "\\\n".join(md_escape(line) for line in text.splitlines() if line.strip())


def md_code(text: str) -> str:
    """`text` as an inline code span (no escaping inside), fenced so its own backticks cannot end it."""
    text = " ".join(text.splitlines())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
