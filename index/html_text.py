"""Turn HTML into readable plain text: visible text only, blocks on their own lines."""

from __future__ import annotations

import html
import re
import warnings

from bs4 import BeautifulSoup, FeatureNotFound, MarkupResemblesLocatorWarning, Tag
from bs4.element import CData, NavigableString, PageElement, PreformattedString

DROPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "iframe", "svg", "head", "title", "object", "embed"}
)
_PARAGRAPH = 2  # blank line
_LINE = 1  # line break
_BREAKS = {
    **dict.fromkeys(
        "p h1 h2 h3 h4 h5 h6 pre blockquote section article header footer main aside nav"
        " figure table ul ol dl hr form fieldset details address".split(),
        _PARAGRAPH,
    ),
    **dict.fromkeys("div li br tr dt dd caption figcaption summary legend option".split(), _LINE),
}
# Dropped by the flat scan: each needs its end tag (so not "head", which pages often leave open).
_RAW_DROPPED = frozenset({"script", "style", "noscript", "template", "iframe", "svg", "title", "object"})
_CELLS = frozenset({"td", "th"})
_WHITESPACE = re.compile(r"\s+")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.I | re.S)
_TOKEN = re.compile(r"<!--.*?(?:-->|\Z)|<[!?][^>]*>?|<(/?)([A-Za-z][^\s/>]*)[^>]*>?", re.S)


def sniff_charset(data: bytes) -> str | None:
    """Return the charset a <meta> tag declares near the top of the page, if any."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def html_to_text(markup: str) -> tuple[str, str]:
    """Return (title, text) of an HTML page; title is "" when the page has none."""
    try:
        return _with_soup(markup)
    except RecursionError:
        return _with_regex(markup)


class _Writer:
    """Collects text runs and pending breaks, collapsing whitespace like a browser."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pending_break = 0
        self.pending_space = False

    def text(self, run: str, *, pre: bool = False) -> None:
        if not pre:
            run = _WHITESPACE.sub(" ", run)
            self.pending_space = self.pending_space or run.startswith(" ")
            core = run.strip(" ")
        else:
            core = run
        if not core:
            return
        if self.parts and self.pending_break:
            self.parts.append("\n" * self.pending_break)
        elif self.parts and self.pending_space:
            self.parts.append(" ")
        self.parts.append(core)
        self.pending_break = 0
        self.pending_space = not pre and run.endswith(" ")

    def brk(self, kind: int) -> None:
        self.pending_break = max(self.pending_break, kind)

    def result(self) -> str:
        return "".join(self.parts)


def _parse(markup: str) -> BeautifulSoup:
    # A page whose whole text looks like a file name or URL makes bs4 warn; it is still a page to read.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        try:
            return BeautifulSoup(markup, "lxml")
        except FeatureNotFound:
            return BeautifulSoup(markup, "html.parser")


def _with_soup(markup: str) -> tuple[str, str]:
    soup = _parse(markup)
    titles = (t for t in soup.find_all("title") if t.find_parent("svg") is None)
    title_tag = next(titles, None)
    title = _WHITESPACE.sub(" ", title_tag.get_text()).strip() if title_tag else ""
    out = _Writer()
    pre_depth = 0
    # An explicit stack, not recursion: pages can nest far deeper than the recursion limit.
    # Entries are (node, 0, False) to visit a node, or (None, break, is_pre) to leave a tag.
    stack: list[tuple[PageElement | None, int, bool]] = [(soup, 0, False)]
    while stack:
        node, brk, is_pre = stack.pop()
        if node is None:
            out.brk(brk)
            pre_depth -= is_pre
        elif isinstance(node, Tag):
            name = node.name.lower()
            if name in DROPPED_TAGS:
                continue
            if name in _CELLS:
                out.text(" ")
            brk, is_pre = _BREAKS.get(name, 0), name in ("pre", "textarea")
            out.brk(brk)
            pre_depth += is_pre
            stack.append((None, brk, is_pre))
            stack.extend((child, 0, False) for child in reversed(node.contents))
        elif isinstance(node, NavigableString) and (
            isinstance(node, CData) or not isinstance(node, PreformattedString)
        ):
            out.text(str(node), pre=pre_depth > 0)
    return title, out.result()


def _with_regex(markup: str) -> tuple[str, str]:
    """Strip tags with a flat scan; used when the page is too deep for the parser."""
    found = _TITLE.search(markup)
    title = _WHITESPACE.sub(" ", html.unescape(found.group(1))).strip() if found else ""
    out = _Writer()
    pos = 0
    while pos < len(markup):
        match = _TOKEN.search(markup, pos)
        out.text(html.unescape(markup[pos : match.start() if match else len(markup)]))
        if match is None:
            break
        pos = match.end()
        name = (match.group(2) or "").lower()
        if name in _RAW_DROPPED and not match.group(1) and not match.group().endswith("/>"):
            end = re.compile(rf"</{re.escape(name)}\s*>", re.I).search(markup, pos)
            pos = end.end() if end else len(markup)
        elif name in _CELLS:
            out.text(" ")
        else:
            out.brk(_BREAKS.get(name, 0))
    return title, out.result()
