"""Chroma as the single store of what is indexed: chunks with their vectors, and a manifest of documents.

A document becomes visible only when its manifest entry names the content hash its chunks carry, and each version
of a document has its own chunk records, so a run killed at any moment leaves the previous version (or nothing)
visible, never a half-written one. A journal entry names every write in progress and its writer; the next run
deletes what a dead writer left behind (`repair`). How records are laid out: index/records.py. See
docs/reliability.md and docs/architecture.md.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, TypeVar

import numpy as np

from index import journal
from index.chroma_client import (
    CollectionMissing,
    Collections,
    StoreSettings,
    collection_call,
    connection_for,
    nearest_query,
    page_query,
    vectors_query,
)
from index.damage import damage_reports
from index.errors import StoreError
from index.identity import sha256_text
from index.migrations import CURRENT, moves_in_place
from index.models import IndexedDocument, IndexProfile, IndexState
from index.profile import check_profile, profile_metadata, recorded_profile
from index.records import (
    DocumentWrite,
    StoredChunk,
    chunk_records,
    describe_removal,
    describe_writes,
    indexed_document,
    journal_records,
    manifest_records,
    other_versions,
    rebuild_text,
    stored_chunk,
    text_and_metadata,
    versioned_record_id,
)
from index.relayout import move_in_place

_PAGE_SIZE = 2000
_DELETE_CLAUSES = 500  # documents per delete call: keeps the SQL Chroma builds small
T = TypeVar("T")
_CHUNKS_CONFIG: dict[str, Any] = {"configuration": {"hnsw": {"space": "cosine"}}}


class ChunkStore:
    """Reads and writes chunks, the document manifest and the write journal in Chroma."""

    def __init__(self, settings: StoreSettings = StoreSettings()):
        self.settings = settings
        self._conn = connection_for(settings)
        self._chunks_name = settings.collection
        self._manifest_name = f"{settings.collection}-manifest"
        self._journal_name = f"{settings.collection}-journal"
        self._state: IndexState | None = None
        self.damage = damage_reports(self._conn, settings.collection)
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
        return int(self._collection_metadata().get("generation", 0))

    def state(self) -> IndexState:
        """What is visible now: one Chroma call for the generation; the manifest is read again only when the
        generation has moved since the last call."""
        return self._state_from(self._collection_metadata())

    def _collection_metadata(self) -> dict[str, Any]:
        """The chunk collection's metadata: the generation and the index profile (one Chroma call)."""
        return self._read(lambda c: c.metadata(self._chunks_name), "reading the index")

    def _state_from(self, metadata: dict[str, Any]) -> IndexState:
        generation = int(metadata.get("generation", 0))
        cached = self._state
        if cached is not None and cached.generation == generation:
            return cached
        records = self._read(lambda c: c(self._manifest_name).get(include=["metadatas"]), "reading the index")
        documents = {
            doc_id: indexed_document(doc_id, metadata)
            for doc_id, metadata in zip(records["ids"], records["metadatas"] or [], strict=False)
        }
        state = IndexState(generation, MappingProxyType(documents), recorded_profile(metadata, documents))
        self._state = state
        return state

    def documents(self) -> dict[str, IndexedDocument]:
        """Every complete document, by id."""
        return dict(self.state().documents)

    def chunk_count(self) -> int:
        """Chunk records in the collection, visible or not."""
        return self._read(lambda c: c(self._chunks_name).count(), "counting chunks")

    def query(
        self,
        vector: np.ndarray,
        k: int,
        state: IndexState | None = None,
        leave_out: Collection[str] = (),
        within: Collection[str] | None = None,
    ) -> list[tuple[StoredChunk, float]]:
        """The k chunks nearest to `vector` among those visible in `state` (read now when not given), of the
        documents named in `within` (None: all) but those in `leave_out`, with their cosine similarity. One Chroma
        call, unless left-over records of other versions (or left-out documents) took the places."""
        state = state or self.state()
        versions, total = state.searched(within, leave_out)  # the total from the manifest: no Chroma count() per query
        where = None if within is None else {"document_id": {"$in": sorted(versions)}}
        if total == 0 or k <= 0:
            return []
        wanted = min(total, k + 8)
        while True:
            result = self._read(nearest_query(self._chunks_name, vector, wanted, where), "searching the index")
            found = (result[key][0] for key in ("ids", "documents", "metadatas", "distances"))
            hits = [
                (stored_chunk(chunk_id, document, metadata), 1.0 - float(distance))
                for chunk_id, document, metadata, distance in zip(*found, strict=False)
                if versions.get(metadata["document_id"]) == metadata["sha256"]
            ]
            if len(hits) >= min(k, total) or len(result["ids"][0]) < wanted:
                return hits[:k]
            wanted *= 4  # left-over chunks of other versions took places: ask for more

    def vectors_of(self, chunks: Sequence[StoredChunk]) -> tuple[list[StoredChunk], np.ndarray]:
        """The stored vectors of these chunks, a row each (one Chroma call); any whose record is gone are left out."""
        by_id = {versioned_record_id(stored.chunk, stored.document_sha256): stored for stored in chunks}
        found = self._read(vectors_query(self._chunks_name, list(by_id)), "searching the index")
        return [by_id[record_id] for record_id in found["ids"]], np.asarray(found["embeddings"], dtype=np.float32)

    def iter_chunks(
        self, documents: str | Sequence[str] | None = None, state: IndexState | None = None
    ) -> Iterator[StoredChunk]:
        """Every chunk visible in `state` (read now when not given), or those of the documents named (an id, or
        several: one read for as many as fit a page, where paging the whole collection costs more at every page)."""
        versions = (state or self.state()).versions
        named = [documents] if isinstance(documents, str) else list(documents or ())
        where: dict[str, Any] | None = {"document_id": {"$in": named}} if len(named) > 1 else None
        if len(named) == 1:  # a version not visible (or no document) matches nothing
            where = {"$and": [{"document_id": named[0]}, {"sha256": versions.get(named[0], "")}]}
        for page in self._pages(self._chunks_name, where):
            for chunk_id, document, metadata in zip(page["ids"], page["documents"], page["metadatas"], strict=False):
                if versions.get(metadata["document_id"]) == metadata["sha256"]:
                    yield stored_chunk(chunk_id, document, metadata)

    def document_text(self, document_id: str, state: IndexState | None = None) -> str:
        """Rebuild a document's full text from its chunks' offsets, checked against its hash."""
        state = state or self.state()
        document = state.documents.get(document_id)
        if document is None:
            raise StoreError(f"no indexed document with id {document_id!r}")
        chunks = self.iter_chunks(document_id, state)
        text = rebuild_text((s.chunk.start, s.chunk.end, s.gap_before, s.chunk.text, s.gap_after) for s in chunks)
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

    def records(self) -> dict[str, dict[str, tuple[str, dict[str, Any]]]]:
        """Every chunk and manifest record as stored (id -> (text, metadata)), visible or not: for checks."""
        result = {}
        for name, kind in ((self._chunks_name, "chunks"), (self._manifest_name, "manifest")):
            records: dict[str, tuple[str, dict[str, Any]]] = {}
            for page in self._pages(name, None):
                rows = zip(page["ids"], page["documents"], page["metadatas"], strict=False)
                records.update((record_id, text_and_metadata(text, metadata)) for record_id, text, metadata in rows)
            result[kind] = records
        return result

    def _pages(self, name: str, where: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
        """The records of collection `name` (matching `where`), a page of ids, texts and metadata at a time."""
        offset = 0
        while True:
            page = self._read(page_query(name, where, offset, _PAGE_SIZE), "reading the index")
            yield page
            if len(page["ids"]) < _PAGE_SIZE:
                return
            offset += _PAGE_SIZE

    # --- writing -------------------------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the right to write for a while (a whole indexing run): on an on-disk index, no other process
        may write meanwhile (IndexBusy says so at once); threads of this process share it."""
        with self._conn.writing():
            yield

    def write_documents(self, writes: Sequence[DocumentWrite], model: str, chunking: str = "") -> None:
        """Write several documents with one Chroma call of each kind: every chunk first, then the manifest
        entries that make them visible (the commit), then the deletion of their previous versions.

        Raises IndexMismatch when the index holds vectors of another model or dimension."""
        if not writes:
            return
        with self.writing():
            metadata = self._collection_metadata()
            dimension = next((int(w.vectors.shape[1]) for w in writes if len(w.chunks)), 0)
            profile = IndexProfile(model, dimension)
            if recorded_profile(metadata, {}) != profile:  # the manifest is read only when the profiles differ
                check_profile(self._state_from(metadata), profile, self.settings.location)
            entries = [journal.begin(w.document.id, w.document.sha256) for w in writes]
            try:
                self._write(entries, writes, model, chunking, {**metadata, **profile_metadata(profile)})
            finally:
                for entry in entries:
                    journal.finish(entry)

    def _write(
        self,
        entries: list[journal.Entry],
        writes: Sequence[DocumentWrite],
        model: str,
        chunking: str,
        metadata: dict[str, Any],
    ) -> None:
        what = describe_writes(writes)
        begun = journal_records(entries)
        self._write_op(lambda c: c(self._journal_name, {}).upsert(**begun), what)
        batch = max(1, min(self._read(lambda c: c.max_batch, what), 1000))
        beat = time.monotonic()
        for record in chunk_records(writes, batch):
            self._write_op(collection_call(self._chunks_name, "upsert", **record), what)
            if time.monotonic() - beat > journal.HEARTBEAT_SECONDS:
                beat = time.monotonic()
                renewed = journal_records(entries, heartbeat=time.time())
                self._write_op(collection_call(self._journal_name, "upsert", **renewed), what)
        manifest = manifest_records(writes, model, chunking, CURRENT)
        # Only a listed document has versions to delete (a dead writer's are the repair's): saves a delete by metadata
        listed = set(self._read(lambda c: c(self._manifest_name).get(ids=manifest["ids"], include=[]), what)["ids"])
        self._write_op(lambda c: c(self._manifest_name).upsert(**manifest), what)  # the commit
        self._new_generation(what, metadata)
        own = {entry.id for entry in entries}
        replaced = {w.document.id: {w.document.sha256} for w in writes if w.document.id in listed}
        self._delete_other_versions(replaced, exclude=own, what=what)
        self._write_op(lambda c: c(self._journal_name).delete(ids=sorted(own)), what)

    def upgrade(self) -> int:
        """Lay out anew the records of documents written in an earlier format where the change is made in place
        (index/relayout.py: nothing embedded again, no file read); returns how many documents."""
        with self.writing():
            documents = [doc for doc in self.state().documents.values() if moves_in_place(doc)]
            if documents:
                move_in_place(self._conn, self._chunks_name, self._manifest_name, documents)
                self._new_generation("moving chunk texts", self._collection_metadata())  # the manifest changed
            return len(documents)

    def remove_document(self, document_id: str) -> None:
        """Take a document out: first from the manifest (invisible at once), then its chunks."""
        self.remove_documents([document_id])

    def remove_documents(self, document_ids: Sequence[str]) -> None:
        """Take documents out with one Chroma call of each kind."""
        if not document_ids:
            return
        what = describe_removal(document_ids)
        with self.writing():
            entries = [journal.begin(document_id, "") for document_id in document_ids]
            try:
                self._write_op(lambda c: c(self._journal_name, {}).upsert(**journal_records(entries)), what)
                self._write_op(lambda c: c(self._manifest_name).delete(ids=list(document_ids)), what)
                self._new_generation(what, self._collection_metadata())
                own = {entry.id for entry in entries}
                self._delete_other_versions({doc_id: set() for doc_id in document_ids}, exclude=own, what=what)
                self._write_op(lambda c: c(self._journal_name).delete(ids=sorted(own)), what)
            finally:
                for entry in entries:
                    journal.finish(entry)

    def clear(self) -> None:
        """Empty the index: every document, vector and record goes, and so does its profile (model, dimension)."""
        with self.writing():
            names = (self._chunks_name, self._manifest_name, self._journal_name, f"{self._chunks_name}-damaged")

            def recreate(collections: Collections) -> None:
                for name in names:
                    collections.drop(name)
                collections(self._chunks_name, _CHUNKS_CONFIG)
                collections(self._manifest_name, {})

            self._write_op(recreate, "emptying the index")
            self._new_generation("emptying the index", {})
            self.damage.clear(set(self.damage.reported()))

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
                listed = lambda c: c(self._manifest_name).get(ids=ids, include=["metadatas"])  # noqa: E731
                found = self._read(listed, "repairing the index")
                keep: dict[str, set[str]] = {document_id: set() for document_id in ids}
                for document_id, metadata in zip(found["ids"], found["metadatas"] or [], strict=False):
                    keep[document_id].add(str(metadata["sha256"]))
                self._delete_other_versions(keep, exclude=set(), what="repairing the index")
            if stale:
                ids = [entry.id for entry in stale]
                self._write_op(lambda c: c(self._journal_name).delete(ids=ids), "repairing the index")
            if legacy:
                self._new_generation("repairing the index", self._collection_metadata())
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
        for record_id, (_, metadata) in self.records()["chunks"].items():
            document = manifest.get(str(metadata.get("document_id")))
            if document is None or document.sha256 != metadata.get("sha256"):
                orphans.append(record_id)
                touched.add(str(metadata.get("document_id")))
            else:
                counts[document.id] = counts.get(document.id, 0) + 1
        for part in (orphans[first : first + 1000] for first in range(0, len(orphans), 1000)):
            self._write_op(collection_call(self._chunks_name, "delete", ids=part), "repairing the index")
        for document_id, document in manifest.items():
            if counts.get(document_id, 0) != document.chunks:
                self.remove_document(document_id)
                touched.add(document_id)
        return touched

    def _delete_other_versions(self, keep: dict[str, set[str]], exclude: set[str], what: str) -> None:
        """Delete each document's chunks of versions other than those in `keep[document_id]` and those live
        writers are writing, with one call for all of them."""
        if not keep:
            return
        sole = self._conn.sole_writer
        keep = {document_id: set(versions) for document_id, versions in keep.items()}
        for entry in self.pending_writes():
            if entry.document_id in keep and entry.id not in exclude and journal.is_live(entry, sole_writer=sole):
                keep[entry.document_id].add(entry.sha256)
        clauses = other_versions(keep)
        for first in range(0, len(clauses), _DELETE_CLAUSES):
            part = clauses[first : first + _DELETE_CLAUSES]
            where = part[0] if len(part) == 1 else {"$or": part}
            self._write_op(collection_call(self._chunks_name, "delete", where=where), what)

    def _new_generation(self, what: str, metadata: dict[str, Any]) -> None:
        """Mark a change of the visible set: a fresh generation in the collection's metadata (which Chroma replaces
        whole, so the rest of it, the profile, is written again). A random value, not a counter: two writers cannot
        lose each other's change to it."""
        fresh = {**metadata, "generation": secrets.randbits(52), "pending": ""}
        self._write_op(lambda c: c(self._chunks_name).modify(metadata=fresh), what)

    def _legacy_pending(self) -> list[str]:
        """Documents marked pending by the earlier design (a list in the collection's metadata)."""
        return [doc_id for doc_id in str(self._collection_metadata().get("pending", "")).split(",") if doc_id]

    def _read(self, fn: Callable[[Collections], T], what: str) -> T:
        return self._conn.run(fn, what)

    def _write_op(self, fn: Callable[[Collections], T], what: str) -> T:
        return self._conn.run(fn, what, writes=True)
