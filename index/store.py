"""Chroma as the single store of what is indexed: chunks with their vectors, and a manifest of documents.

A document becomes visible only when its manifest entry names the content hash its chunks carry, and each version
of a document has its own chunk records, so a run killed at any moment leaves the previous version (or nothing)
visible, never a half-written one. A journal entry names every write in progress and its writer; the next run
deletes what a dead writer left behind (`repair`). See docs/reliability.md.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np

from index import journal
from index.chroma_client import CollectionMissing, Collections, connection_for
from index.errors import StoreError
from index.models import Chunk, Document, IndexedDocument, PageSpan

_PAGE_SIZE = 2000
_DELETE_CLAUSES = 500  # documents per delete call: keeps the SQL Chroma builds small
T = TypeVar("T")
_CHUNKS_CONFIG: dict[str, Any] = {"configuration": {"hnsw": {"space": "cosine"}}}
# A chunk's text is kept in its metadata, not as the Chroma document: Chroma builds a full-text (trigram) index of
# documents that the assistant never uses (its lexical search is its own BM25), and which cost half of every chunk
# write and a third of the folder (docs/benchmarks.md).
TEXT_KEY = "text"


@dataclass(frozen=True)
class StoreSettings:
    """An on-disk Chroma folder, or a Chroma server when `host` is set."""

    path: str = ".chroma"
    host: str = ""
    port: int = 8000
    collection: str = "documents"

    @property
    def location(self) -> str:
        where = f"http://{self.host}:{self.port}" if self.host else self.path
        return f"{where} (collection {self.collection!r})"


@dataclass(frozen=True)
class StoredChunk:
    """A chunk read back from the store, with the document facts kept beside it."""

    chunk: Chunk
    source: str
    title: str
    document_sha256: str
    gap_before: str = ""


@dataclass(frozen=True)
class DocumentWrite:
    """A document with its chunks and their vectors (one row per chunk), ready to be written."""

    document: Document
    chunks: Sequence[Chunk]
    vectors: np.ndarray


class ChunkStore:
    """Reads and writes chunks, the document manifest and the write journal in Chroma."""

    def __init__(self, settings: StoreSettings = StoreSettings()):
        self.settings = settings
        self._conn = connection_for(settings)
        self._chunks_name = settings.collection
        self._manifest_name = f"{settings.collection}-manifest"
        self._journal_name = f"{settings.collection}-journal"
        self._documents_cache: tuple[int, dict[str, IndexedDocument]] | None = None
        try:
            self._read(lambda c: (c(self._chunks_name), c(self._manifest_name)), "opening the index")
        except CollectionMissing:
            with self.writing():
                self._write_op(
                    lambda c: (c(self._chunks_name, _CHUNKS_CONFIG), c(self._manifest_name, {})), "creating the index"
                )

    # --- reading -------------------------------------------------------------------------------------

    def generation(self) -> int:
        """A number that changes whenever the set of visible documents changes."""
        return int(self._read(lambda c: c.metadata(self._chunks_name), "reading the index").get("generation", 0))

    def documents(self) -> dict[str, IndexedDocument]:
        """Every complete document, by id (re-read only when the generation has moved)."""
        generation = self.generation()
        cached = self._documents_cache
        if cached is not None and cached[0] == generation:
            return dict(cached[1])
        records = self._read(lambda c: c(self._manifest_name).get(include=["metadatas"]), "reading the index")
        documents = {
            doc_id: _indexed_document(doc_id, metadata)
            for doc_id, metadata in zip(records["ids"], records["metadatas"] or [], strict=False)
        }
        self._documents_cache = (generation, documents)
        return dict(documents)

    def chunk_count(self) -> int:
        """Chunk records in the collection, visible or not."""
        return self._read(lambda c: c(self._chunks_name).count(), "counting chunks")

    def query(self, vector: np.ndarray, k: int) -> list[tuple[StoredChunk, float]]:
        """The k visible chunks nearest to `vector`, with their cosine similarity."""
        documents = self.documents()
        visible = {doc.id: doc.sha256 for doc in documents.values()}
        # The manifest's total is free (cached per generation); a Chroma count() per query is not.
        total = sum(doc.chunks for doc in documents.values())
        if total == 0 or k <= 0:
            return []
        wanted = min(total, k + 8)
        while True:
            result = self._read(
                lambda c, n=wanted: c(self._chunks_name).query(
                    query_embeddings=[vector.tolist()], n_results=n, include=["documents", "metadatas", "distances"]
                ),
                "searching the index",
            )
            hits = [
                (_stored_chunk(chunk_id, document, metadata), 1.0 - float(distance))
                for chunk_id, document, metadata, distance in zip(
                    result["ids"][0],
                    result["documents"][0],
                    result["metadatas"][0],
                    result["distances"][0],
                    strict=False,
                )
                if visible.get(metadata["document_id"]) == metadata["sha256"]
            ]
            if len(hits) >= k or len(result["ids"][0]) < wanted:
                return hits[:k]
            wanted *= 4  # left-over chunks of other versions took places: ask for more

    def iter_chunks(self, document_id: str | None = None) -> Iterator[StoredChunk]:
        """Every visible chunk (of one document when `document_id` is given), in pages."""
        visible = {doc.id: doc.sha256 for doc in self.documents().values()}
        where: dict[str, Any] | None = None
        if document_id:
            if document_id not in visible:
                return
            where = {"$and": [{"document_id": document_id}, {"sha256": visible[document_id]}]}
        offset = 0
        while True:
            page = self._read(
                lambda c, at=offset: c(self._chunks_name).get(
                    where=where, include=["documents", "metadatas"], limit=_PAGE_SIZE, offset=at
                ),
                "reading the index",
            )
            for chunk_id, document, metadata in zip(page["ids"], page["documents"], page["metadatas"], strict=False):
                if visible.get(metadata["document_id"]) == metadata["sha256"]:
                    yield _stored_chunk(chunk_id, document, metadata)
            if len(page["ids"]) < _PAGE_SIZE:
                return
            offset += _PAGE_SIZE

    def document_text(self, document_id: str) -> str:
        """Rebuild a document's full text from its chunks' offsets, checked against its hash."""
        from index.identity import sha256_text

        document = self.documents().get(document_id)
        if document is None:
            raise StoreError(f"no indexed document with id {document_id!r}")
        pieces: list[str] = []
        length = 0
        for stored in sorted(self.iter_chunks(document_id), key=lambda s: s.chunk.start):
            chunk = stored.chunk
            if chunk.start < length:  # overlap with the previous chunk
                pieces.append(chunk.text[length - chunk.start :])
            else:
                pieces.append(stored.gap_before)
                pieces.append(chunk.text)
            length = max(length, chunk.end)
        text = "".join(pieces)
        if sha256_text(text) != document.sha256:
            raise StoreError(f"the stored chunks of {document.source} do not rebuild its text; re-index it")
        return text

    def pending_writes(self) -> list[journal.Entry]:
        """Journal entries: writes in progress, or left by a writer that died (until `repair`)."""
        try:
            records = self._read(lambda c: c(self._journal_name).get(include=["metadatas"]), "reading the journal")
        except CollectionMissing:
            return []
        return [journal.Entry.from_record(i, m) for i, m in zip(records["ids"], records["metadatas"], strict=False)]

    def snapshot(self) -> dict[str, dict[str, tuple[str, dict[str, Any]]]]:
        """Every chunk and manifest record as stored (id -> (text, metadata)), visible or not: for checks."""
        result = {}
        for name, kind in ((self._chunks_name, "chunks"), (self._manifest_name, "manifest")):
            records: dict[str, tuple[str, dict[str, Any]]] = {}
            offset = 0
            while True:
                page = self._read(
                    lambda c, n=name, at=offset: c(n).get(
                        include=["documents", "metadatas"], limit=_PAGE_SIZE, offset=at
                    ),
                    "reading the index",
                )
                rows = zip(page["ids"], page["documents"], page["metadatas"], strict=False)
                records.update((record_id, _text_and_metadata(text, metadata)) for record_id, text, metadata in rows)
                if len(page["ids"]) < _PAGE_SIZE:
                    break
                offset += _PAGE_SIZE
            result[kind] = records
        return result

    # --- writing -------------------------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the right to write for a while (a whole indexing run): on an on-disk index, no other process
        may write meanwhile (IndexBusy says so at once); threads of this process share it."""
        with self._conn.writing():
            yield

    def write_documents(self, writes: Sequence[DocumentWrite], model: str) -> None:
        """Write several documents with one Chroma call of each kind: every chunk first, then the manifest
        entries that make them visible (the commit), then the deletion of their previous versions."""
        if not writes:
            return
        with self.writing():
            entries = [journal.begin(w.document.id, w.document.sha256) for w in writes]
            try:
                self._write(entries, writes, model)
            finally:
                for entry in entries:
                    journal.finish(entry)

    def _write(self, entries: list[journal.Entry], writes: Sequence[DocumentWrite], model: str) -> None:
        what = _describe_writes(writes)
        journal_records = _journal_records(entries)
        self._write_op(lambda c: c(self._journal_name, {}).upsert(**journal_records), what)
        batch = max(1, min(self._read(lambda c: c.max_batch, what), 1000))
        beat = time.monotonic()
        for record in _chunk_records(writes, batch):
            self._write_op(lambda c, r=record: c(self._chunks_name).upsert(**r), what)
            if time.monotonic() - beat > journal.HEARTBEAT_SECONDS:
                beat = time.monotonic()
                renewed = _journal_records(entries, heartbeat=time.time())
                self._write_op(lambda c, r=renewed: c(self._journal_name).upsert(**r), what)
        manifest = {
            "ids": [w.document.id for w in writes],
            "embeddings": [[1.0] for _ in writes],
            "metadatas": [_manifest_metadata(w.document, len(w.chunks), model) for w in writes],
        }
        self._write_op(lambda c: c(self._manifest_name).upsert(**manifest), what)  # the commit
        self._new_generation(what)
        own = {entry.id for entry in entries}
        self._delete_other_versions({w.document.id: {w.document.sha256} for w in writes}, exclude=own, what=what)
        self._write_op(lambda c: c(self._journal_name).delete(ids=sorted(own)), what)

    def remove_document(self, document_id: str) -> None:
        """Take a document out: first from the manifest (invisible at once), then its chunks."""
        what = f"removing document {document_id}"
        with self.writing():
            entry = journal.begin(document_id, "")
            try:
                self._write_op(lambda c: c(self._journal_name, {}).upsert(**_journal_records([entry])), what)
                self._write_op(lambda c: c(self._manifest_name).delete(ids=[document_id]), what)
                self._new_generation(what)
                self._delete_other_versions({document_id: set()}, exclude={entry.id}, what=what)
                self._write_op(lambda c: c(self._journal_name).delete(ids=[entry.id]), what)
            finally:
                journal.finish(entry)

    def repair(self) -> int:
        """Delete what writers that died left behind; returns how many documents were repaired.

        On an on-disk index (this process then writes alone) a mismatch between the chunk count and the
        manifest also triggers a full check that removes orphan chunks and hides incomplete documents.
        """
        with self.writing():
            sole = self._conn.sole_writer
            entries = self.pending_writes()
            stale = [entry for entry in entries if not journal.is_live(entry, sole_writer=sole)]
            legacy = self._legacy_pending()
            documents = {entry.document_id for entry in stale} | set(legacy)
            if documents:
                ids = sorted(documents)
                found = self._read(
                    lambda c: c(self._manifest_name).get(ids=ids, include=["metadatas"]), "repairing the index"
                )
                keep: dict[str, set[str]] = {document_id: set() for document_id in ids}
                for document_id, metadata in zip(found["ids"], found["metadatas"] or [], strict=False):
                    keep[document_id].add(str(metadata["sha256"]))
                self._delete_other_versions(keep, exclude=set(), what="repairing the index")
            if stale:
                ids = [entry.id for entry in stale]
                self._write_op(lambda c: c(self._journal_name).delete(ids=ids), "repairing the index")
            if legacy:
                self._write_op(lambda c: c(self._chunks_name).modify(metadata=self._fresh_metadata()), "repairing")
            if sole and len(stale) == len(entries):
                documents |= self._check_counts()
            return len(documents)

    def _check_counts(self) -> set[str]:
        """Delete chunks no manifest entry names; hide documents whose chunks are not all there (the next run
        indexes them again from their files). Returns the documents touched."""
        manifest = self.documents()
        if self.chunk_count() == sum(document.chunks for document in manifest.values()):
            return set()
        orphans: list[str] = []
        touched: set[str] = set()
        counts: dict[str, int] = {}
        for record_id, (_, metadata) in self.snapshot()["chunks"].items():
            document = manifest.get(str(metadata.get("document_id")))
            if document is None or document.sha256 != metadata.get("sha256"):
                orphans.append(record_id)
                touched.add(str(metadata.get("document_id")))
            else:
                counts[document.id] = counts.get(document.id, 0) + 1
        for first in range(0, len(orphans), 1000):
            part = orphans[first : first + 1000]
            self._write_op(lambda c, p=part: c(self._chunks_name).delete(ids=p), "repairing the index")
        for document_id, document in manifest.items():
            if counts.get(document_id, 0) != document.chunks:
                self.remove_document(document_id)
                touched.add(document_id)
        return touched

    def _delete_other_versions(self, keep: dict[str, set[str]], exclude: set[str], what: str) -> None:
        """Delete each document's chunks of versions other than those in `keep[document_id]` and those live
        writers are writing, with one call for all of them."""
        sole = self._conn.sole_writer
        keep = {document_id: set(versions) for document_id, versions in keep.items()}
        for entry in self.pending_writes():
            if entry.document_id in keep and entry.id not in exclude and journal.is_live(entry, sole_writer=sole):
                keep[entry.document_id].add(entry.sha256)
        clauses: list[dict[str, Any]] = []
        for document_id, versions in sorted(keep.items()):
            versions.discard("")
            clause: dict[str, Any] = {"document_id": document_id}
            if versions:
                clause = {"$and": [clause, {"sha256": {"$nin": sorted(versions)}}]}
            clauses.append(clause)
        for first in range(0, len(clauses), _DELETE_CLAUSES):
            part = clauses[first : first + _DELETE_CLAUSES]
            where = part[0] if len(part) == 1 else {"$or": part}
            self._write_op(lambda c, w=where: c(self._chunks_name).delete(where=w), what)

    def _new_generation(self, what: str) -> None:
        self._write_op(lambda c: c(self._chunks_name).modify(metadata=self._fresh_metadata()), what)

    def _fresh_metadata(self) -> dict[str, Any]:
        # A random value, not a counter: two writers cannot lose each other's change to it.
        return {"generation": secrets.randbits(52), "pending": ""}

    def _legacy_pending(self) -> list[str]:
        """Documents marked pending by the earlier design (a list in the collection's metadata)."""
        metadata = self._read(lambda c: c.metadata(self._chunks_name), "reading the index")
        return [doc_id for doc_id in str(metadata.get("pending", "")).split(",") if doc_id]

    def _read(self, fn: Callable[[Collections], T], what: str) -> T:
        return self._conn.run(fn, what)

    def _write_op(self, fn: Callable[[Collections], T], what: str) -> T:
        return self._conn.run(fn, what, writes=True)


