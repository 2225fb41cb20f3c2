"""How well a sentence answers a question, and whether the best sentences answer it at all: two small learned
linear models over features that read the question and the sentence together.

The features go beyond shared words: which of the question's words are missing (a near miss lacks the specific
one), whether the sentence says more than the question (an answer adds something), word pairs in order, the
passage's rank and dense score, and whether the sentence holds the kind of answer the question wants (a date for
"when", a number for "how many"). The weights are trained by bench/train_support.py on public sets (the split and
figures are in docs/quality.md) and ship as assistant/support_weights.json (a few hundred bytes).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np

from assistant.answer_types import answer_type_of, holds_answer_type
from assistant.lexical import LexicalIndex
from assistant.models import Passage
from assistant.sentences import ScoredSentence
from assistant.text import tokens
from index.embedding import Embedder

WEIGHTS_FILE = Path(__file__).with_name("support_weights.json")
WEAK = "weak"
WEAK_MARGIN = 0.5  # on the logit: answers this close above the decline threshold are marked weak support
EVIDENCE_SENTENCES = 3  # the best sentences whose meaning match with the question is measured
SENTENCE_FEATURES = (
    "coverage",
    "plain_coverage",
    "pairs_in_order",
    "missing_specific",
    "adds_words",
    "log_words",
    "passage_rank",
    "passage_dense",
    "wants_type_and_has_it",
    "wants_type_and_lacks_it",
    "names_missing",
)
DECISION_FEATURES = (
    "best",
    "second",
    "best_dense",
    "top_passage_dense",
    *(f"best_{name}" for name in SENTENCE_FEATURES),
)
_NAME_OR_NUMBER = re.compile(r"(?<!^)(?<![.?!] )\b(?:[A-Z][\w'’-]*|\w*\d[\w.,]*)")


@dataclass(frozen=True)
class QuestionTerms:
    """The question's content words with their weights in the collection, read once per question."""

    words: tuple[str, ...]
    weights: dict[str, float]
    pairs: frozenset[tuple[str, str]]
    answer_type: str
    names: frozenset[str]  # the stems of the question's names and numbers, which a near miss swaps for others

    @classmethod
    def of(cls, question: str, lexical: LexicalIndex) -> QuestionTerms:
        words = tuple(dict.fromkeys(tokens(question)))
        ordered = tokens(question)
        return cls(
            words,
            {word: lexical.word_weight(word) for word in words},
            frozenset(zip(ordered, ordered[1:], strict=False)),
            answer_type_of(question),
            frozenset(word for name in _NAME_OR_NUMBER.findall(question.strip()) for word in tokens(name)),
        )


def sentence_features(terms: QuestionTerms, text: str, context: str, passage: Passage) -> np.ndarray:
    """The features of one sentence (`context`: words that belong to it, such as a table row's header)."""
    sentence_words = tokens(text)
    present = set(sentence_words) | set(tokens(context))
    total = sum(terms.weights.values()) or 1.0
    found = [word for word in terms.words if word in present]
    missing = [terms.weights[word] for word in terms.words if word not in present]
    heaviest = max(terms.weights.values(), default=1.0) or 1.0
    ordered = set(zip(sentence_words, sentence_words[1:], strict=False))
    wants_type = terms.answer_type != "other"
    has_type = wants_type and holds_answer_type(text, terms.answer_type, exclude=terms.words)
    return np.array(
        [
            sum(terms.weights[word] for word in found) / total,
            len(found) / max(len(terms.words), 1),
            len(terms.pairs & ordered) / max(len(terms.pairs), 1),
            max(missing, default=0.0) / heaviest,
            sum(1 for word in set(sentence_words) if word not in terms.weights) / max(len(set(sentence_words)), 1),
            math.log1p(len(text.split())),
            1.0 / passage.rank,
            passage.dense_score or 0.0,
            float(wants_type and has_type),
            float(wants_type and not has_type),
            len(terms.names - present) / max(len(terms.names), 1),
        ]
    )


def decision_features(
    best: float, second: float, best_row: np.ndarray, best_dense: float, top_dense: float
) -> np.ndarray:
    """The features of the decision to answer: the two best sentence scores, the best sentences' meaning match
    with the question, the top passage's dense score, and the best sentence's own features."""
    return np.concatenate([[best, second, best_dense, top_dense], best_row])


