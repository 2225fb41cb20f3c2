"""Hybrid retrieval: dense (Chroma) and lexical (BM25) candidates fused by reciprocal rank, then re-ranked with a
bonus for the passage's best-matching sentence."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from assistant.models import Passage
from assistant.sentences import WordCoverage
from assistant.snapshot import IndexSnapshot
from assistant.text import tokens
from index.records import StoredChunk
from index.store import ChunkStore

RRF_K = 10  # measured on SQuAD: 10 beat the customary 60 for recall at 5 (docs/quality.md)


@dataclass(frozen=True)
class RetrievalSettings:
    """How many candidates each retriever proposes and how much each one counts in the fusion."""

    candidates: int = 30
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    # A passage whose single best sentence holds the question's informative words tends to be the one that answers
    # it, where whole-chunk scores spread over every sentence. Measured on SQuAD (docs/quality.md): recall at 5
    # 95.2% -> 96.2% (SQuAD 2.0) and 98.9% -> 99.1% (SQuAD 1.1), with a flat optimum from 0.07 to 0.12.
    sentence_weight: float = 0.08
    # Asked within documents of at most this many chunks, their vectors are read and compared exactly: Chroma's
    # filtered HNSW search walks the whole graph to find a few chunks (at 100,000 chunks: 86 ms for one document of
    # 100, where reading its vectors takes 3 ms; the two meet near 2,000 chunks; docs/benchmarks.md).
    exact_search_chunks: int = 1500

    def __post_init__(self) -> None:
        if self.candidates <= 0:
            raise ValueError(f"candidates must be > 0, got {self.candidates}")


@dataclass
class Candidate:
    """A chunk proposed by the dense or the lexical search (or both), with what each said of it."""

    stored: StoredChunk
    fused: float = 0.0  # reciprocal rank fusion, plus the sentence bonus once re-ranked
    dense: float | None = None
    lexical: float | None = None
    sentence: float | None = None

    def passage(self, rank: int) -> Passage:
        chunk = self.stored.chunk
        return Passage(
            chunk_id=chunk.id,
            document_id=chunk.document_id,
            source=self.stored.source,
            title=self.stored.title,
            start=chunk.start,
            end=chunk.end,
            text=chunk.text,
            page=chunk.page,
            rank=rank,
            fused_score=self.fused,
            dense_score=self.dense,
            lexical_score=self.lexical,
            sentence_score=self.sentence,
        )


class HybridSearch:
    """Finds the passages of one index snapshot that best match a query."""

    def __init__(self, store: ChunkStore, settings: RetrievalSettings = RetrievalSettings()):
        self.store = store
        self.settings = settings

    def search(
        self, query: str, vector: np.ndarray, k: int, snapshot: IndexSnapshot, within: Collection[str] | None = None
    ) -> list[Passage]:
        """The k best passages for `query` (whose embedding is `vector`), best first, from the documents whose ids
        are in `within` (None: all of them)."""
        if k <= 0:
            raise ValueError(f"k must be > 0, got {k}")
        wanted = max(k, self.settings.candidates)
        left_out = snapshot.left_out
        dense = self._dense(vector, wanted, snapshot, within)
        found = snapshot.lexical.search(query, wanted, within)
        lexical = [hit for hit in found if hit[0].chunk.document_id not in left_out]
        fused: dict[str, Candidate] = {}
        for rank, (stored, score) in enumerate(dense):
            _ranked(fused, stored, rank, self.settings.dense_weight).dense = score
        for rank, (stored, score) in enumerate(lexical):
            _ranked(fused, stored, rank, self.settings.lexical_weight).lexical = score
        ordered = sorted(fused.values(), key=lambda candidate: candidate.fused, reverse=True)[:wanted]
        if self.settings.sentence_weight:
            question_coverage = WordCoverage(tokens(query), snapshot.lexical)
            for candidate in ordered:
                candidate.sentence = question_coverage.best_sentence(candidate.stored.chunk.text)
                candidate.fused += self.settings.sentence_weight * candidate.sentence
            ordered.sort(key=lambda candidate: candidate.fused, reverse=True)
        return [candidate.passage(rank) for rank, candidate in enumerate(ordered[:k], start=1)]

    def _dense(
        self, vector: np.ndarray, wanted: int, snapshot: IndexSnapshot, within: Collection[str] | None
    ) -> list[tuple[StoredChunk, float]]:
        """The chunks nearest to `vector` with their cosine similarity: one Chroma call."""
        if within is None:
            return self.store.query(vector, wanted, snapshot.state, snapshot.left_out)
        chosen = [doc_id for doc_id in within if doc_id in snapshot.documents and doc_id not in snapshot.left_out]
        if sum(snapshot.documents[doc_id].chunks for doc_id in chosen) > self.settings.exact_search_chunks:
            return self.store.query(vector, wanted, snapshot.state, snapshot.left_out, within=chosen)
        chunks = snapshot.lexical.chunks_of(chosen)
        found, vectors = self.store.vectors_of(chunks) if chunks else ([], None)
        if vectors is None or not found:  # no chunk, or their records are gone (the lexical search still sees them)
            return []
        norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(vector)
        similarity = vectors @ vector / np.where(norms > 0, norms, 1.0)
        best = np.argsort(-similarity, kind="stable")[:wanted]
        return [(found[position], float(similarity[position])) for position in best]


def _ranked(fused: dict[str, Candidate], stored: StoredChunk, rank: int, weight: float) -> Candidate:
    """The chunk's candidate, credited with its reciprocal rank (0-based `rank`) in one search."""
    candidate = fused.setdefault(stored.chunk.id, Candidate(stored))
    candidate.fused += weight / (RRF_K + rank + 1)
    return candidate
