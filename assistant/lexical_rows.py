"""The chunks of one lexical segment, kept as columns: what a document's chunks share is held once, numbers in
arrays, and every chunk text in one UTF-8 buffer, which a loaded segment maps from its file instead of reading.

At 1,000,000 chunks, rows as Python tuples of strings took about 1.5 GB; as columns, with the texts mapped, the
memory they hold is a small part of that, and only the texts of the chunks an answer shows are read from disk
(docs/benchmarks.md, Scale).
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from index.models import Chunk
from index.records import StoredChunk

NO_PAGE = -1


class LexicalRow(NamedTuple):
    """One chunk as the lexical index holds it."""

    chunk_id: str
    document_id: str
    ordinal: int
    start: int
    end: int
    page: int | None
    source: str
    title: str
    document_sha256: str
    gap_before: str
    text: str
    gap_after: str

    def stored(self) -> StoredChunk:
        chunk = Chunk(self.chunk_id, self.document_id, self.ordinal, self.start, self.end, self.text, self.page)
        return StoredChunk(chunk, self.source, self.title, self.document_sha256, self.gap_before, self.gap_after)


class DocumentFacts(NamedTuple):
    """What every chunk of one document version shares."""

    document_id: str
    source: str
    title: str
    sha256: str


class RowTable(Sequence[LexicalRow]):
    """The rows of a segment, by position."""

    def __init__(
        self,
        chunk_ids: list[str],
        documents: list[DocumentFacts],
        numbers: np.ndarray,  # per row: document (index into documents), ordinal, start, end, page, gap before, after
        gaps: list[str],
        text_offsets: np.ndarray,  # byte offsets into texts, one more than rows
        texts: bytes | mmap.mmap,
    ):
        self.chunk_ids, self.documents, self.numbers, self.gaps = chunk_ids, documents, numbers, gaps
        self.text_offsets, self.texts = text_offsets, texts

    @classmethod
    def of(cls, chunks: Sequence[StoredChunk]) -> RowTable:
        documents: dict[DocumentFacts, int] = {}
        gaps: dict[str, int] = {"": 0}
        numbers = np.empty((len(chunks), 7), dtype=np.int64)
        encoded = [stored.chunk.text.encode("utf-8") for stored in chunks]
        for position, stored in enumerate(chunks):
            c = stored.chunk
            facts = DocumentFacts(c.document_id, stored.source, stored.title, stored.document_sha256)
            document = documents.setdefault(facts, len(documents))
            before = gaps.setdefault(stored.gap_before, len(gaps))
            after = gaps.setdefault(stored.gap_after, len(gaps))
            page = NO_PAGE if c.page is None else c.page
            numbers[position] = (document, c.ordinal, c.start, c.end, page, before, after)
        ids = [stored.chunk.id for stored in chunks]
        return cls(ids, list(documents), numbers, list(gaps), *_packed(encoded))

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def __getitem__(self, position):
        if isinstance(position, slice):
            raise TypeError("a RowTable is read one row at a time")
        document, ordinal, start, end, page, before, after = (int(n) for n in self.numbers[position])
        facts = self.documents[document]
        text = self._text(position).decode("utf-8")
        gap_before, gap_after = self.gaps[before], self.gaps[after]
        return LexicalRow(
            self.chunk_ids[position], facts.document_id, ordinal, start, end, None if page == NO_PAGE else page,
            facts.source, facts.title, facts.sha256, gap_before, text, gap_after,
        )  # fmt: skip

    def __iter__(self) -> Iterator[LexicalRow]:
        return (self[position] for position in range(len(self)))

    def document_rows(self) -> np.ndarray:
        """Per row, the position of its document in `documents`."""
        return self.numbers[:, 0]

    def kept(self, mask: np.ndarray) -> RowTable:
        """The rows where `mask` is true, in order."""
        positions = np.flatnonzero(mask)
        ids = [self.chunk_ids[p] for p in positions]
        texts = _packed([self._text(int(p)) for p in positions])
        return RowTable(ids, self.documents, self.numbers[positions], self.gaps, *texts)

    def _text(self, position: int) -> bytes:
        """The UTF-8 text of one row (a slice of a mapped file is read from it)."""
        return self.texts[int(self.text_offsets[position]) : int(self.text_offsets[position + 1])]


def joined(tables: Sequence[RowTable]) -> RowTable:
    """One table of the rows of `tables`, in order (their documents and gaps merged)."""
    documents: dict[DocumentFacts, int] = {}
    gaps: dict[str, int] = {}
    parts, ids, texts, offsets, size = [], [], [], [np.zeros(1, dtype=np.int64)], 0
    for table in tables:
        numbers = table.numbers.copy()
        document_map = np.asarray([documents.setdefault(d, len(documents)) for d in table.documents], dtype=np.int64)
        gap_map = np.asarray([gaps.setdefault(g, len(gaps)) for g in table.gaps], dtype=np.int64)
        if len(numbers):
            numbers[:, 0] = document_map[numbers[:, 0]]
            numbers[:, 5:] = gap_map[numbers[:, 5:]]
        parts.append(numbers)
        ids += table.chunk_ids
        texts.append(bytes(table.texts[: int(table.text_offsets[-1])]))
        offsets.append(table.text_offsets[1:] + size)
        size += int(table.text_offsets[-1])
    numbers = np.concatenate(parts) if parts else np.empty((0, 7), dtype=np.int64)
    return RowTable(ids, list(documents), numbers, list(gaps), np.concatenate(offsets), b"".join(texts))


def _packed(texts: list[bytes]) -> tuple[np.ndarray, bytes]:
    """Byte offsets (one more than texts) and the texts joined into one buffer."""
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(text) for text in texts], out=offsets[1:])
    return offsets, b"".join(texts)


def save_rows(table: RowTable, stem: Path) -> dict[str, Any]:
    """Write the texts to `<stem>.texts` and the string columns to `<stem>.rows.json`; returns the arrays to save
    with the segment."""
    columns = {"chunk_ids": table.chunk_ids, "documents": table.documents, "gaps": table.gaps}
    _replace(stem.with_name(f"{stem.name}.texts"), bytes(table.texts[: int(table.text_offsets[-1])]))
    _replace(stem.with_name(f"{stem.name}.rows.json"), json.dumps(columns).encode())
    return {"numbers": table.numbers, "text_offsets": table.text_offsets}


def load_rows(stem: Path, numbers: np.ndarray, text_offsets: np.ndarray) -> RowTable:
    """The table saved by `save_rows`, its texts mapped from the file (read from disk only when a row is read)."""
    columns = json.loads(stem.with_name(f"{stem.name}.rows.json").read_text())
    documents = [DocumentFacts(*facts) for facts in columns["documents"]]
    with open(stem.with_name(f"{stem.name}.texts"), "rb") as handle:
        size = handle.seek(0, 2)
        texts: bytes | mmap.mmap = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
    if int(text_offsets[-1]) != size or len(numbers) != len(columns["chunk_ids"]):
        raise ValueError(f"the saved rows of {stem.name} do not match their texts")
    return RowTable(columns["chunk_ids"], documents, numbers, columns["gaps"], text_offsets, texts)


def _replace(path: Path, data: bytes) -> None:
    """Write a new file in place of `path`: a process that has the old one mapped keeps reading the old one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
