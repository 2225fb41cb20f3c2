"""One question's view of the index, read once: the visible documents, their lexical index and their texts.

Every stage of an answer (dense search, BM25, sentence scoring, quote checks, page numbers) reads the same
IndexSnapshot, so they agree on which version of each document is visible. Taking a snapshot costs one Chroma
call (the generation) when nothing changed since the last one; see docs/architecture.md.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from assistant.lexical import LexicalIndex
from assistant.lexical_cache import LexicalCache
from index.models import IndexedDocument, IndexState
from index.store import ChunkStore


class StoredTexts:
    """Document texts rebuilt from Chroma, for the rare document the lexical index cannot rebuild; recent ones are
    kept, by document version, so a changed document is never served stale."""

    def __init__(self, store: ChunkStore, cache_size: int = 64):
        self._store = store
        self._cache: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def text_of(self, document_id: str, state: IndexState) -> str:
        document = state.documents.get(document_id)
        key = (document_id, document.sha256 if document is not None else "")
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        text = self._store.document_text(document_id, state)  # raises StoreError for an unknown document
        with self._lock:
            self._cache[key] = text
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return text


@dataclass(frozen=True)
class IndexSnapshot:
    """The index as one question sees it."""

    state: IndexState
    lexical: LexicalIndex
    stored_texts: StoredTexts

    @property
    def documents(self) -> Mapping[str, IndexedDocument]:
        return self.state.documents

    def document_text(self, document_id: str) -> str:
        """The document's full text: rebuilt from the chunks in memory (checked against its hash), else from
        Chroma. Raises StoreError when the document is not visible in this snapshot."""
        text = self.lexical.document_text(document_id)
        return text if text is not None else self.stored_texts.text_of(document_id, self.state)

    def page_at(self, document_id: str, offset: int) -> int | None:
        document = self.state.documents.get(document_id)
        return document.page_at(offset) if document is not None else None


class IndexReader:
    """The index as questions read it: a store, its lexical index, and the texts read back from it."""

    def __init__(self, store: ChunkStore):
        self.store = store
        self._lexical = LexicalCache(store)
        self._stored_texts = StoredTexts(store)

    def snapshot(self) -> IndexSnapshot:
        state = self.store.state()
        return IndexSnapshot(state, self._lexical.current(state), self._stored_texts)
