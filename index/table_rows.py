"""A table row as one line of text: its cells joined by " | ".

The loaders write DOCX and HTML tables this way, one row per line, and the sentence splitter keeps every line that
holds the separator whole and on its own, so an answer drawn from a table quotes exactly one row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CELL_SEPARATOR = " | "
ESCAPED_PIPE = "\\|"  # a "|" of a cell's own text, as Markdown tables write it: never part of a separator
_WHITESPACE = re.compile(r"\s+")


def table_row(cells: Iterable[str]) -> str:
    """One line: each cell's whitespace (line breaks too) collapsed to single spaces and its own "|" escaped, so no
    cell holds a separator; empty cells at the end left out; "" when no cell holds text."""
    texts = [_WHITESPACE.sub(" ", cell).strip().replace("|", ESCAPED_PIPE) for cell in cells]
    while texts and not texts[-1]:
        texts.pop()
    return CELL_SEPARATOR.join(texts)


def table_lines(rows: Iterable[Iterable[str]]) -> list[str]:
    """Each row with text as a line (`table_row`); rows without any text are left out."""
    return [line for line in map(table_row, rows) if line]


def is_table_row(line: str) -> bool:
    """Whether a line of a document is a table row, to be kept whole and apart from its neighbours."""
    return CELL_SEPARATOR in line


def header_of(text: str, start: int) -> str:
    """The header row of the table whose row starts at `start` in `text`: the first line of the run of rows holding
    it, when that run visibly starts inside `text` (a line that is not a row before it); "" for the header itself,
    for a line that is not a row, and when the table's start is not in `text`."""
    line_end = text.find("\n", start)
    if not is_table_row(text[start : len(text) if line_end < 0 else line_end]):
        return ""
    first = start
    while first > 0:
        previous_start = text.rfind("\n", 0, first - 1) + 1
        if not is_table_row(text[previous_start : first - 1]):
            break
        first = previous_start
    if first == start or first == 0:
        return ""
    header_end = text.find("\n", first)
    return text[first:header_end]
