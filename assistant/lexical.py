"""BM25 over the visible chunks of the store, rebuilt only when the store's generation changes."""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np

from assistant.text import tokens
from index.store import ChunkStore, StoredChunk


@dataclass
class LexicalIndex:
    """A BM25 index of a fixed set of chunks, with the document frequencies of their words."""

    chunks: list[StoredChunk]
    idf: dict[str, float]
    _bm25: object

    @classmethod
    def build(cls, chunks: list[StoredChunk]) -> LexicalIndex:
        import bm25s

        tokenized = [tokens(stored.chunk.text) or [""] for stored in chunks]
        frequencies: Counter[str] = Counter()
        for words in tokenized:
            frequencies.update(set(words))
        total = max(1, len(chunks))
        idf = {word: math.log(1 + (total - df + 0.5) / (df + 0.5)) for word, df in frequencies.items()}
        bm25 = bm25s.BM25()
        if chunks:
            bm25.index(tokenized, show_progress=False)
        return cls(chunks, idf, bm25)

    def search(self, query: str, k: int) -> list[tuple[StoredChunk, float]]:
        """The k chunks with the highest BM25 score for `query` (only those that share a word)."""
        words = [word for word in tokens(query) if word in self.idf]
        if not words or not self.chunks:
            return []
        scores = np.asarray(self._bm25.get_scores(words))  # type: ignore[attr-defined]
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.chunks[i], float(scores[i])) for i in top if scores[i] > 0]

    def word_weight(self, word: str) -> float:
        """How informative a word is in this collection (unseen words count as rare)."""
        return self.idf.get(word, math.log(1 + (len(self.chunks) + 0.5) / 0.5))


class LexicalCache:
    """Keeps one LexicalIndex per store, rebuilt when the store changes."""

    def __init__(self, store: ChunkStore):
        self._store = store
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._index: LexicalIndex | None = None

    def current(self) -> LexicalIndex:
        generation = self._store.generation()
        with self._lock:
            if self._index is None or generation != self._generation:
                self._index = LexicalIndex.build(list(self._store.iter_chunks()))
                self._generation = generation
            return self._index