def _gaps_before(text: str, chunks: Sequence[Chunk]) -> list[str]:
    """The text between each chunk and the end of the previous one (whitespace), to rebuild the document."""
    gaps = []
    covered = 0
    for chunk in chunks:
        gaps.append(text[covered : chunk.start] if chunk.start > covered else "")
        covered = max(covered, chunk.end)
    return gaps


def _chunk_metadata(document: Document, chunk: Chunk, gap_before: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        TEXT_KEY: chunk.text,
        "chunk_id": chunk.id,
        "document_id": document.id,
        "source": document.source,
        "title": document.title,
        "sha256": document.sha256,
        "ordinal": chunk.ordinal,
        "start": chunk.start,
        "end": chunk.end,
        "gap_before": gap_before,
    }
    if chunk.page is not None:
        metadata["page"] = chunk.page
    return metadata


def _manifest_metadata(document: Document, chunks: int, model: str) -> dict[str, Any]:
    return {
        "source": document.source,
        "title": document.title,
        "sha256": document.sha256,
        "chunks": chunks,
        "characters": len(document.text),
        "model": model,
        "indexed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pages": json.dumps([[page.number, page.start, page.end] for page in document.pages]),
    }


def _record_id(chunk: Chunk, sha256: str) -> str:
    """Each version of a document has its own records, so writing one never touches another's."""
    return f"{chunk.id}@{sha256[:16]}"


