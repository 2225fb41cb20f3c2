"""Turn HTML into readable plain text: visible text only, blocks on their own lines, a data table's rows as lines
of cells (`index/table_rows.py`)."""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Iterator
from itertools import islice

from bs4 import BeautifulSoup, FeatureNotFound, MarkupResemblesLocatorWarning, Tag
from bs4.element import CData, NavigableString, PageElement, PreformattedString

from index.table_rows import table_lines

DROPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "iframe", "svg", "head", "title", "object", "embed"}
)
_PARAGRAPH = 2  # blank line
_LINE = 1  # line break
_PAGE_BLOCKS = frozenset(
    "p h1 h2 h3 h4 h5 h6 pre blockquote section article header footer main aside nav"
    " figure table ul ol dl hr form fieldset details address".split()
)
_BREAKS = {
    **dict.fromkeys(_PAGE_BLOCKS, _PARAGRAPH),
    **dict.fromkeys("div li br tr dt dd caption figcaption summary legend option".split(), _LINE),
}
# Dropped by the flat scan: each needs its end tag (so not "head", which pages often leave open).
_RAW_DROPPED = frozenset({"script", "style", "noscript", "template", "iframe", "svg", "title", "object"})
_CELLS = frozenset({"td", "th"})
_ROW_GROUPS = {"thead": 0, "tbody": 1, "tfoot": 2}  # the order a browser draws them in, whatever the markup's
_MAX_COLSPAN, _MAX_ROWSPAN = 1000, 65534  # as browsers clamp them
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

    def block(self, lines: list[str]) -> None:
        """Lines written as they are (a table's rows), as a paragraph of their own."""
        self.brk(_PARAGRAPH)
        for line in lines:
            self.text(line, pre=True)
            self.brk(_LINE)
        self.brk(_PARAGRAPH)

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
    return title, _visible_text(soup)


def _visible_text(root: PageElement) -> str:
    out = _Writer()
    pre_depth = 0
    # An explicit stack, not recursion: pages can nest far deeper than the recursion limit.
    # Entries are (node, 0, False) to visit a node, or (None, break, is_pre) to leave a tag.
    stack: list[tuple[PageElement | None, int, bool]] = [(root, 0, False)]
    while stack:
        node, brk, is_pre = stack.pop()
        if node is None:
            out.brk(brk)
            pre_depth -= is_pre
        elif isinstance(node, Tag):
            name = node.name.lower()
            if name in DROPPED_TAGS:
                continue
            if name == "table" and (rows := _data_table_lines(node)) is not None:
                out.block(rows)
                continue
            if name in _CELLS:
                out.text(" ")
            brk, is_pre = _BREAKS.get(name, 0), name in ("pre", "textarea")
            out.brk(brk)
            pre_depth += is_pre
            stack.append((None, brk, is_pre))
            stack.extend((child, 0, False) for child in reversed(node.contents))
        elif _is_text(node):
            out.text(str(node), pre=pre_depth > 0)
    return out.result()


def _is_text(node: PageElement) -> bool:
    """A run of the page's text (a comment, doctype or processing instruction is not; CDATA is)."""
    return isinstance(node, NavigableString) and (isinstance(node, CData) or not isinstance(node, PreformattedString))


def _data_table_lines(table: Tag) -> list[str] | None:
    """A table of data as lines: its caption, then one line per row, header rows first. None for a table that lays
    out a page, or holds markup a browser would move out of it: that is read as ordinary blocks."""
    if str(table.get("role") or "").strip().lower() in ("presentation", "none"):
        return None
    captions: list[Tag] = []
    groups: list[tuple[int, list[list[Tag]]]] = []
    for child in table.contents:
        name = _structural_name(child)
        if name == "caption" and isinstance(child, Tag):
            captions.append(child)
        elif name in _ROW_GROUPS and isinstance(child, Tag):
            groups.append((_ROW_GROUPS[name], []))
            if not all(_add_row(row, groups[-1][1]) for row in child.contents):
                return None
        elif name == "tr":
            if not groups or groups[-1][0] != _ROW_GROUPS["tbody"]:
                groups.append((_ROW_GROUPS["tbody"], []))
            if not _add_row(child, groups[-1][1]):
                return None
        elif name not in ("", "colgroup", "col"):
            return None
    cells = [cell for _, rows in groups for row in rows for cell in row]
    if not cells or not _holds_data(table, cells):
        return None
    groups.sort(key=lambda group: group[0])
    caption_lines = [_WHITESPACE.sub(" ", _visible_text(caption)).strip() for caption in captions]
    return [line for line in caption_lines if line] + table_lines(
        row for _, rows in groups for row in _spanned_rows(rows)
    )


