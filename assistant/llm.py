"""Answer with a chat model: fenced passages in, streamed text out, then every citation verified."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant import prompts
from assistant.errors import ChatModelError
from assistant.extractive import NOT_FOUND
from assistant.followup import expand_with_history
from assistant.models import Answer, Passage, Turn
from assistant.verify import verify_answer

if TYPE_CHECKING:
    from assistant.core import Assistant


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


def rewrite_question(chat_model, question: str, history: Sequence[Turn]) -> str:
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
    return rewritten.splitlines()[0].strip() if rewritten else question


def stream_llm_answer(assistant: Assistant, question: str, history: Sequence[Turn], k: int) -> Iterator[str | Answer]:
    chat_model = assistant.chat_model
    query = rewrite_question(chat_model, question, history)
    passages, _, evidence = assistant.gather(query, k)
    if evidence < assistant.decline_threshold:
        yield NOT_FOUND
        yield Answer(question, NOT_FOUND, [], passages, answered=False, mode="llm", query=query, evidence=evidence)
        return
    pieces = []
    try:
        for chunk in chat_model.stream(answer_messages(query, passages)):
            piece = _text(chunk)
            if piece:
                pieces.append(piece)
                yield piece
    except Exception as error:
        raise ChatModelError(f"the chat model did not answer: {error}") from error
    raw = "".join(pieces).strip()
    if not raw or prompts.NOT_IN_DOCUMENTS in raw.upper():
        yield Answer(question, NOT_FOUND, [], passages, answered=False, mode="llm", query=query, evidence=evidence)
        return
    verified = verify_answer(raw, passages, assistant.citation_builder(), assistant.embedder, assistant.lexical_index())
    answered = bool(verified.citations)
    text = verified.text if answered else NOT_FOUND
    yield Answer(
        question,
        text,
        verified.citations,
        passages,
        answered=answered,
        mode="llm",
        query=query,
        evidence=evidence,
        unsupported=verified.unsupported,
    )


def _text(message) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, list):
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)
