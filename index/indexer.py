"""Index files into the store: load, chunk, embed (in batches across documents) and write, incrementally.

A run holds the store's right to write from start to end (on an on-disk index no other process may write
meanwhile), first repairs what an interrupted run left behind, and stops at once, with a clear error, when the
store becomes unreachable: every document written until then is complete, and the same run again finishes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from index.chunking import ChunkingSettings, chunk_document
from index.discovery import DiscoveredPath
from index.embedding import Embedder
from index.errors import IndexingError, LoadError, StoreUnavailable
from index.formats import MAX_FILE_BYTES
from index.identity import document_id, file_sha256, path_source
from index.models import Chunk, Document, FileOutcome, FileStatus, IndexProfile, IndexReport
from index.profile import check_profile
from index.reading import ReadingSettings
from index.records import DocumentWrite
from index.stale import StaleDocuments
from index.store import ChunkStore

WRITE_BATCH_CHUNKS = 1024  # chunks embedded, then written to Chroma together
MAX_QUEUED_WRITES = 2  # embedded batches waiting for the writer

IndexItem = Document | DiscoveredPath  # a document loaded elsewhere, or a file found on disk


class Progress(Protocol):
    """Receives progress events from an indexing run: every file's outcome once; for each batch of files embedded,
    its sources and chunk count, then every few dozen chunks done (adding up to that count; the batch's outcomes
    come once it is written); pages read by OCR."""

    def started(self, files: int) -> None: ...
    def file_done(self, outcome: FileOutcome) -> None: ...
    def embedding_started(self, sources: Sequence[str], chunks: int) -> None: ...
    def chunks_embedded(self, count: int) -> None: ...
    def pages_ocred(self, count: int) -> None: ...


class SilentProgress:
    """Hears every event and shows nothing (subclass it to hear some)."""

    def started(self, files: int) -> None:
        pass

    def file_done(self, outcome: FileOutcome) -> None:
        pass

    def embedding_started(self, sources: Sequence[str], chunks: int) -> None:
        pass

    def chunks_embedded(self, count: int) -> None:
        pass

    def pages_ocred(self, count: int) -> None:
        pass


@dataclass
class _Pending:
    document: Document
    chunks: list[Chunk]
    status: FileStatus
    renew: bool = False  # the same content written again (its stored version is outdated or damaged)


class Indexer:
    """Brings the store in line with a set of files or documents."""

    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder,
        chunking: ChunkingSettings = ChunkingSettings(),
        max_file_bytes: int = MAX_FILE_BYTES,
        batch_chunks: int = WRITE_BATCH_CHUNKS,
        reading: ReadingSettings = ReadingSettings(),
    ):
        if batch_chunks <= 0:
            raise ValueError(f"batch_chunks must be > 0, got {batch_chunks}")
        self.store = store
        self.embedder = embedder
        self.chunking = chunking
        self.max_file_bytes = max_file_bytes
        self.batch_chunks = batch_chunks
        self.reading = reading

    def index_paths(
        self, paths: Iterable[Path], *, prune: bool = False, rebuild: bool = False, progress: Progress | None = None
    ) -> IndexReport:
        """Index every supported file under `paths`; with `prune`, remove documents whose files are gone; with
        `rebuild`, empty the index first (another embedding model, say), so that it holds these files alone."""
        from index.discovery import discover_files

        found: list[IndexItem] = list(discover_files(paths))
        if rebuild:
            with self.store.writing():
                self.store.clear()
        report = self._run(found, progress or SilentProgress())
        if prune:
            report.outcomes.extend(self.prune())
        return report

    def index_documents(self, documents: Iterable[Document], progress: Progress | None = None) -> IndexReport:
        """Index documents that were loaded elsewhere (uploads, evaluation sets)."""
        return self._run(list(documents), progress or SilentProgress())

    def prune(self) -> list[FileOutcome]:
        """Remove documents whose source file no longer exists."""
        outcomes = []
        for document in self.store.documents().values():
            if Path(document.source).is_absolute() and not Path(document.source).exists():
                self.store.remove_document(document.id)
                outcomes.append(FileOutcome(document.source, FileStatus.REMOVED))
        return outcomes

    def _run(self, items: Sequence[IndexItem], progress: Progress) -> IndexReport:
        with self.store.writing():
            return self._run_holding_the_store(items, progress)

    def _run_holding_the_store(self, items: Sequence[IndexItem], progress: Progress) -> IndexReport:
        started = time.perf_counter()
        report = IndexReport()
        self.store.repair()
        relaid = self.store.upgrade()
        state = self.store.state()
        # The model is named before anything is embedded, so a mismatch stops the run at once (the dimension is
        # checked when the first vectors are written).
        check_profile(state, IndexProfile(self.embedder.model_id, 0), self.store.settings.location)
        stale = StaleDocuments(state, self.chunking.label, self.store.damage.reported(), relaid=relaid)
        progress.started(len(items))
        batch: list[_Pending] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-writer") as writer:
            writes: list[Future[list[FileOutcome]]] = []
            written = 0  # futures at the front of `writes` already reported
            try:
                for item in items:
                    outcome, pending = self._prepare(item, stale, progress)
                    if pending is None:
                        report.outcomes.append(outcome)
                        progress.file_done(outcome)
                        continue
                    if any(queued.document.id == pending.document.id for queued in batch):
                        writes.extend(self._embed_and_submit(batch, writer, progress))  # one write per document id
                        batch = []
                    batch.append(pending)
                    if sum(len(p.chunks) for p in batch) >= self.batch_chunks:
                        writes.extend(self._embed_and_submit(batch, writer, progress))
                        batch = []
                        _raise_if_unavailable(writes)
                        # Waiting here when writes fall behind keeps at most a few embedded batches in memory.
                        written = _report_finished(writes, written, report, progress, pending=MAX_QUEUED_WRITES)
                writes.extend(self._embed_and_submit(batch, writer, progress))
                _report_finished(writes, written, report, progress)
            except StoreUnavailable as error:
                for future in writes:
                    future.cancel()
                done = sum(_written(future) for future in writes)
                raise StoreUnavailable(
                    f"{error}. {done} files were indexed completely before that; run the same command again "
                    "to index the rest"
                ) from error
        stale.settle({o.source for o in report.outcomes if o.status in (FileStatus.ADDED, FileStatus.UPDATED)})
        self._forget_settled_damage(stale.written)
        report.notes.extend(stale.notes())
        report.seconds = time.perf_counter() - started
        return report

    def _prepare(
        self, item: IndexItem, stale: StaleDocuments, progress: Progress
    ) -> tuple[FileOutcome, _Pending | None]:
        """Load and chunk one item; returns a finished outcome, or the work still to do."""
        if (
            not isinstance(item, Document)
            and (unchanged := _unchanged_file(item, stale, self.max_file_bytes)) is not None
        ):
            return unchanged, None
        try:
            document = item if isinstance(item, Document) else self._load(item, progress)
        except LoadError as error:
            return FileOutcome(error.source, FileStatus.FAILED, reason=error.reason), None
        if not document.text.strip():
            return FileOutcome(document.source, FileStatus.FAILED, reason="no text could be extracted"), None
        previous = stale.state.documents.get(document.id)
        renew = previous is not None and previous.sha256 == document.sha256
        if previous is not None and renew:
            why = stale.reason(previous)
            if why is None:
                return FileOutcome(document.source, FileStatus.UNCHANGED), None
            stale.renewing[document.id] = (document.source, why)
        chunks = chunk_document(document, self.chunking)
        status = FileStatus.UPDATED if previous is not None else FileStatus.ADDED
        return FileOutcome(document.source, status), _Pending(document, chunks, status, renew)

    def _forget_settled_damage(self, written_sources: set[str]) -> None:
        """Drop the damage reports this run settled: documents it wrote, and versions no longer visible."""
        reports = self.store.damage.reported()
        if reports:
            documents = self.store.state().documents
            settled = {
                doc_id
                for doc_id, (sha256, _) in reports.items()
                if doc_id not in documents
                or documents[doc_id].sha256 != sha256
                or documents[doc_id].source in written_sources
            }
            self.store.damage.clear(settled)

    def _load(self, discovered: DiscoveredPath, progress: Progress) -> Document:
        from index.loaders import load_document

        if discovered.problem:
            raise LoadError(str(discovered.path), discovered.problem)
        return load_document(
            discovered.path, max_bytes=self.max_file_bytes, reading=self.reading, on_ocr_page=progress.pages_ocred
        )

    def _embed_and_submit(
        self, batch: list[_Pending], writer: ThreadPoolExecutor, progress: Progress
    ) -> list[Future[list[FileOutcome]]]:
        if not batch:
            return []
        unique_texts = list(dict.fromkeys(chunk.text for pending in batch for chunk in pending.chunks))
        progress.embedding_started([pending.document.source for pending in batch], len(unique_texts))
        reported = 0

        def embedded(count: int) -> None:
            nonlocal reported
            reported += count
            progress.chunks_embedded(count)

        vectors = self.embedder.embed_documents(unique_texts, on_progress=embedded)
        if reported < len(unique_texts):  # an embedder that reports less (or nothing): the rest at once
            progress.chunks_embedded(len(unique_texts) - reported)
        by_text = dict(zip(unique_texts, vectors, strict=False))
        writes = [
            (
                pending,
                DocumentWrite(
                    pending.document,
                    pending.chunks,
                    np.stack([by_text[chunk.text] for chunk in pending.chunks]) if pending.chunks else np.zeros((0, 1)),
                ),
            )
            for pending in batch
        ]
        return [writer.submit(self._write, writes)]

    def _write(self, writes: list[tuple[_Pending, DocumentWrite]]) -> list[FileOutcome]:
        """Write a batch with one Chroma call of each kind; when that fails, each document alone, so that one
        bad document fails by itself. A document renewed with the same content (its stored version outdated or
        damaged, so left out of answers already) is taken out first: its new records would share the old ones'
        version."""
        self.store.remove_documents([pending.document.id for pending, _ in writes if pending.renew])
        if len(writes) > 1:
            try:
                self.store.write_documents([write for _, write in writes], self.embedder.model_id, self.chunking.label)
            except StoreUnavailable:
                raise  # every later write would fail the same way: the run stops
            except IndexingError:
                pass
            else:
                return [_written_outcome(pending) for pending, _ in writes]
        return [self._write_alone(pending, write) for pending, write in writes]

    def _write_alone(self, pending: _Pending, write: DocumentWrite) -> FileOutcome:
        try:
            self.store.write_documents([write], self.embedder.model_id, self.chunking.label)
        except StoreUnavailable:
            raise
        except IndexingError as error:
            return FileOutcome(pending.document.source, FileStatus.FAILED, reason=str(error))
        return _written_outcome(pending)


def _unchanged_file(discovered: DiscoveredPath, stale: StaleDocuments, max_bytes: int) -> FileOutcome | None:
    """UNCHANGED for a file whose bytes are those indexed (and whose indexed version may stay), found without
    reading its text: a scanned PDF's OCR takes seconds a page."""
    if discovered.problem:
        return None
    source = path_source(discovered.path)
    previous = stale.state.documents.get(document_id(source))
    if previous is None or not previous.file_sha256 or stale.reason(previous) is not None:
        return None
    try:
        if discovered.path.stat().st_size > max_bytes:
            return None
        same = file_sha256(discovered.path.read_bytes()) == previous.file_sha256
    except OSError:
        return None
    return FileOutcome(source, FileStatus.UNCHANGED) if same else None


def _written_outcome(pending: _Pending) -> FileOutcome:
    return FileOutcome(pending.document.source, pending.status, chunks_written=len(pending.chunks))


def _report_finished(
    writes: list[Future[list[FileOutcome]]], first: int, report: IndexReport, progress: Progress, pending: int = 0
) -> int:
    """Report the outcomes of the writes from `first` on, in order, as far as they are done, waiting until at most
    `pending` remain unreported; returns the index of the first write not reported yet."""
    while first < len(writes) and (len(writes) - first > pending or writes[first].done()):
        for outcome in writes[first].result():
            report.outcomes.append(outcome)
            progress.file_done(outcome)
        first += 1
    return first


def _raise_if_unavailable(writes: list[Future[list[FileOutcome]]]) -> None:
    """Stop early (not after embedding everything) once a write found the store unreachable."""
    for future in writes:
        if future.done() and isinstance(future.exception(), StoreUnavailable):
            future.result()


def _written(future: Future[list[FileOutcome]]) -> int:
    """How many documents the write completed."""
    if not future.done() or future.cancelled() or future.exception() is not None:
        return 0
    return sum(outcome.status in (FileStatus.ADDED, FileStatus.UPDATED) for outcome in future.result())