def _structural_name(node: PageElement) -> str:
    """The name of a tag a table is built of; "" for what shows nothing (space, comments, scripts); "?" for text
    or any other tag, which a table of data does not hold between its cells."""
    if isinstance(node, Tag):
        name = node.name.lower()
        if name in DROPPED_TAGS:
            return ""
        return name if name in _ROW_GROUPS or name in _CELLS or name in ("tr", "caption", "colgroup", "col") else "?"
    return "?" if _is_text(node) and str(node).strip() else ""


def _add_row(node: PageElement, rows: list[list[Tag]]) -> bool:
    """Add a <tr>'s cells to `rows`; False when `node` (a child of a row group) is not a row of cells."""
    name = _structural_name(node)
    if name != "tr" or not isinstance(node, Tag):
        return name == ""
    cells = []
    for child in node.contents:
        child_name = _structural_name(child)
        if child_name in _CELLS and isinstance(child, Tag):
            cells.append(child)
        elif child_name:
            return False
    rows.append(cells)
    return True


def _holds_data(table: Tag, cells: list[Tag]) -> bool:
    """Whether the table holds data rather than lays out a page: no table inside it, and no cell holding two
    blocks (paragraphs, headings, lists...) unless the table has a caption or header cells."""
    has_header = False
    for tag in _tags_within(table):
        name = tag.name.lower()
        if name == "table":
            return False
        has_header = has_header or name in ("caption", "thead", "th")
    blocks = (sum(1 for _ in islice(_tags_within(cell, _PAGE_BLOCKS), 2)) for cell in cells)
    return has_header or all(count < 2 for count in blocks)


def _tags_within(node: Tag, names: frozenset[str] | None = None) -> Iterator[Tag]:
    """The tags inside `node` (those named `names`, if given) in document order, found lazily: bs4's `find` walks to
    the end of the subtree before it starts, which costs a page of nested tables quadratic time."""
    stack = list(reversed(node.contents))
    while stack:
        child = stack.pop()
        if isinstance(child, Tag):
            if names is None or child.name.lower() in names:
                yield child
            stack.extend(reversed(child.contents))


def _spanned_rows(rows: list[list[Tag]]) -> list[list[str]]:
    """Each row's cell texts: a cell spanning columns once, a cell spanning rows in each row it reaches (so that
    each row reads on its own), within its row group."""
    texts: list[list[str]] = []
    reaching: dict[int, tuple[str, int, int]] = {}  # start column -> (text, columns, rows left) of cells above
    for number, cells in enumerate(rows):
        placed: dict[int, str] = {}
        below: dict[int, tuple[str, int, int]] = {}
        column = 0
        for cell in cells:
            while column in reaching:
                text, columns, left = reaching.pop(column)
                placed[column] = text
                if left > 1:
                    below[column] = (text, columns, left - 1)
                column += columns
            text = _visible_text(cell)
            columns = _span(cell, "colspan", _MAX_COLSPAN) or 1
            down = _span(cell, "rowspan", _MAX_ROWSPAN)
            placed[column] = text
            if down != 1:
                below[column] = (text, columns, (down or len(rows) - number) - 1)
            column += columns
        for start, (text, columns, left) in reaching.items():  # cells from above past this row's own
            placed[start] = text
            if left > 1:
                below[start] = (text, columns, left - 1)
        reaching = {start: reach for start, reach in below.items() if reach[2] > 0}
        texts.append([placed[start] for start in sorted(placed)])
    return texts


def _span(cell: Tag, attribute: str, limit: int) -> int:
    """A cell's colspan or rowspan as a browser reads it: leading digits, 1 when there are none, at most `limit`."""
    digits = re.match(r"\s*(\d+)", str(cell.get(attribute) or ""))
    return min(int(digits.group(1)), limit) if digits else 1


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
