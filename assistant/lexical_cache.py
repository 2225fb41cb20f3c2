"""The lexical index of one store, kept up to date as documents change and saved beside an on-disk index."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from assistant.lexical import LexicalIndex
from assistant.lexical_files import FOLDER, load, save
from index.store import ChunkStore, StoredChunk

FETCH_ONE_BY_ONE = 32  # up to this many changed documents are read from the store one by one, else in one pass


class LexicalCache:
    """Keeps the LexicalIndex of one store up to date (and saved beside an on-disk index)."""

    def __init__(self, store: ChunkStore, persist: bool = True):
        self._store = store
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._index: LexicalIndex | None = None
        settings = store.settings
        self.folder = Path(settings.path).expanduser() / FOLDER / settings.collection
        self._persist = persist and not settings.host

    def current(self) -> LexicalIndex:
        generation = self._store.generation()
        with self._lock:
            if self._index is not None and generation == self._generation:
                return self._index
            visible = {doc.id: doc.sha256 for doc in self._store.documents().values()}
            previous = self._index
            if previous is None:
                previous = (load(self.folder) if self._persist else None) or LexicalIndex()
            index = previous.updated(visible, self._fetch)
            if self._persist and index is not previous:
                try:
                    save(index, self.folder)
                except OSError:
                    pass  # a read-only index still answers; the next process rebuilds
            self._index, self._generation = index, generation
            return index

    def _fetch(self, document_ids: set[str]) -> Iterable[StoredChunk]:
        if len(document_ids) <= FETCH_ONE_BY_ONE:
            return [stored for doc_id in sorted(document_ids) for stored in self._store.iter_chunks(doc_id)]
        return [stored for stored in self._store.iter_chunks() if stored.chunk.document_id in document_ids]
