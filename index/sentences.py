"""Find sentence and paragraph boundaries as character spans of a text.

Texts come as decoded from their files, so every kind of line ending is a line break: the boundaries of
`str.splitlines` ("\\n", "\\r\\n", a lone "\\r", vertical tab, NEL, U+2028, and the separators below). A paragraph
ends at a blank line (a line holding only whitespace, of any kind) or at a separator: form feed (a page break),
the file/group/record separators \\x1c-\\x1e, or U+2029.

A table row (a line holding the cell separator of `index/table_rows.py`) is one sentence, whatever punctuation its
cells hold, and is never joined to the line before or after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.table_rows import is_table_row

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt ft vs etc inc ltd co corp no nos fig figs vol vols "
    "jan feb mar apr jun jul aug sep sept oct nov dec gen col lt sgt capt rev hon est "
    "approx dept univ assn bros e.g i.e cf al ca op cit ed eds p pp u.s u.k u.n".split()
)
_LINE_BREAK = r"(?:\r\n|\r(?!\n)|[\n\x0b\x85\u2028])"  # "\r\n" is one break, never a "\r" then a "\n"
_PARAGRAPH_SEPARATOR = r"[\x0c\x1c-\x1e\u2029]"
_INLINE_SPACE = r"[^\S\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]"
_PARAGRAPH_BREAK = re.compile(rf"(?:{_LINE_BREAK}{_INLINE_SPACE}*{_LINE_BREAK}|{_PARAGRAPH_SEPARATOR})\s*")
_LINE_END = re.compile(rf"{_LINE_BREAK}|{_PARAGRAPH_SEPARATOR}")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*\s+")
_LIST_OR_HEADING = re.compile(r"\s*(?:[#>*•\-–|]|\d{1,3}[.)]\s)")
_TOKEN_BEFORE = re.compile(r"([\w.]+)[.!?…]*$")
_TOKEN_WINDOW = 32  # longer than any abbreviation; bounds the look-back so long unbroken runs stay linear
_SHORT_LINE = 60


@dataclass(frozen=True)
class SentenceSpan:
    """A sentence's character range; `paragraph` numbers the block (paragraph or line) holding it."""

    start: int
    end: int
    paragraph: int


def sentence_spans(text: str) -> list[SentenceSpan]:
    """Split `text` into sentence spans with no surrounding whitespace."""
    spans: list[SentenceSpan] = []
    blocks = [block for p_start, p_end in _paragraph_ranges(text) for block in _line_groups(text, p_start, p_end)]
    for paragraph, (b_start, b_end, is_row) in enumerate(blocks):
        pieces = [(b_start, b_end)] if is_row else _split_sentences(text, b_start, b_end)
        for s_start, s_end in pieces:
            spans.append(SentenceSpan(s_start, s_end, paragraph))
    return spans


def _paragraph_ranges(text: str) -> list[tuple[int, int]]:
    ranges = []
    position = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        ranges.append((position, match.start()))
        position = match.end()
    ranges.append((position, len(text)))
    return [_strip(text, start, end) for start, end in ranges if text[start:end].strip()]


def _line_groups(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """Join wrapped lines; break where a line ends a sentence, is short, or a list item starts. A table row is a
    group of its own: (start, end, is_row)."""
    lines = []
    line_start = start
    for line_break in _LINE_END.finditer(text, start, end):
        lines.append((line_start, line_break.start(), line_break.end()))
        line_start = line_break.end()
    lines.append((line_start, end, end))
    rows = [is_table_row(text[first:last]) for first, last, _ in lines]
    groups: list[tuple[int, int, bool]] = []
    group_start = start
    for number, (line_start, line_end, next_start) in enumerate(lines[:-1]):
        line = text[line_start:line_end].rstrip()
        hard_break = (
            not line
            or line[-1] in '.!?:;…"”’)'
            or len(line.strip()) < _SHORT_LINE
            or _LIST_OR_HEADING.match(text, next_start, end) is not None
            or rows[number]
            or rows[number + 1]
        )
        if hard_break and text[group_start:line_end].strip():
            groups.append((*_strip(text, group_start, line_end), rows[number]))
            group_start = next_start
    if text[group_start:end].strip():
        groups.append((*_strip(text, group_start, end), rows[-1]))
    return groups


def _split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    pieces = []
    piece_start = start
    for match in _SENTENCE_END.finditer(text, start, end):
        next_char = text[match.end() : match.end() + 1]
        if not next_char or not (next_char.isupper() or next_char.isdigit() or next_char in "\"'“‘(["):
            continue
        if _is_abbreviation(text[max(piece_start, match.start() + 1 - _TOKEN_WINDOW) : match.start() + 1]):
            continue
        pieces.append(_strip(text, piece_start, match.end()))
        piece_start = match.end()
    if text[piece_start:end].strip():
        pieces.append(_strip(text, piece_start, end))
    return pieces


def _is_abbreviation(before: str) -> bool:
    match = _TOKEN_BEFORE.search(before)
    if not match:
        return False
    token = match.group(1).rstrip(".").lower()
    if len(token) == 1 and token.isalpha():
        return True  # an initial, as in "J. R. R. Tolkien"
    return token in _ABBREVIATIONS


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
