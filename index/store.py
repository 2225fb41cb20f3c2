"""Chroma as the single store of what is indexed: chunks with their vectors, and a manifest of documents.

A document becomes visible only when its manifest entry names the content hash its chunks carry, so a
run killed halfway leaves the previous version (or nothing) visible, never a half-written one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from index.errors import StoreError
from index.models import Chunk, Document, IndexedDocument, PageSpan

_PAGE_SIZE = 2000


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


class ChunkStore:
    """Reads and writes chunks and the document manifest in Chroma."""

    def __init__(self, settings: StoreSettings = StoreSettings()):
        self.settings = settings
        self._client = _connect(settings)
        self._lock = threading.RLock()
        self._documents_cache: tuple[int, dict[str, IndexedDocument]] | None = None
        try:
            self._chunks = self._client.get_or_create_collection(
                settings.collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
            self._manifest = self._client.get_or_create_collection(
                f"{settings.collection}-manifest", embedding_function=None
            )
        except Exception as error:  # chromadb raises many unrelated types for one cause
            raise StoreError(f"cannot open the index at {settings.location}: {error}") from error

    # --- reading -------------------------------------------------------------------------------------

    def generation(self) -> int:
        """A number that changes whenever the set of visible chunks changes."""
        return int(self._collection_metadata().get("generation", 0))

    def documents(self) -> dict[str, IndexedDocument]:
        """Every complete document, by id (re-read only when the generation has moved)."""
        generation = self.generation()
        cached = self._documents_cache
        if cached is not None and cached[0] == generation:
            return dict(cached[1])
        records = self._manifest.get(include=["metadatas"])
        documents = {
            doc_id: _indexed_document(doc_id, metadata)
            for doc_id, metadata in zip(records["ids"], records["metadatas"] or [], strict=False)
        }
        self._documents_cache = (generation, documents)
        return dict(documents)

    def chunk_count(self) -> int:
        return self._chunks.count()

    def query(self, vector: np.ndarray, k: int) -> list[tuple[StoredChunk, float]]:
        """The k visible chunks nearest to `vector`, with their cosine similarity."""
        visible = {doc.id: doc.sha256 for doc in self.documents().values()}
        total = self._chunks.count()
        if total == 0 or k <= 0:
            return []
        wanted = min(total, k + 8)
        while True:
            result = self._chunks.query(
                query_embeddings=[vector.tolist()], n_results=wanted, include=["documents", "metadatas", "distances"]
            )
            hits = [
                (_stored_chunk(chunk_id, text, metadata), 1.0 - float(distance))
                for chunk_id, text, metadata, distance in zip(
                    result["ids"][0],
                    result["documents"][0],
                    result["metadatas"][0],
                    result["distances"][0],
                    strict=False,
                )
                if visible.get(metadata["document_id"]) == metadata["sha256"]
            ]
            if len(hits) >= k or wanted >= total:
                return hits[:k]
            wanted = min(total, wanted * 4)

    def iter_chunks(self, document_id: str | None = None) -> Iterator[StoredChunk]:
        """Every visible chunk (of one document when `document_id` is given), in pages."""
        visible = {doc.id: doc.sha256 for doc in self.documents().values()}
        where = {"document_id": document_id} if document_id else None
        offset = 0
        while True:
            page = self._chunks.get(where=where, include=["documents", "metadatas"], limit=_PAGE_SIZE, offset=offset)
            for chunk_id, text, metadata in zip(page["ids"], page["documents"], page["metadatas"], strict=False):
                if visible.get(metadata["document_id"]) == metadata["sha256"]:
                    yield _stored_chunk(chunk_id, text, metadata)
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

    # --- writing -------------------------------------------------------------------------------------

    def write_document(self, document: Document, chunks: Sequence[Chunk], vectors: np.ndarray, model: str) -> None:
        """Write a document's chunks, then make them visible, then drop its previous version."""
        try:
            with self._lock:
                self._write(document, chunks, vectors, model)
        except StoreError:
            raise
        except Exception as error:
            raise StoreError(f"could not write {document.source} to the index: {error}") from error

    def _write(self, document: Document, chunks: Sequence[Chunk], vectors: np.ndarray, model: str) -> None:
        self._mark_pending(document.id, True)
        gaps = _gaps_before(document.text, chunks)
        batch = max(1, min(self._client.get_max_batch_size(), 1000))
        for first in range(0, len(chunks), batch):
            part = chunks[first : first + batch]
            self._chunks.upsert(
                ids=[chunk.id for chunk in part],
                embeddings=vectors[first : first + batch].tolist(),
                documents=[chunk.text for chunk in part],
                metadatas=[_chunk_metadata(document, chunk, gaps[first + i]) for i, chunk in enumerate(part)],
            )
        self._manifest.upsert(
            ids=[document.id],
            embeddings=[[1.0]],
            documents=[document.source],
            metadatas=[_manifest_metadata(document, len(chunks), model)],
        )
        self._delete_chunks_except(document.id, document.sha256)
        self._mark_pending(document.id, False)

    def remove_document(self, document_id: str) -> None:
        """Take a document out: first from the manifest (invisible at once), then its chunks."""
        with self._lock:
            self._mark_pending(document_id, True)
            self._manifest.delete(ids=[document_id])
            self._chunks.delete(where={"document_id": document_id})
            self._mark_pending(document_id, False)

    def repair(self) -> int:
        """Delete chunks left behind by an interrupted write; returns how many documents were repaired."""
        with self._lock:
            pending = self._pending()
            documents = self.documents()
            for document_id in pending:
                known = documents.get(document_id)
                self._delete_chunks_except(document_id, known.sha256 if known else None)
                self._mark_pending(document_id, False)
            return len(pending)

    def _delete_chunks_except(self, document_id: str, sha256: str | None) -> None:
        where: dict[str, Any] = {"document_id": document_id}
        if sha256 is not None:
            where = {"$and": [where, {"sha256": {"$ne": sha256}}]}
        self._chunks.delete(where=where)

    def _collection_metadata(self) -> dict[str, Any]:
        current = self._client.get_collection(self.settings.collection, embedding_function=None)
        return dict(current.metadata or {})

    def _pending(self) -> list[str]:
        metadata = self._collection_metadata()
        return [doc_id for doc_id in str(metadata.get("pending", "")).split(",") if doc_id]

    def _mark_pending(self, document_id: str, pending: bool) -> None:
        metadata = self._collection_metadata()
        ids = [doc_id for doc_id in str(metadata.get("pending", "")).split(",") if doc_id and doc_id != document_id]
        if pending:
            ids.append(document_id)
        metadata["pending"] = ",".join(ids)
        metadata["generation"] = int(metadata.get("generation", 0)) + 1
        self._chunks.modify(metadata=metadata)


def _connect(settings: StoreSettings) -> Any:
    import chromadb
    from chromadb.config import Settings

    chroma_settings = Settings(anonymized_telemetry=False)
    try:
        if settings.host:
            return chromadb.HttpClient(host=settings.host, port=settings.port, settings=chroma_settings)
        return chromadb.PersistentClient(path=settings.path, settings=chroma_settings)
    except Exception as error:
        raise StoreError(f"cannot open the index at {settings.location}: {error}") from error


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


def _stored_chunk(chunk_id: str, text: str, metadata: dict[str, Any]) -> StoredChunk:
    chunk = Chunk(
        id=chunk_id,
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
