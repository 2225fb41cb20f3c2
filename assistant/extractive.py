"""The built-in answerer: the sentences of the retrieved passages that best answer the question."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.citations import CitationBuilder
from assistant.models import Answer, Passage
from assistant.sentences import ScoredSentence
from index.embedding import Embedder

NOT_FOUND = "The documents do not contain an answer to this question."
EVIDENCE_SENTENCES = 3


@dataclass(frozen=True)
class ExtractiveSettings:
    """How many sentences an answer may hold and how close to the best one they must score."""

    max_sentences: int = 3
    max_words: int = 60
    keep_within: float = 0.2  # a further sentence must score within this of the best
    decline_below: float = 0.48  # evidence under this declines (calibrated in docs/quality.md)

    def __post_init__(self) -> None:
        if self.max_sentences <= 0:
            raise ValueError(f"max_sentences must be > 0, got {self.max_sentences}")
        if self.max_words <= 0:
            raise ValueError(f"max_words must be > 0, got {self.max_words}")


def choose_sentences(scored: list[ScoredSentence], settings: ExtractiveSettings) -> list[ScoredSentence]:
    """The best sentence, then those close enough to it while the answer stays short."""
    if not scored:
        return []
    best = scored[0]
    chosen = [best]
    words = len(best.text.split())
    for sentence in scored[1:]:
        if len(chosen) >= settings.max_sentences or sentence.score < best.score - settings.keep_within:
            break
        length = len(sentence.text.split())
        if words + length > settings.max_words:
            continue
        chosen.append(sentence)
        words += length
    return sorted(chosen, key=lambda s: (s.passage.rank, s.start))


def evidence_score(question_vector: np.ndarray, scored: list[ScoredSentence], embedder: Embedder) -> float:
    """How strongly the best candidate sentences bear on the question: the higher of their meaning match
    (cosine similarity) and their share of the question's informative words.

    Sentence-level, so a long passage about something else does not hide the one sentence that answers; and
    either signal suffices, because the embedding alone misses names and the words alone miss paraphrase."""
    top = scored[:EVIDENCE_SENTENCES]
    if not top:
        return 0.0
    similarity = float(np.max(embedder.embed_documents([s.text for s in top]) @ question_vector))
    return max(similarity, max(sentence.coverage for sentence in top))


def extractive_answer(
    question: str,
    query: str,
    passages: list[Passage],
    scored: list[ScoredSentence],
    evidence: float,
    builder: CitationBuilder,
    settings: ExtractiveSettings,
) -> Answer:
    """Answer with the chosen sentences, each followed by its verified citation, or decline."""
    if evidence < settings.decline_below:
        return Answer(question, NOT_FOUND, [], passages, answered=False, query=query, evidence=evidence)
    parts = []
    for sentence in choose_sentences(scored, settings):
        citation = builder.cite(sentence.passage, sentence.start, sentence.end, sentence.score)
        if citation is not None:
            parts.append(f"{' '.join(sentence.text.split())} [{citation.n}]")  # line breaks and indents: one space
    if not parts:
        return Answer(question, NOT_FOUND, [], passages, answered=False, query=query, evidence=evidence)
    return Answer(question, " ".join(parts), builder.citations, passages, answered=True, query=query, evidence=evidence)
