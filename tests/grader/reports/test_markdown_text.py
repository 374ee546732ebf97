import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.reports.markdown_text import md_block, md_code, md_escape

mistune = pytest.importorskip("mistune")  # a real CommonMark renderer (comes with nbconvert)

# Text as a student's exception message may hold it: any printable character, tabs included.
LINE = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")) | st.just("\t"),
               min_size=1).filter(str.strip)


def rendered(markdown: str) -> str:
    """The HTML a real Markdown renderer makes of `markdown`."""
    return mistune.html(markdown).strip()


def paragraph_text(markdown: str) -> str:
    """The text of the single plain paragraph `markdown` renders to; fails on any other markup."""
    out = rendered(markdown)
    assert out.startswith("<p>") and out.endswith("</p>"), out
    inner = out[3:-4]
    assert "<" not in inner, out
    return html.unescape(inner)


@settings(max_examples=300)
@given(LINE)
def test_escaped_text_renders_as_itself_and_nothing_else(text):
    assert paragraph_text(md_escape(text)).strip() == text.strip()


@pytest.mark.parametrize("text", [
    "y_hat * (1 - y)", "<script>alert(1)</script>", "[x](javascript:alert(1))", "# not a heading",
    "1. not a list", "- not a list", "> not a quote", "    not code", "***", "`code`", "a & b &amp; c",
    "~~not struck~~", "| a | b |", "![img](x.png)", "_not emphasis_", "__not strong__", "a *b* c",
])
def test_markdown_syntax_stays_text(text):
    assert paragraph_text(md_escape(text)) == text.strip()


def test_a_block_keeps_its_lines_and_drops_blank_ones():
    out = rendered(md_block("first_line\n\n  second * line\n"))
    assert out == "<p>first_line<br />\nsecond * line</p>"


@pytest.mark.parametrize("text", ["plain", "a`b", "``x``", "`edge", "a_b*c"])
def test_code_spans_hold_any_text(text):
    out = rendered(md_code(text))
    assert out == f"<p><code>{html.escape(text, quote=False)}</code></p>"
