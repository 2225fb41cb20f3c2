"""The lexical index of one store, kept up to date as documents change and saved beside an on-disk index."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from assistant.lexical import LexicalIndex
from assistant.lexical_files import FOLDER, load, save
from index.models import IndexState
from index.records import StoredChunk
from index.store import ChunkStore

FETCH_ONE_BY_ONE = 32  # up to this many changed documents are read from the store one by one, else in one pass


class LexicalCache:
    """Keeps the LexicalIndex of one store up to date (and saved beside an on-disk index)."""

    def __init__(self, store: ChunkStore, persist: bool = True):
        self._store = store
        self._lock = threading.Lock()
        self._index: LexicalIndex | None = None
        self._generation: int | None = None
        settings = store.settings
        self.folder = Path(settings.path).expanduser() / FOLDER / settings.collection
        self._persist = persist and not settings.host
        self.incomplete: dict[str, str] = {}  # document id -> sha256 of a version read back with chunks missing

    def current(self, state: IndexState) -> LexicalIndex:
        """The index of the documents visible in `state`: no store call when the generation is the one already
        indexed, else only the chunks of documents added or changed since are read."""
        with self._lock:
            if self._index is not None and state.generation == self._generation:
                return self._index
            previous = self._index
            if previous is None:
                previous = (load(self.folder) if self._persist else None) or LexicalIndex()
            index = previous.updated(state.versions, lambda ids: self._fetch(ids, state))
            for document in state.documents.values():  # those just read back: do all their chunks exist?
                if previous.documents.get(document.id) != document.sha256:
                    read = len(index.places[document.id][1]) if document.id in index.places else 0
                    if read != document.chunks:
                        self.incomplete[document.id] = document.sha256
            if self._persist and index is not previous:
                try:
                    save(index, self.folder)
                except OSError:
                    pass  # a read-only index still answers; the next process rebuilds
            self._index, self._generation = index, state.generation
            return index

    def _fetch(self, document_ids: set[str], state: IndexState) -> Iterable[StoredChunk]:
        store = self._store
        if len(document_ids) <= FETCH_ONE_BY_ONE:
            return [stored for doc_id in sorted(document_ids) for stored in store.iter_chunks(doc_id, state)]
        return [stored for stored in store.iter_chunks(state=state) if stored.chunk.document_id in document_ids]
