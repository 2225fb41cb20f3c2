"""Split a document into overlapping chunks that follow sentence and paragraph boundaries."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from index.identity import chunk_id
from index.models import Chunk, Document
from index.sentences import SentenceSpan, sentence_spans

_WORD_BREAK = re.compile(r"\s+")


@dataclass(frozen=True)
class ChunkingSettings:
    """Target chunk size and overlap, in characters."""

    size: int = 800
    overlap: int = 200

    @property
    def label(self) -> str:
        """`size/overlap`, as the manifest records it for each document."""
        return f"{self.size}/{self.overlap}"

    def __post_init__(self) -> None:
        if self.size < 50:
            raise ValueError(f"chunk size must be >= 50 characters, got {self.size}")
        if not 0 <= self.overlap < self.size:
            raise ValueError(f"chunk overlap must be >= 0 and < size ({self.size}), got {self.overlap}")


def chunk_document(document: Document, settings: ChunkingSettings = ChunkingSettings()) -> list[Chunk]:
    """Return the document's chunks; each satisfies `document.text[start:end] == text`."""
    units = _bounded_units(document.text, sentence_spans(document.text), settings.size)
    ranges = _pack(units, settings)
    return [
        Chunk(
            id=chunk_id(document.id, document.text[start:end], ordinal),
            document_id=document.id,
            ordinal=ordinal,
            start=start,
            end=end,
            text=document.text[start:end],
            page=document.page_at(start),
        )
        for ordinal, (start, end) in enumerate(ranges)
    ]


def _bounded_units(text: str, spans: list[SentenceSpan], size: int) -> list[SentenceSpan]:
    """Cut sentences longer than `size` at word breaks so that every unit fits in a chunk."""
    units = []
    for span in spans:
        start = span.start
        while span.end - start > size:
            cut = _last_word_break(text, start, start + size)
            units.append(SentenceSpan(start, cut, span.paragraph))
            start = cut
            while start < span.end and text[start].isspace():
                start += 1
        if start < span.end:
            units.append(SentenceSpan(start, span.end, span.paragraph))
    return units


def _last_word_break(text: str, start: int, limit: int) -> int:
    """Where to cut text[start:limit]: at its last whitespace; in a word longer than a chunk, at `limit` moved back
    off combining marks so that a letter keeps its accents."""
    breaks = [m.start() for m in _WORD_BREAK.finditer(text, start + 1, limit)]
    if breaks:
        return breaks[-1]
    cut = limit
    while cut - 1 > start and unicodedata.combining(text[cut]):
        cut -= 1
    return cut


def _pack(units: list[SentenceSpan], settings: ChunkingSettings) -> list[tuple[int, int]]:
    """Group consecutive units into chunks; close early at a paragraph end past half size."""
    ranges: list[tuple[int, int]] = []
    first = 0
    while first < len(units):
        last = first
        while last + 1 < len(units) and units[last + 1].end - units[first].start <= settings.size:
            at_paragraph_end = units[last + 1].paragraph != units[last].paragraph
            if at_paragraph_end and units[last].end - units[first].start >= settings.size // 2:
                break
            last += 1
        ranges.append((units[first].start, units[last].end))
        if last + 1 >= len(units):
            break
        first = _overlap_start(units, first, last, settings.overlap)
    return ranges


def _overlap_start(units: list[SentenceSpan], first: int, last: int, overlap: int) -> int:
    """Start the next chunk with the trailing sentences of this one that fit in `overlap`."""
    following = last + 1
    if overlap == 0 or units[following].paragraph != units[last].paragraph:
        return following
    start = following
    while start - 1 > first and units[last].end - units[start - 1].start <= overlap:
        start -= 1
    return start
