"""What the documents offer for a question, gathered once and handed to an answerer.

Evidence holds the passages retrieved for the query, their sentences scored against it, the evidence score (how
strongly the best sentences bear on the question) and the index snapshot it was read from; citations are built
against that same snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from assistant.citations import CitationBuilder
from assistant.codes import missing_codes
from assistant.models import Passage
from assistant.retrieval import HybridSearch
from assistant.selection import Selection
from assistant.sentences import ScoredSentence, SentenceWeights, score_sentences
from assistant.snapshot import IndexSnapshot
from assistant.support import SupportModels, rank_with_support
from index.embedding import Embedder

EVIDENCE_SENTENCES = 3
# Best word coverage under this: the question is read as a paraphrase, and this many more sentences, those of the
# passage closest in meaning, are compared with it by meaning.
PARAPHRASE_BELOW = 0.5
PARAPHRASE_SENTENCES = 5
# Evidence under this declines. Calibrated on SQuAD 2.0's unanswerable questions (docs/quality.md); the
# ASSISTANT_DECLINE_THRESHOLD setting overrides it.
DECLINE_THRESHOLD = 0.48


@dataclass(frozen=True)
class Evidence:
    """Everything an answerer needs: it never reads the index itself."""

    question: str  # as asked
    query: str  # what retrieval used (a follow-up made to stand alone)
    passages: list[Passage]
    sentences: list[ScoredSentence]  # every sentence of the passages, best first
    score: float
    snapshot: IndexSnapshot
    warnings: list[str] = field(default_factory=list)  # documents left out of this answer, and why
    within: Selection | None = None  # the documents it was asked within (None: all)
    missing_codes: tuple[str, ...] = ()  # codes the question names ("M16-031") that no passage holds: it declines

    def citation_builder(self) -> CitationBuilder:
        """A new builder that numbers quotes verified against this evidence's snapshot."""
        return CitationBuilder(self.snapshot)


def gather_evidence(
    question: str,
    query: str,
    k: int,
    snapshot: IndexSnapshot,
    embedder: Embedder,
    search: HybridSearch,
    within: Selection | None = None,
    support: SupportModels | None = None,
) -> Evidence:
    """Retrieve the k best passages for `query` from `snapshot` (from the documents of `within` only, when given)
    and score their sentences (by the support models, when given, else by shared words). A passage that is not its
    document's text at its offsets leaves its document out (damaged), and the search runs again without it."""
    vector = embedder.embed_query(query)
    ids = None if within is None else within.document_ids
    passages = search.search(query, vector, k, snapshot, ids)
    while not all([snapshot.holds(passage) for passage in passages]):  # every passage checked: a list, not a generator
        passages = search.search(query, vector, k, snapshot, ids)
    sentences = score_sentences(query, passages, embedder, snapshot.lexical)
    if support is None:
        sentences, score = weigh_evidence(vector, sentences, passages, embedder)
    else:
        sentences, score = rank_with_support(query, passages, sentences, vector, embedder, snapshot.lexical, support)
    missing = tuple(missing_codes(question, [passage.text for passage in passages]))
    return Evidence(question, query, passages, sentences, score, snapshot, snapshot.warnings(ids), within, missing)


def weigh_evidence(
    question_vector: np.ndarray, scored: list[ScoredSentence], passages: list[Passage], embedder: Embedder
) -> tuple[list[ScoredSentence], float]:
    """The sentences, best first, and the evidence score (`evidence_score`).

    When no sentence holds half of the question's informative words, the question is worded otherwise than the
    text ("How long are the goods guaranteed?" of "The Supplier warrants ... for 24 months"), so shared words cannot
    choose the sentence: the sentences of the passage closest in meaning are read as well, and the sentences read
    are ranked by the higher of their meaning match and their shared words (docs/quality.md, "Headings and
    paraphrase"), each keeping its answer-type gain."""
    if not scored or max(sentence.coverage for sentence in scored) >= PARAPHRASE_BELOW:
        return scored, evidence_score(question_vector, scored, embedder)
    closest = max(passages, key=lambda passage: -1.0 if passage.dense_score is None else passage.dense_score)
    top = scored[:EVIDENCE_SENTENCES]
    read = top + [s for s in scored[EVIDENCE_SENTENCES:] if s.passage is closest][:PARAPHRASE_SENTENCES]
    similarity = embedder.embed_documents([sentence.text for sentence in read]) @ question_vector
    type_weight = SentenceWeights().answer_type
    reread = [
        replace(sentence, dense=meaning, score=max(sentence.score, meaning + type_weight * sentence.wanted_type))
        for sentence, meaning in zip(read, map(float, similarity), strict=True)
    ]
    others = [sentence for sentence in scored[len(top) :] if not any(sentence is r for r in read)]
    ranked = sorted(reread + others, key=lambda sentence: sentence.score, reverse=True)
    # the evidence is what the sentences say, not how they are ordered: no answer-type gain, no passage rank
    return ranked, max(max(sentence.coverage, sentence.dense) for sentence in reread)


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
