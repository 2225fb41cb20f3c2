"""How documents, chunks and journal entries are laid out as Chroma records, and read back.

Record ids are versioned per document content (`<chunk id>@<first 16 hex of the document's sha256>`), so writing a
new version never touches the records of the visible one. A chunk's text is the Chroma document and its offsets,
source and document id are metadata: the usual layout, which other Chroma clients (langchain_chroma.Chroma) read.
It costs a full-text (trigram) index that local Chroma builds of every document and the assistant never uses
(docs/benchmarks.md). Index formats 3 and before kept the text as a metadata value (`text`); such records are
still read, and the next indexing run moves their texts in place (index/relayout.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from index import journal
from index.models import Chunk, Document, IndexedDocument, PageSpan

TEXT_KEY = "text"  # where index formats 3 and before kept a chunk's text


@dataclass(frozen=True)
class StoredChunk:
    """A chunk read back from the store, with the document facts kept beside it."""

    chunk: Chunk
    source: str
    title: str
    document_sha256: str
    gap_before: str = ""  # the document's text between the previous chunk (or its start) and this one
    gap_after: str = ""  # on the last chunk: the document's text after it (trailing whitespace), else ""


@dataclass(frozen=True)
class DocumentWrite:
    """A document with its chunks and their vectors (one row per chunk), ready to be written."""

    document: Document
    chunks: Sequence[Chunk]
    vectors: np.ndarray


def gaps(text: str, chunks: Sequence[Chunk]) -> list[tuple[str, str]]:
    """For each chunk, the text between it and the previous one (or the start) and, for the last one, the text
    after it: with the chunks, every character of the document, so that they rebuild it exactly."""
    found = []
    covered = 0
    for chunk in chunks:
        found.append((text[covered : chunk.start] if chunk.start > covered else "", ""))
        covered = max(covered, chunk.end)
    if found:
        found[-1] = (found[-1][0], text[covered:])
    return found


def chunk_metadata(document: Document, chunk: Chunk, gap_before: str, gap_after: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "chunk_id": chunk.id,
        "document_id": document.id,
        "source": document.source,
        "title": document.title,
        "sha256": document.sha256,
        "ordinal": chunk.ordinal,
        "start": chunk.start,
        "end": chunk.end,
        "gap_before": gap_before,
        "gap_after": gap_after,
    }
    if chunk.page is not None:
        metadata["page"] = chunk.page
    return metadata


def manifest_metadata(document: Document, chunks: int, model: str, chunking: str, index_format: int) -> dict[str, Any]:
    return {
        "source": document.source,
        "title": document.title,
        "sha256": document.sha256,
        "chunks": chunks,
        "characters": len(document.text),
        "model": model,
        "indexed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pages": json.dumps(
            [[page.number, page.start, page.end, *([1] if page.ocr else [])] for page in document.pages]
        ),
        "file_type": document.file_type,
        "encoding": document.encoding,
        "file_sha256": document.file_sha256,
        "chunking": chunking,
        "index_format": index_format,
    }


def manifest_records(writes: Sequence[DocumentWrite], model: str, chunking: str, index_format: int) -> dict[str, Any]:
    """Upsert arguments for the manifest entries of `writes` (each with a placeholder vector)."""
    return {
        "ids": [w.document.id for w in writes],
        "embeddings": [[1.0] for _ in writes],
        "metadatas": [manifest_metadata(w.document, len(w.chunks), model, chunking, index_format) for w in writes],
    }


def versioned_record_id(chunk: Chunk, sha256: str) -> str:
    """Each version of a document has its own records, so writing one never touches another's."""
    return f"{chunk.id}@{sha256[:16]}"


def journal_records(entries: Sequence[journal.Entry], heartbeat: float | None = None) -> dict[str, Any]:
    metadatas = []
    for entry in entries:
        metadata = entry.metadata()
        if heartbeat is not None:
            metadata["heartbeat"] = heartbeat
        metadatas.append(metadata)
    return {
        "ids": [entry.id for entry in entries],
        "embeddings": [[1.0] for _ in entries],
        "metadatas": metadatas,
    }


