"""Bringing the records of documents written in an earlier index format to the current one in place (the changes
marked `in_place` in index/migrations.py): today, chunk texts kept as a metadata value (formats 3 and before)
become Chroma documents.

Nothing is embedded again and no file is read. Each record is updated under its own id, whole, so a reader finds it
in the old layout or the new one (and reads both); then the document's manifest entry records the current format.
A run stopped at any moment leaves every chunk there once; the next run moves what is left (records moved already
are skipped), and a document whose entry is gone meanwhile is not brought back (an update creates nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from index.chroma_client import Collections, Connection, collection_call, page_query
from index.migrations import CURRENT
from index.models import IndexedDocument
from index.records import relaid

BATCH_CHUNKS = 1000  # records updated per Chroma call; documents are grouped up to this many chunks
_PAGE_SIZE = 2000
_WHAT = "moving chunk texts into Chroma documents"


@dataclass
class Moves:
    """Records to lay out anew: their ids, their Chroma documents and the updates of their metadata."""

    ids: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    metadatas: list[dict[str, Any]] = field(default_factory=list)


def move_in_place(conn: Connection, chunks: str, manifest: str, documents: Sequence[IndexedDocument]) -> None:
    """Lay out the chunk records of `documents` as the current format does, then record that format in their
    manifest entries, a group of documents at a time."""
    for group in _groups(documents):
        ids = [document.id for document in group]
        moves = _moves(conn, chunks, ids)
        for first in range(0, len(moves.ids), BATCH_CHUNKS):
            part = slice(first, first + BATCH_CHUNKS)
            update = _update_call(chunks, moves.ids[part], moves.documents[part], moves.metadatas[part])
            conn.run(update, _WHAT, writes=True)
        formats = [{"index_format": CURRENT} for _ in ids]
        conn.run(collection_call(manifest, "update", ids=ids, metadatas=formats), _WHAT, writes=True)


def update_records(collection: Any, ids: list[str], documents: list[str], metadatas: list[dict[str, Any]]) -> None:
    """Set these records' Chroma documents and update their metadata; their vectors stay.

    `Collection.update` takes no documents without vectors on a collection with no embedding function (it would
    compute them), and the stored vectors sent back make Chroma place them in its vector index again: 165 records a
    second where the documents alone take 1,500 (docs/benchmarks.md). So the call that `update` makes once it has
    checked its arguments is made here directly; a Chroma client without it gets the stored vectors back.
    """
    try:
        collection._client._update(
            collection_id=collection.id,
            ids=ids,
            embeddings=None,
            metadatas=metadatas,
            documents=documents,
            uris=None,
            tenant=collection.tenant,
            database=collection.database,
        )
        return
    except Exception:  # another Chroma's internals, or a server that wants vectors: the public call below is right
        pass
    stored = collection.get(ids=ids, include=["embeddings"])
    vectors = dict(zip(stored["ids"], stored["embeddings"], strict=True))
    kept = [i for i, record_id in enumerate(ids) if record_id in vectors]  # a record deleted meanwhile stays gone
    if kept:
        collection.update(
            ids=[ids[i] for i in kept],
            embeddings=[vectors[ids[i]] for i in kept],
            documents=[documents[i] for i in kept],
            metadatas=[metadatas[i] for i in kept],
        )


def _update_call(
    name: str, ids: list[str], documents: list[str], metadatas: list[dict[str, Any]]
) -> Callable[[Collections], None]:
    def call(collections: Collections) -> None:
        update_records(collections(name), ids, documents, metadatas)

    return call


def _moves(conn: Connection, chunks: str, document_ids: list[str]) -> Moves:
    """The records of these documents still laid out the earlier way (all read before any is changed: pages
    taken by offset must not shift under the updates)."""
    where: dict[str, Any] = (
        {"document_id": document_ids[0]} if len(document_ids) == 1 else {"document_id": {"$in": document_ids}}
    )
    moves = Moves()
    offset = 0
    while True:
        page = conn.run(page_query(chunks, where, offset, _PAGE_SIZE), _WHAT)
        for record_id, metadata in zip(page["ids"], page["metadatas"], strict=True):
            found = relaid(metadata)
            if found is not None:
                moves.ids.append(record_id)
                moves.documents.append(found[0])
                moves.metadatas.append(found[1])
        if len(page["ids"]) < _PAGE_SIZE:
            return moves
        offset += _PAGE_SIZE


def _groups(documents: Sequence[IndexedDocument]) -> Iterator[list[IndexedDocument]]:
    """The documents in groups of at most BATCH_CHUNKS chunks (a larger document alone)."""
    group: list[IndexedDocument] = []
    size = 0
    for document in documents:
        if group and size + document.chunks > BATCH_CHUNKS:
            yield group
            group, size = [], 0
        group.append(document)
        size += document.chunks
    if group:
        yield group
