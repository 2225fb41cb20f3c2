"""Pure metric functions: SQuAD answer scoring, span hits, ranks, percentiles and the decline trade-off."""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)
_MARKER = re.compile(r"\s*\[\d+\]")
_WORD = re.compile(r"\w+")

Span = tuple[str, int, int]  # (document id, start, end)


@dataclass(frozen=True)
class TradeoffPoint:
    """Declining below `threshold`: the share of unanswerable questions declined and of answerable ones kept."""

    threshold: float
    unanswerable_declined: float
    answerable_kept: float


def normalize_answer(text: str) -> str:
    """The official SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def strip_markers(text: str) -> str:
    """Remove citation markers such as [1] from an answer text."""
    return _MARKER.sub("", text).strip()


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer; no golds means the empty answer."""
    golds = list(golds) or [""]
    return float(any(normalize_answer(prediction) == normalize_answer(gold) for gold in golds))


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD token F1, the best over the gold answers; no golds means the empty answer."""
    return max(_f1(prediction, gold) for gold in (list(golds) or [""]))


def _f1(prediction: str, gold: str) -> float:
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def contains(outer: Span, inner: Span) -> bool:
    """True when span `inner` lies wholly inside span `outer` of the same document."""
    return outer[0] == inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2]


def overlaps(first: Span, second: Span) -> bool:
    """True when two spans of the same document share at least one character."""
    return first[0] == second[0] and first[1] < second[2] and second[1] < first[2]


def gold_rank(retrieved: Sequence[Span], golds: Sequence[Span]) -> int | None:
    """1-based rank of the first retrieved span holding a gold span, or None."""
    for rank, span in enumerate(retrieved, start=1):
        if any(contains(span, gold) for gold in golds):
            return rank
    return None


def hit_at_k(rank: int | None, k: int) -> bool:
    """True when the gold span was found within the top `k`."""
    return rank is not None and rank <= k


def reciprocal_rank(rank: int | None) -> float:
    """1/rank, or 0 when the gold span was not retrieved."""
    return 0.0 if rank is None else 1.0 / rank


def quote_contains_gold(quotes: Iterable[str], golds: Sequence[str]) -> bool:
    """True when a quote holds a gold answer as whole normalised tokens."""
    wanted = [f" {normalize_answer(gold)} " for gold in golds if normalize_answer(gold)]
    return any(gold in f" {normalize_answer(quote)} " for quote in quotes for gold in wanted)


def words(text: str) -> frozenset[str]:
    """The distinct lower-cased words (`\\w+` runs) of a text."""
    return frozenset(_WORD.findall(text.lower()))


def shares_half_words(first: str, second: str) -> bool:
    """True when the two texts share at least half of the distinct words of the one with fewer of them.

    The ClapNQ rule for a quote matching a gold evidence sentence: lenient about where the answerer's sentence
    splitting cut (a quote may be part of a gold sentence, or hold one and more), strict about which sentence."""
    first_words, second_words = words(first), words(second)
    fewer = min(len(first_words), len(second_words))
    return fewer > 0 and 2 * len(first_words & second_words) >= fewer


def quote_matches_evidence(quotes: Iterable[str], sentences: Sequence[str]) -> bool:
    """True when one quote and one gold evidence sentence share half their words (`shares_half_words`)."""
    return any(shares_half_words(quote, sentence) for quote in quotes for sentence in sentences)


def citation_overlaps_gold(citation: Span, golds: Sequence[Span]) -> bool:
    """True when a cited span overlaps any gold span."""
    return any(overlaps(citation, gold) for gold in golds)


def word_count(text: str) -> int:
    """Number of whitespace-separated words, citation markers excluded."""
    return len(strip_markers(text).split())


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, or None for no values."""
    return sum(values) / len(values) if values else None


def share(flags: Sequence[bool]) -> float | None:
    """Fraction of true flags, or None for no flags."""
    return mean([float(flag) for flag in flags])


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def decline_tradeoff(answerable: Sequence[float], unanswerable: Sequence[float]) -> list[TradeoffPoint]:
    """For each threshold over the observed evidence (declining when evidence < threshold), the two shares."""
    thresholds = sorted(set(answerable) | set(unanswerable)) + [math.inf]
    points = []
    for threshold in thresholds:
        declined = share([value < threshold for value in unanswerable])
        kept = share([value >= threshold for value in answerable])
        points.append(TradeoffPoint(threshold, declined or 0.0, kept or 0.0))
    return points
