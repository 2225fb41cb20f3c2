"""Check a chat model's answer: keep only markers backed by an exact supporting sentence of their passage.

A claim is compared without the model's framing ("According to the passage, ..."), and a passage backs it only when
it holds the claim's numbers and names (assistant/claims.py): paraphrase passes, a changed fact does not."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.citations import CitationBuilder
from assistant.claims import Claim, missing_facts, split_claims
from assistant.lexical import LexicalIndex
from assistant.models import Citation, Passage
from assistant.sentences import PassageSentence, SentenceWeights, WordCoverage, passage_sentences
from assistant.text import tokens
from index.embedding import Embedder

SUPPORT_THRESHOLD = 0.5
# A model's sentence paraphrases its source, so support mixes meaning (embeddings) with shared words.
SUPPORT_WEIGHTS = SentenceWeights(dense=0.6, coverage=0.4, passage_rank=0.0)


@dataclass
class VerifiedAnswer:
    """The answer text renumbered to verified citations, and the sentences nothing supports."""

    text: str
    citations: list[Citation]
    unsupported: list[str]


@dataclass(frozen=True)
class Support:
    """A passage sentence that backs a claim, and how strongly."""

    score: float
    sentence: PassageSentence


class _Supports:
    """Scores the passages' sentences as support for claims (all sentences embedded once, with the claims)."""

    def __init__(self, claims: list[Claim], passages: list[Passage], embedder: Embedder, weights: SentenceWeights):
        self.sentences = passage_sentences(passages, distinct=False)
        vectors = embedder.embed_documents([c.core for c in claims] + [s.text for s in self.sentences])
        self.claim_vectors, self.sentence_vectors = vectors[: len(claims)], vectors[len(claims) :]
        self.weights = weights

    def best(self, passage: Passage, claim: Claim, claim_vector: np.ndarray, words: WordCoverage) -> Support | None:
        """`passage`'s sentence that best supports the claim; None when the passage lacks one of its facts."""
        if missing_facts(claim.core, passage.text):
            return None
        best: Support | None = None
        for sentence, vector in zip(self.sentences, self.sentence_vectors, strict=True):
            if sentence.passage is not passage:
                continue
            dense = float(np.dot(vector, claim_vector))
            score = self.weights.dense * dense + self.weights.coverage * words.of(sentence.text)
            if best is None or score > best.score:
                best = Support(score, sentence)
        return best


def verify_answer(
    answer: str,
    passages: list[Passage],
    builder: CitationBuilder,
    embedder: Embedder,
    lexical: LexicalIndex,
    threshold: float = SUPPORT_THRESHOLD,
    weights: SentenceWeights = SUPPORT_WEIGHTS,
) -> VerifiedAnswer:
    """Tie each cited sentence to the best supporting sentence of the passages it names."""
    claims = split_claims(answer)
    if not claims:
        return VerifiedAnswer("", [], [])
    supports = _Supports(claims, passages, embedder, weights)
    parts, unsupported = [], []
    for claim, claim_vector in zip(claims, supports.claim_vectors, strict=True):
        words = WordCoverage(tokens(claim.core), lexical)
        cited = [passages[n - 1] for n in dict.fromkeys(claim.markers) if 1 <= n <= len(passages)]
        named = [supports.best(passage, claim, claim_vector, words) for passage in cited]
        found = [support for support in named if support is not None and support.score >= threshold]
        if not found:
            # a sentence with no marker, or a wrong one, may still be backed by another passage
            every = [s for s in (supports.best(p, claim, claim_vector, words) for p in passages) if s is not None]
            strongest = max(every, key=lambda support: support.score, default=None)
            found = [strongest] if strongest is not None and strongest.score >= threshold else []
        numbers: list[int] = []
        for support in found:
            sentence = support.sentence
            citation = builder.cite(sentence.passage, sentence.start, sentence.end, support.score)
            if citation is not None and citation.n not in numbers:
                numbers.append(citation.n)
        if not numbers:
            unsupported.append(claim.text)
        parts.append(claim.text + "".join(f" [{n}]" for n in numbers))
    return VerifiedAnswer(" ".join(parts), builder.citations, unsupported)
