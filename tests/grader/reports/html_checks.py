"""Checks every HTML page of the grader must pass: well formed, self-contained, accessible basics.

Also a headless-Chromium screenshot, for tests that render a page for real (skipped without it).
"""
from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Optional

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
FORBIDDEN_TAGS = {"script", "link", "iframe", "object", "embed", "img", "base", "form"}


class PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check_page(page: str) -> PageParser:
    """Parse `page` and assert the rules; returns the parser for further checks."""
    assert page.startswith("<!DOCTYPE html>")
    parser = PageParser()
    parser.feed(page)
    parser.close()
    assert not parser.errors, parser.errors[:5]
    assert parser.stack == [], parser.stack
    tags = [t for t, _ in parser.tags]
    assert ("html", {"lang": "en"}) in parser.tags and "title" in tags and ("meta", {"charset": "utf-8"}) in parser.tags
    assert not FORBIDDEN_TAGS & set(tags), FORBIDDEN_TAGS & set(tags)
    for tag, attrs in parser.tags:
        assert "src" not in attrs, (tag, attrs)
        href = attrs.get("href")
        assert href is None or href.startswith("#") or "://" not in href, href  # nothing fetched from elsewhere
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)  # no inline scripts
        if tag == "th" and "scope" not in attrs:
            raise AssertionError(f"<th> without scope: {attrs}")
    ids = [attrs["id"] for _, attrs in parser.tags if "id" in attrs]
    assert len(ids) == len(set(ids)), "duplicate ids"
    return parser


def chromium() -> Optional[str]:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def screenshot(html_file: Path, png: Path, *, width: int = 1000, height: int = 1400) -> Path:
    """Render `html_file` with headless Chromium into `png`."""
    subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={width},{height}", f"--screenshot={png}", html_file.resolve().as_uri()],
                   check=True, capture_output=True, timeout=60)
    return png


def png_size_and_variety(png: Path) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the decoded image data) of an 8-bit PNG."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    position, idat = 8, b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        if kind == b"IDAT":
            idat += data[position + 8:position + 8 + length]
        position += 12 + length
    return width, height, len(set(zlib.decompress(idat)))
