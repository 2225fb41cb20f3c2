"""Turn a follow-up question into one that stands alone, using the conversation so far."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.models import Turn

_REFERRING = re.compile(
    r"\b(it|its|they|them|their|this|that|these|those|he|him|his|she|her|there|then|the same|which one"
    r"|what about|and)\b",
    re.IGNORECASE,
)
_SHORT_QUESTION_WORDS = 6


def needs_context(question: str) -> bool:
    """A question that points back at the conversation ("and when was that?") or is too short to stand alone."""
    return bool(_REFERRING.search(question)) or len(question.split()) < _SHORT_QUESTION_WORDS


def expand_with_history(question: str, history: Sequence[Turn]) -> str:
    """Without a chat model: add the previous question to a follow-up so retrieval sees its subject."""
    if not history or not needs_context(question):
        return question
    return f"{question} ({history[-1].question})"
