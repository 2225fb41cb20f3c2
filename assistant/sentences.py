"""Score the sentences of retrieved passages against a question."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.answer_types import answer_type_of, holds_answer_type
from assistant.headings import read_under_headings
from assistant.lexical import LexicalIndex
from assistant.models import Passage
from assistant.text import tokens
from index.embedding import Embedder
from index.sentences import sentence_spans
from index.table_rows import header_of


@dataclass(frozen=True)
class PassageSentence:
    """A sentence of a retrieved passage, by its offsets into the document."""

    passage: Passage
    start: int
    end: int
    heading: str = ""  # the headings it is read under (assistant/headings.py)

    @property
    def text(self) -> str:
        return self.passage.text[self.start - self.passage.start : self.end - self.passage.start]


@dataclass(frozen=True)
class ScoredSentence:
    """A sentence of a passage, its document span, and how well it answers the question."""

    passage: Passage
    start: int  # offsets into the document
    end: int
    text: str
    dense: float
    coverage: float
    score: float
    context: str = ""  # words that belong to the sentence though outside it: its headings, a table row's header
    wanted_type: bool = False  # holds an answer of the kind the question wants: a date for "when", ...


@dataclass(frozen=True)
class SentenceWeights:
    """How the sentence score mixes meaning, shared words and the passage's rank.

    The extractive default scores by shared informative words alone: on SQuAD, adding the sentences'
    embeddings changed the share of answers quoting the gold span by under 0.005 while costing most of the
    answer's latency (docs/quality.md). A sentence that holds the kind of answer the question wants (a date for
    "when", a number for "how many") gains `answer_type`: enough to win a tie of shared words, too little to
    outrank a sentence that holds a further question word (docs/quality.md, "Answer types in the default order").
    """

    dense: float = 0.0
    coverage: float = 1.0
    passage_rank: float = 0.05
    answer_type: float = 0.05


def passage_sentences(passages: list[Passage], distinct: bool = True) -> list[PassageSentence]:
    """Each sentence of the passages, headings set aside as the context of the sentences under them; a sentence in
    two overlapping passages once if `distinct`."""
    seen: set[tuple[str, int]] = set()
    found = []
    for passage in passages:
        for sentence in read_under_headings(passage.text, sentence_spans(passage.text)):
            start, end = passage.start + sentence.span.start, passage.start + sentence.span.end
            key = (passage.document_id, start)
            if not distinct or key not in seen:
                seen.add(key)
                found.append(PassageSentence(passage, start, end, sentence.heading))
    return found


class WordCoverage:
    """Share of a question's informative (IDF-weighted) words that appear in a text; the weights are read once."""

    def __init__(self, question_words: list[str], lexical: LexicalIndex):
        self.weights = {word: lexical.word_weight(word) for word in set(question_words)}
        self.total = sum(self.weights.values())

    def of(self, text: str) -> float:
        if not self.total:
            return 0.0
        present = set(tokens(text))
        return sum(weight for word, weight in self.weights.items() if word in present) / self.total

    def best_sentence(self, text: str) -> float:
        """The highest coverage of any sentence of `text`."""
        return max((self.of(text[span.start : span.end]) for span in sentence_spans(text)), default=0.0)


def score_sentences(
    question: str,
    passages: list[Passage],
    embedder: Embedder,
    lexical: LexicalIndex,
    weights: SentenceWeights = SentenceWeights(),
) -> list[ScoredSentence]:
    """Every sentence of the passages, best answer first."""
    candidates = passage_sentences(passages)
    if not candidates:
        return []
    texts = [candidate.text for candidate in candidates]
    if weights.dense:
        vectors = embedder.embed_documents([question, *texts])
        dense = vectors[1:] @ vectors[0]
    else:
        dense = np.zeros(len(texts))
    question_coverage = WordCoverage(tokens(question), lexical)
    wanted = answer_type_of(question) if weights.answer_type else "other"
    asked = frozenset(question_coverage.weights)
    scored = []
    for candidate, text, similarity in zip(candidates, texts, np.asarray(dense, dtype=float), strict=True):
        # A table row is read with its header, as a person reads it: "Gadget | 125 EUR" under "Item | Unit price".
        # A heading's words count for every sentence under it: "15. Assignment." for the clause's sentences.
        header = header_of(candidate.passage.text, candidate.start - candidate.passage.start)
        context = "\n".join(part for part in (candidate.heading, header) if part)
        cover = question_coverage.of(f"{context}\n{text}" if context else text)
        rank_penalty = weights.passage_rank * (candidate.passage.rank - 1) / max(1, len(passages))
        # the question's own words are no answer: "When did Chopin move to Paris?" is not answered by "Paris"
        holds_type = wanted != "other" and holds_answer_type(text, wanted, exclude=asked)
        score = weights.dense * float(similarity) + weights.coverage * cover - rank_penalty
        score += weights.answer_type * holds_type
        scored.append(
            ScoredSentence(
                candidate.passage,
                candidate.start,
                candidate.end,
                text,
                float(similarity),
                cover,
                score,
                context,
                holds_type,
            )
        )
    return sorted(scored, key=lambda sentence: sentence.score, reverse=True)
