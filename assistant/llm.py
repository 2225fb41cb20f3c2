"""Answer with a chat model: fenced passages in, streamed text out, then every citation verified."""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant import prompts
from assistant.answerer import answered, declined
from assistant.citations import CitationBuilder
from assistant.errors import ChatModelError
from assistant.evidence import Evidence
from assistant.extractive import ExtractiveAnswerer
from assistant.followup import expand_with_history
from assistant.models import Answer, AnswerMode, Passage, Turn
from assistant.verify import verify_answer
from index.embedding import Embedder

# Evidence this strong (the extractive answerer's score, docs/quality.md) overrules a model that says the documents
# do not answer: its answer is replaced by the extractive one, with MODEL_DECLINED.
FALLBACK_ABOVE = 0.6
_REWRITE_LABEL = re.compile(r"^(?:rewritten question|question)\s*:\s*", re.IGNORECASE)
_CITED = re.compile(r"\[\d+\]")
NOTHING_VERIFIED = "The chat model's answer could not be verified against the documents; this is the extractive answer."
MODEL_DECLINED = "The chat model found no answer, but the documents hold a close match; this is the extractive answer."
CLOSEST_LABEL = "Closest passage in the documents:"


def fenced_passages(passages: list[Passage], fence: str) -> str:
    """The passages as numbered data blocks; the fence is random, so no document can close it early."""
    blocks = []
    for number, passage in enumerate(passages, start=1):
        text = passage.text.replace(fence, "")
        blocks.append(prompts.PASSAGE.format(fence=fence, n=number, source=Path(passage.source).name, text=text))
    return "\n\n".join(blocks)


def answer_messages(question: str, passages: list[Passage]) -> list[tuple[str, str]]:
    fence = f"<<{secrets.token_hex(6)}>>"
    user = prompts.ANSWER_USER.format(fence=fence, passages=fenced_passages(passages, fence), question=question)
    return [("system", prompts.ANSWER_SYSTEM), ("human", user)]


def rewrite_question(chat_model: Any, question: str, history: Sequence[Turn]) -> str:
    """A stand-alone version of a follow-up question, written by the chat model."""
    if not history:
        return question
    transcript = "\n".join(f"User: {turn.question}\nAssistant: {turn.answer}" for turn in history[-4:])
    messages = [
        ("system", prompts.REWRITE_SYSTEM),
        ("human", prompts.REWRITE_USER.format(history=transcript, question=question)),
    ]
    try:
        rewritten = _text(chat_model.invoke(messages)).strip()
    except Exception:  # a failed rewrite should not cost the answer
        return expand_with_history(question, history)
    candidate = _REWRITE_LABEL.sub("", rewritten.splitlines()[0] if rewritten else "").strip()
    if usable_rewrite(candidate, question):
        return candidate
    return expand_with_history(question, history)


def usable_rewrite(candidate: str, question: str) -> bool:
    """A rewrite is used only when it is a question: a small model sometimes answers the follow-up instead (with a
    made-up fact and a marker), and an answer is no query. Unchanged, it resolves nothing either."""
    return (
        candidate.endswith("?")
        and not _CITED.search(candidate)
        and candidate.casefold() != question.strip().casefold()
        and len(candidate) <= 3 * len(question) + 120
    )


class ChatModelAnswerer:
    """A LangChain chat model writes the answer from the fenced passages; only verified citations survive."""

    mode = AnswerMode.CHAT_MODEL

    def __init__(
        self,
        create_model: Callable[[], Any],
        embedder: Embedder,
        fallback_above: float = FALLBACK_ABOVE,
        closest_quote: bool = True,
    ):
        """`create_model` makes the chat model on first use (so that choosing this answerer stays cheap);
        `fallback_above`: the evidence score from which the model's "not in the documents" is overruled by the
        extractive answer; `closest_quote`: add the evidence's best sentence after a verified answer that does not
        quote it (measured in docs/quality.md)."""
        self._create_model = create_model
        self.fallback_above = fallback_above
        self.closest_quote = closest_quote
        self.extractive = ExtractiveAnswerer()
        self._model: Any = None
        self._lock = threading.Lock()
        self.embedder = embedder

    @property
    def chat_model(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = self._create_model()
            return self._model

    def standalone_query(self, question: str, history: Sequence[Turn]) -> str:
        return rewrite_question(self.chat_model, question, history)

    def stream(self, evidence: Evidence) -> Iterator[str | Answer]:
        pieces = []
        try:
            for chunk in self.chat_model.stream(answer_messages(evidence.query, evidence.passages)):
                piece = _text(chunk)
                if piece:
                    pieces.append(piece)
                    yield piece
        except Exception as error:
            raise ChatModelError(f"the chat model did not answer: {error}") from error
        raw = "".join(pieces).strip()
        if not raw or prompts.NOT_IN_DOCUMENTS in raw.upper():
            if evidence.score >= self.fallback_above:
                yield self._fallback(evidence, raw, MODEL_DECLINED)
            else:
                yield declined(evidence, self.mode)
            return
        builder = evidence.citation_builder()
        verified = verify_answer(raw, evidence.passages, builder, self.embedder, evidence.snapshot.lexical)
        if not verified.citations:
            yield self._fallback(evidence, raw, NOTHING_VERIFIED, verified.unsupported)
            return
        text, closest = verified.text, 0
        if self.closest_quote:
            text, closest = with_closest_sentence(evidence, builder, text)
        answer = answered(evidence, self.mode, text, builder.citations, verified.unsupported)
        yield replace(answer, closest=closest)

    def _fallback(self, evidence: Evidence, raw: str, reason: str, unsupported: Sequence[str] = ()) -> Answer:
        """The extractive answer from the same evidence, saying why the chat model's answer is not the one shown;
        declined (with the model's unsupported sentences) when the extractive answerer finds nothing either."""
        answer = self.extractive.answer(evidence)
        if not answer.answered:
            return declined(evidence, self.mode, unsupported)
        return replace(answer, fallback=reason, unverified=raw)


def with_closest_sentence(evidence: Evidence, builder: CitationBuilder, text: str) -> tuple[str, int]:
    """`text` with the evidence's best sentence quoted after it when no citation of `builder` is that sentence, and
    the new citation's number (0: nothing added). A small model's verified answer often rests on another sentence
    than the one the extractive answerer ranks first; with both shown, the reader checks one against the other."""
    if not evidence.sentences:
        return text, 0
    best = evidence.sentences[0]
    known = len(builder.citations)
    citation = builder.cite(best.passage, best.start, best.end, best.score)
    if citation is None or len(builder.citations) == known:  # not verbatim, or already quoted
        return text, 0
    return f"{text}\n\n{CLOSEST_LABEL} {' '.join(best.text.split())} [{citation.n}]", citation.n


def _text(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, list):
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)