def _journal_records(entries: Sequence[journal.Entry], heartbeat: float | None = None) -> dict[str, Any]:
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


def _chunk_records(writes: Sequence[DocumentWrite], batch: int) -> Iterator[dict[str, Any]]:
    """Upsert arguments for every chunk of `writes`, at most `batch` chunks per call, across documents."""
    record: dict[str, list[Any]] = {"ids": [], "embeddings": [], "metadatas": []}
    for write in writes:
        document = write.document
        gaps = _gaps_before(document.text, write.chunks)
        for i, chunk in enumerate(write.chunks):
            record["ids"].append(_record_id(chunk, document.sha256))
            record["embeddings"].append(write.vectors[i].tolist())
            record["metadatas"].append(_chunk_metadata(document, chunk, gaps[i]))
            if len(record["ids"]) == batch:
                yield record
                record = {"ids": [], "embeddings": [], "metadatas": []}
    if record["ids"]:
        yield record


def _describe_writes(writes: Sequence[DocumentWrite]) -> str:
    first = writes[0].document.source
    return f"writing {first}" if len(writes) == 1 else f"writing {first} and {len(writes) - 1} more documents"


def _text_and_metadata(document: str | None, metadata: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """A record's text and its other metadata: the text is a metadata value (older indexes kept it as the
    Chroma document, which is read where the metadata has none)."""
    metadata = dict(metadata or {})
    text = metadata.pop(TEXT_KEY, None)
    return (document or "") if text is None else str(text), metadata


def _stored_chunk(record_id: str, document: str | None, metadata: dict[str, Any]) -> StoredChunk:
    text, metadata = _text_and_metadata(document, metadata)
    chunk = Chunk(
        id=str(metadata.get("chunk_id") or record_id),
        document_id=metadata["document_id"],
        ordinal=int(metadata["ordinal"]),
        start=int(metadata["start"]),
        end=int(metadata["end"]),
        text=text,
        page=metadata.get("page"),
    )
    return StoredChunk(chunk, metadata["source"], metadata["title"], metadata["sha256"], metadata.get("gap_before", ""))


def _indexed_document(doc_id: str, metadata: dict[str, Any]) -> IndexedDocument:
    return IndexedDocument(
        id=doc_id,
        source=metadata["source"],
        title=metadata["title"],
        sha256=metadata["sha256"],
        chunks=int(metadata["chunks"]),
        characters=int(metadata["characters"]),
        indexed_at=metadata["indexed_at"],
        pages=tuple(PageSpan(*page) for page in json.loads(metadata.get("pages") or "[]")),
    )
