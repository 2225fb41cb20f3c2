"""Per-question results and their aggregation into overall / answerable / unanswerable metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.answer_types import ANSWER_TYPES, answer_type_of, holds_answer_type, question_words
from assistant.evaluation import metrics
from assistant.evaluation.questions import EvalKind, EvalQuestion

K_VALUES = (1, 3, 5, 10)
GROUPS = ("overall", "answerable", "unanswerable")


@dataclass(frozen=True)
class CitationResult:
    """A citation of an answer, re-checked against the article text from the file."""

    n: int
    document_id: str
    start: int
    end: int
    quote: str
    verbatim: bool
    overlaps_gold: bool


@dataclass
class QuestionResult:
    """Everything measured for one question."""

    id: str
    question: str
    is_impossible: bool
    gold: list[str]
    answer: str
    answered: bool
    evidence: float
    citations: list[CitationResult]
    gold_rank: int | None
    exact_match: float | None  # SQuAD answers only: ClapNQ's gold is whole sentences, not an answer string
    f1: float | None
    quote_has_gold: bool  # SQuAD: a quote holds a gold answer; ClapNQ: a quote matches a gold evidence sentence
    latency_s: float
    answer_type: str = "other"  # the kind of answer the wording asks for (`assistant.answer_types`)
    quote_has_answer_type: bool | None = None  # a quote holds one of that kind the question lacks; None: "other"
    support: str = ""  # the answerer's own word on its support (e.g. "weak"), once answers carry one
    fallback: str = ""  # why the chat model's answer was replaced by the extractive one (empty: it was not)
    unsupported: int = 0  # sentences of the answer that no quote backs
    closest: int = 0  # the citation added beside a chat model's answer (Answer.closest; 0: none)

    @property
    def hit(self) -> bool:
        """Right behaviour: an unanswerable question declined, or an answerable one answered with a gold quote."""
        return not self.answered if self.is_impossible else self.answered and self.quote_has_gold


@dataclass
class AnswerTypeMetrics:
    """The questions wanting one kind of answer: how many, and how the answerable ones were answered."""

    questions: int
    answerable: int
    quote_has_answer_type: float | None  # share of the answerable answered with a quote holding such an answer
    quote_has_gold: float | None


@dataclass
class GroupMetrics:
    """Aggregated metrics of one group of questions; None where a metric does not apply."""

    questions: int
    hit_at: dict[int, float | None] = field(default_factory=dict)
    mrr: float | None = None
    exact_match: float | None = None
    f1: float | None = None
    quote_has_gold: float | None = None
    answer_words: float | None = None
    citations: int = 0
    citations_verbatim: float | None = None
    citations_overlap_gold: float | None = None
    unanswerable_declined: float | None = None
    answerable_declined: float | None = None
    weak_support: float | None = None  # share of the answered questions marked weak support
    latency_p50: float | None = None
    latency_p95: float | None = None


def score_question(
    question: EvalQuestion,
    answer_text: str,
    answered: bool,
    evidence: float,
    citations: Sequence[tuple[int, str, int, int, str]],
    retrieved: Sequence[metrics.Span],
    latency_s: float,
    source_text: dict[str, str],
    kind: EvalKind = "squad",
    support: str = "",
    fallback: str = "",
    unsupported: int = 0,
    closest: int = 0,
) -> QuestionResult:
    """Score one answer; citations are (n, document id, start, end, quote), checked against `source_text`.

    `kind` says what the gold spans are: SQuAD answers (a quote must hold one; exact match and F1 are scored)
    or ClapNQ evidence sentences (a quote must share half its words with one, `metrics.shares_half_words`)."""
    golds = list(dict.fromkeys(gold.text for gold in question.answers))
    gold_spans = [(gold.document_id, gold.start, gold.end) for gold in question.answers]
    checked = [
        CitationResult(
            n,
            doc,
            start,
            end,
            quote,
            verbatim=doc in source_text and source_text[doc][start:end] == quote,
            overlaps_gold=metrics.citation_overlaps_gold((doc, start, end), gold_spans),
        )
        for n, doc, start, end, quote in citations
    ]
    prediction = metrics.strip_markers(answer_text) if answered else ""
    quotes = [c.quote for c in checked]
    matches = metrics.quote_matches_evidence if kind == "clapnq" else metrics.quote_contains_gold
    wanted = answer_type_of(question.question)
    asked = question_words(question.question)
    return QuestionResult(
        id=question.id,
        question=question.question,
        is_impossible=question.is_impossible,
        gold=golds,
        answer=answer_text,
        answered=answered,
        evidence=evidence,
        citations=checked,
        gold_rank=metrics.gold_rank(retrieved, gold_spans) if gold_spans else None,
        exact_match=None if kind == "clapnq" else metrics.exact_match(prediction, golds),
        f1=None if kind == "clapnq" else metrics.token_f1(prediction, golds),
        quote_has_gold=answered and matches(quotes, golds),
        latency_s=latency_s,
        support=support,
        fallback=fallback,
        unsupported=unsupported,
        closest=closest,
        answer_type=wanted,
        quote_has_answer_type=(
            None if wanted == "other" else answered and any(holds_answer_type(q, wanted, asked) for q in quotes)
        ),
    )


def summarize(results: Sequence[QuestionResult]) -> dict[str, GroupMetrics]:
    """Metrics for all questions, the answerable ones and the unanswerable ones."""
    return {
        "overall": _group(list(results)),
        "answerable": _group([r for r in results if not r.is_impossible]),
        "unanswerable": _group([r for r in results if r.is_impossible]),
    }


def _group(results: list[QuestionResult]) -> GroupMetrics:
    answerable = [r for r in results if not r.is_impossible]
    unanswerable = [r for r in results if r.is_impossible]
    answered = [r for r in results if r.answered]
    citations = [c for r in results for c in r.citations]
    gold_citations = [c for r in answerable for c in r.citations]
    latencies = [r.latency_s for r in results]
    return GroupMetrics(
        questions=len(results),
        hit_at={k: metrics.share([metrics.hit_at_k(r.gold_rank, k) for r in answerable]) for k in K_VALUES},
        mrr=metrics.mean([metrics.reciprocal_rank(r.gold_rank) for r in answerable]),
        exact_match=metrics.mean([r.exact_match for r in results if r.exact_match is not None]),
        f1=metrics.mean([r.f1 for r in results if r.f1 is not None]),
        quote_has_gold=metrics.share([r.quote_has_gold for r in answerable]),
        answer_words=metrics.mean([float(metrics.word_count(r.answer)) for r in answered]),
        citations=len(citations),
        citations_verbatim=metrics.share([c.verbatim for c in citations]),
        citations_overlap_gold=metrics.share([c.overlaps_gold for c in gold_citations]),
        unanswerable_declined=metrics.share([not r.answered for r in unanswerable]),
        answerable_declined=metrics.share([not r.answered for r in answerable]),
        weak_support=metrics.share([r.support == "weak" for r in answered]),
        latency_p50=metrics.percentile(latencies, 50),
        latency_p95=metrics.percentile(latencies, 95),
    )


def by_answer_type(results: Sequence[QuestionResult]) -> dict[str, AnswerTypeMetrics]:
    """Per kind of wanted answer (`ANSWER_TYPES` order), the questions and the shares of the answerable ones."""
    grouped: dict[str, AnswerTypeMetrics] = {}
    for answer_type in ANSWER_TYPES:
        of_type = [r for r in results if r.answer_type == answer_type]
        answerable = [r for r in of_type if not r.is_impossible]
        typed = [bool(r.quote_has_answer_type) for r in answerable if r.quote_has_answer_type is not None]
        grouped[answer_type] = AnswerTypeMetrics(
            questions=len(of_type),
            answerable=len(answerable),
            quote_has_answer_type=metrics.share(typed),
            quote_has_gold=metrics.share([r.quote_has_gold for r in answerable]),
        )
    return grouped


def tradeoff(results: Sequence[QuestionResult]) -> list[metrics.TradeoffPoint]:
    """The decline trade-off curve over the evidence scores of these results."""
    return metrics.decline_tradeoff(
        [r.evidence for r in results if not r.is_impossible],
        [r.evidence for r in results if r.is_impossible],
    )