def chunk_records(writes: Sequence[DocumentWrite], batch: int) -> Iterator[dict[str, Any]]:
    """Upsert arguments for every chunk of `writes`, at most `batch` chunks per call, across documents."""
    record: dict[str, list[Any]] = {"ids": [], "embeddings": [], "documents": [], "metadatas": []}
    for write in writes:
        document = write.document
        around = gaps(document.text, write.chunks)
        for i, chunk in enumerate(write.chunks):
            record["ids"].append(versioned_record_id(chunk, document.sha256))
            record["embeddings"].append(write.vectors[i].tolist())
            record["documents"].append(chunk.text)
            record["metadatas"].append(chunk_metadata(document, chunk, *around[i]))
            if len(record["ids"]) == batch:
                yield record
                record = {"ids": [], "embeddings": [], "documents": [], "metadatas": []}
    if record["ids"]:
        yield record


def other_versions(keep: dict[str, set[str]]) -> list[dict[str, Any]]:
    """A `where` clause for each document: its chunk records of versions other than `keep[document_id]` (all of
    them when it names none)."""
    clauses: list[dict[str, Any]] = []
    for document_id, versions in sorted(keep.items()):
        named = sorted(versions - {""})
        clause: dict[str, Any] = {"document_id": document_id}
        clauses.append({"$and": [clause, {"sha256": {"$nin": named}}]} if named else clause)
    return clauses


def rebuild_text(chunks: Iterable[tuple[int, int, str, str, str]]) -> str:
    """A document's text from its chunks as (start, end, gap before, text, gap after), in any order: overlaps are
    kept once and the gaps (the whitespace around chunks) put back."""
    pieces: list[str] = []
    length = 0
    for start, end, gap_before, text, gap_after in sorted(chunks, key=lambda chunk: chunk[0]):
        pieces.extend([text[length - start :]] if start < length else [gap_before, text])
        pieces.append(gap_after)
        length = max(length, end)
    return "".join(pieces)


def describe_writes(writes: Sequence[DocumentWrite]) -> str:
    first = writes[0].document.source
    return f"writing {first}" if len(writes) == 1 else f"writing {first} and {len(writes) - 1} more documents"


def describe_removal(document_ids: Sequence[str]) -> str:
    more = f" and {len(document_ids) - 1} more" if document_ids[1:] else ""
    return f"removing document {document_ids[0]}{more}"


def text_and_metadata(document: str | None, metadata: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """A record's text and its other metadata: the text is the Chroma document, or, in a record of index format 3
    and before, a metadata value."""
    metadata = dict(metadata or {})
    text = metadata.pop(TEXT_KEY, None)
    return (document or "") if text is None else str(text), metadata


def relaid(metadata: dict[str, Any] | None) -> tuple[str, dict[str, Any]] | None:
    """For a chunk record of index format 3 and before (its text a metadata value): the Chroma document and the
    metadata update that lay it out as chunk_records does now; None for a record laid out so already."""
    if not metadata or TEXT_KEY not in metadata:
        return None
    return str(metadata[TEXT_KEY]), {TEXT_KEY: None}  # an update's None deletes the key


def stored_chunk(record_id: str, document: str | None, metadata: dict[str, Any]) -> StoredChunk:
    text, metadata = text_and_metadata(document, metadata)
    chunk = Chunk(
        id=str(metadata.get("chunk_id") or record_id),
        document_id=metadata["document_id"],
        ordinal=int(metadata["ordinal"]),
        start=int(metadata["start"]),
        end=int(metadata["end"]),
        text=text,
        page=metadata.get("page"),
    )
    facts = (metadata["source"], metadata["title"], metadata["sha256"])
    return StoredChunk(chunk, *facts, metadata.get("gap_before", ""), metadata.get("gap_after", ""))


def indexed_document(doc_id: str, metadata: dict[str, Any]) -> IndexedDocument:
    return IndexedDocument(
        id=doc_id,
        source=metadata["source"],
        title=metadata["title"],
        sha256=metadata["sha256"],
        chunks=int(metadata["chunks"]),
        characters=int(metadata["characters"]),
        indexed_at=metadata["indexed_at"],
        pages=tuple(_page_span(page) for page in json.loads(metadata.get("pages") or "[]")),
        file_type=str(metadata.get("file_type", "")),
        encoding=str(metadata.get("encoding", "")),
        file_sha256=str(metadata.get("file_sha256", "")),
        model=str(metadata.get("model", "")),
        chunking=str(metadata.get("chunking", "")),
        index_format=int(metadata.get("index_format", 1)),
    )


def _stored_page(page: PageSpan) -> list[int]:
    return [page.number, page.start, page.end, *([1] if page.ocr else [])]


def _page_span(stored: list[int]) -> PageSpan:
    """[number, start, end], and a fourth item 1 for a page read by OCR."""
    number, start, end = stored[:3]
    return PageSpan(number, start, end, ocr=len(stored) > 3 and bool(stored[3]))