@dataclass(frozen=True)
class LinearModel:
    """A logistic model over named features, standardised by the training set's mean and scale; with a hidden
    layer (tanh) when `hidden_weights` is given, so that features can act together."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    hidden_weights: np.ndarray | None = None  # features x hidden units
    hidden_bias: np.ndarray | None = None

    def logit(self, rows: np.ndarray) -> np.ndarray:
        values = (rows - self.mean) / self.scale
        if self.hidden_weights is not None and self.hidden_bias is not None:
            values = np.tanh(values @ self.hidden_weights + self.hidden_bias)
        return values @ self.weights + self.bias

    def probability(self, rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(rows)))

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(self.features),
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "weights": self.weights.round(6).tolist(),
            "bias": round(self.bias, 6),
            **(
                {
                    "hidden_weights": self.hidden_weights.round(6).tolist(),
                    "hidden_bias": self.hidden_bias.round(6).tolist(),
                }
                if self.hidden_weights is not None and self.hidden_bias is not None
                else {}
            ),
        }

    @classmethod
    def from_json(cls, data: dict) -> LinearModel:
        return cls(
            tuple(data["features"]),
            np.array(data["mean"], dtype=float),
            np.array(data["scale"], dtype=float),
            np.array(data["weights"], dtype=float),
            float(data["bias"]),
            np.array(data["hidden_weights"], dtype=float) if "hidden_weights" in data else None,
            np.array(data["hidden_bias"], dtype=float) if "hidden_bias" in data else None,
        )


@dataclass(frozen=True)
class SupportModels:
    """The sentence model (does this sentence answer the question?) and the decision model (do the best
    sentences answer it?), with the decision threshold chosen at training time."""

    sentence: LinearModel
    decision: LinearModel
    threshold: float  # on the decision model's logit
    trained_on: str

    @property
    def decline_below(self) -> float:
        """The evidence score (a probability) under which a question is declined."""
        return float(1.0 / (1.0 + math.exp(-self.threshold)))


@cache
def shipped_models() -> SupportModels | None:
    """The models that ship with the assistant, or None when the weights file is missing."""
    if not WEIGHTS_FILE.is_file():
        return None
    data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    for part in ("sentence", "decision"):
        if tuple(data[part]["features"]) != (SENTENCE_FEATURES if part == "sentence" else DECISION_FEATURES):
            raise ValueError(f"{WEIGHTS_FILE} was trained on other features; run bench/train_support.py again")
    return SupportModels(
        LinearModel.from_json(data["sentence"]),
        LinearModel.from_json(data["decision"]),
        float(data["threshold"]),
        str(data.get("trained_on", "")),
    )


def rank_with_support(
    question: str,
    passages: list[Passage],
    sentences: list[ScoredSentence],
    question_vector: np.ndarray,
    embedder: Embedder,
    lexical: LexicalIndex,
    models: SupportModels,
) -> tuple[list[ScoredSentence], float]:
    """The sentences ordered by the sentence model (each scored by its probability of answering), and the
    decision model's probability that the best of them answer the question (the evidence score)."""
    if not sentences:
        return [], 0.0
    terms = QuestionTerms.of(question, lexical)
    rows = np.vstack([sentence_features(terms, s.text, s.context, s.passage) for s in sentences])
    logits = models.sentence.logit(rows)
    order = np.argsort(-logits, kind="stable")
    probabilities = 1.0 / (1.0 + np.exp(-logits))
    ranked = [replace(sentences[i], score=float(probabilities[i])) for i in order]
    top = [sentences[i] for i in order[:EVIDENCE_SENTENCES]]
    best_dense = float(np.max(embedder.embed_documents([s.text for s in top]) @ question_vector))
    second = float(logits[order[1]]) if len(order) > 1 else float(logits[order[0]]) - 5.0
    top_dense = (passages[0].dense_score or 0.0) if passages else 0.0
    decision = decision_features(float(logits[order[0]]), second, rows[order[0]], best_dense, top_dense)
    return ranked, float(models.decision.probability(decision[None, :])[0])


def weak_support_below(decline_threshold: float) -> float:
    """The evidence score under which an answer is marked weak support: half a unit of log-odds above the decline
    threshold (none when the threshold is not a probability strictly between 0 and 1)."""
    if not 0.0 < decline_threshold < 1.0:
        return decline_threshold
    logit = math.log(decline_threshold / (1.0 - decline_threshold))
    return float(1.0 / (1.0 + math.exp(-(logit + WEAK_MARGIN))))
