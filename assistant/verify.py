"""Check a chat model's answer: keep only markers backed by an exact supporting sentence of their passage."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.citations import CitationBuilder
from assistant.lexical import LexicalIndex
from assistant.models import Citation, Passage
from assistant.sentences import SentenceWeights, coverage, passage_sentences
from assistant.text import tokens
from index.embedding import Embedder
from index.sentences import sentence_spans

_MARKERS = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
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
class _Claim:
    text: str  # the sentence without its markers
    markers: tuple[int, ...]


def split_claims(answer: str) -> list[_Claim]:
    """The answer's sentences, each with the passage numbers it cites."""
    claims = []
    for span in sentence_spans(answer):
        sentence = answer[span.start : span.end]
        numbers = tuple(int(n) for group in _MARKERS.findall(sentence) for n in re.split(r"\s*,\s*", group))
        text = _MARKERS.sub("", sentence).strip()
        if text:
            claims.append(_Claim(text, numbers))
    return claims


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
    candidates = passage_sentences(passages, distinct=False)
    if not claims:
        return VerifiedAnswer("", [], [])
    texts = [p.text[s - p.start : e - p.start] for p, s, e in candidates]
    vectors = embedder.embed_documents([c.text for c in claims] + texts)
    claim_vectors, sentence_vectors = vectors[: len(claims)], vectors[len(claims) :]
    parts, unsupported = [], []
    for claim, claim_vector in zip(claims, claim_vectors, strict=True):
        words = tokens(claim.text)
        supports = [
            _best_support(passages[n - 1], candidates, texts, sentence_vectors, claim_vector, words, lexical, weights)
            for n in dict.fromkeys(claim.markers)
            if 1 <= n <= len(passages)
        ]
        if not any(support and support[0] >= threshold for support in supports):
            # a sentence with no marker, or a wrong one, may still be backed by another passage
            every = [
                _best_support(p, candidates, texts, sentence_vectors, claim_vector, words, lexical, weights)
                for p in passages
            ]
            supports = [max((s for s in every if s), key=lambda s: s[0], default=None)]
        numbers: list[int] = []
        for support in supports:
            if support is None or support[0] < threshold:
                continue
            score, (passage, start, end) = support
            citation = builder.cite(passage, start, end, score)
            if citation is not None and citation.n not in numbers:
                numbers.append(citation.n)
        if not numbers:
            unsupported.append(claim.text)
        parts.append(claim.text + "".join(f" [{n}]" for n in numbers))
    return VerifiedAnswer(" ".join(parts), builder.citations, unsupported)


def _best_support(passage, candidates, texts, sentence_vectors, claim_vector, words, lexical, weights):
    """The (score, candidate) of `passage`'s sentence that best supports the claim."""
    best = None
    for index, candidate in enumerate(candidates):
        if candidate[0] is not passage:
            continue
        dense = float(np.dot(sentence_vectors[index], claim_vector))
        score = weights.dense * dense + weights.coverage * coverage(words, texts[index], lexical)
        if best is None or score > best[0]:
            best = (score, candidate)
    return best
