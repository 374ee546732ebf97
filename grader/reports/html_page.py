"""The shared frame of the grader's HTML pages: one self-contained file, inline CSS, no scripts.

Pages must open from a zip, an LMS upload or an e-mail attachment, so nothing is fetched:
no fonts, images, scripts or style sheets from elsewhere. Colours pass WCAG AA contrast in the
light and the dark scheme, and every colour cue is also said in words.
"""
from __future__ import annotations

import re
from html import escape

CSS = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --muted: #57606a; --line: #d0d7de;
  --card: #f6f8fa; --ok: #1a7f37; --ok-bg: #dafbe1; --bad: #b42318; --bad-bg: #ffebe9;
  --warn: #7a4d00; --warn-bg: #fff8c5; --accent: #0550ae; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9da7b3; --line: #30363d; --card: #161b22;
    --ok: #56d364; --ok-bg: #12261e; --bad: #ff7b72; --bad-bg: #2d1214; --warn: #e3b341;
    --warn-bg: #2b2111; --accent: #79c0ff; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); line-height: 1.5;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 2rem 1.25rem 3rem; }
h1 { font-size: 1.75rem; margin: 0 0 .25rem; }
h2 { font-size: 1.3rem; margin: 2.25rem 0 .5rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line);
  display: flex; justify-content: space-between; gap: 1rem; flex-wrap: wrap; }
.check h4 { font-size: 1.05rem; margin: 0 0 .5rem; display: flex; flex-wrap: wrap; gap: .5rem; align-items: baseline; }
a { color: var(--accent); }
a:focus-visible, summary:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .92em;
  background: var(--card); border: 1px solid var(--line); border-radius: 4px; padding: 0 .3em;
  white-space: nowrap; overflow-wrap: normal; word-break: keep-all; }
.scroll { overflow-x: auto; }
.pair { display: inline-block; white-space: nowrap; margin-right: .75rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { font-size: .85rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
td.wide { min-width: 18rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.muted { color: var(--muted); }
.total { font-size: 1.2rem; margin: .25rem 0 .75rem; }
.meter { height: .75rem; background: var(--card); border: 1px solid var(--line); border-radius: 999px;
  overflow: hidden; }
.meter > span { display: block; height: 100%; background: var(--ok); }
.meter.small { height: .5rem; width: 8rem; display: inline-block; vertical-align: middle; }
.check { border: 1px solid var(--line); border-left: 6px solid var(--bad); border-radius: 6px;
  background: var(--card); padding: .75rem 1rem; margin: .75rem 0; }
.badge { font-size: .8rem; font-weight: 600; border-radius: 999px; padding: .05rem .6rem;
  background: var(--bad-bg); color: var(--bad); border: 1px solid currentColor; }
.badge.ok { background: var(--ok-bg); color: var(--ok); }
.pts { font-weight: 600; font-variant-numeric: tabular-nums; white-space: nowrap; }
.feedback { white-space: pre-wrap; overflow-wrap: anywhere; margin: .25rem 0; }
.diagnosis, .hint { margin: .25rem 0; }
.note { background: var(--warn-bg); color: var(--fg); border-left: 4px solid var(--warn);
  padding: .5rem .75rem; margin: .5rem 0; border-radius: 4px; overflow-wrap: anywhere; }
details { margin: .5rem 0; }
summary { cursor: pointer; font-weight: 600; }
ul.names { columns: 2 16rem; padding-left: 1.25rem; }
figure { margin: 1rem 0; }
figure svg, figure img { max-width: 100%; height: auto; }
footer { margin-top: 3rem; color: var(--muted); font-size: .9rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
"""


def esc(text: object) -> str:
    """Text (or a number) made safe as HTML content or a quoted attribute value."""
    return escape(str(text), quote=True)


def anchor(name: str) -> str:
    """An id attribute value made from `name`."""
    return "s-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def meter(fraction: float, label: str, *, small: bool = False) -> str:
    """A horizontal bar; screen readers get `label` instead of the picture."""
    width = max(0.0, min(1.0, fraction)) * 100
    cls = "meter small" if small else "meter"
    return f'<div class="{cls}" role="img" aria-label="{esc(label)}"><span style="width:{width:.1f}%"></span></div>'


def page(title: str, body: str) -> str:
    """A complete HTML document around `body`."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n"
            f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n")
