"""The built-in answerer: the sentences of the retrieved passages that best answer the question."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assistant.answerer import answered, declined
from assistant.evidence import Evidence
from assistant.followup import expand_with_history
from assistant.models import Answer, AnswerMode, Turn
from assistant.sentences import ScoredSentence


@dataclass(frozen=True)
class ExtractiveSettings:
    """How many sentences an answer may hold and how close to the best one they must score."""

    max_sentences: int = 3
    max_words: int = 60
    keep_within: float = 0.2  # a further sentence must score within this of the best

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


class ExtractiveAnswerer:
    """Answers with the best sentences of the evidence, each followed by its verified citation; no model."""

    mode = AnswerMode.EXTRACTIVE

    def __init__(self, settings: ExtractiveSettings = ExtractiveSettings()):
        self.settings = settings

    def standalone_query(self, question: str, history: Sequence[Turn]) -> str:
        return expand_with_history(question, history)

    def stream(self, evidence: Evidence) -> Iterator[str | Answer]:
        answer = self.answer(evidence)
        yield answer.text
        yield answer

    def answer(self, evidence: Evidence) -> Answer:
        builder = evidence.citation_builder()
        parts = []
        for sentence in choose_sentences(evidence.sentences, self.settings):
            citation = builder.cite(sentence.passage, sentence.start, sentence.end, sentence.score)
            if citation is not None:
                parts.append(f"{' '.join(sentence.text.split())} [{citation.n}]")  # line breaks and indents: one space
        if not parts:
            return declined(evidence, self.mode)
        return answered(evidence, self.mode, " ".join(parts), builder.citations)
