"""The answerer protocol: how evidence becomes an answer, and the one place an Answer is made (`answered`,
`declined`).

An answerer is chosen when the Assistant is made (assistant/core.py): the extractive one (assistant/extractive.py)
or the chat-model one (assistant/llm.py). It receives Evidence and never reads the index or calls back into the
Assistant. A new answerer is one module with a class that has these two methods and a `mode`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from assistant.evidence import Evidence
from assistant.models import Answer, AnswerMode, Citation, Turn

NOT_FOUND = "The documents do not contain an answer to this question."


class Answerer(Protocol):
    mode: AnswerMode

    def standalone_query(self, question: str, history: Sequence[Turn]) -> str:
        """The question made to stand alone for retrieval (a follow-up gets its subject from the history)."""
        ...

    def stream(self, evidence: Evidence) -> Iterator[str | Answer]:
        """Pieces of the answer text as they are produced, then the verified Answer last."""
        ...


def declined(evidence: Evidence, mode: AnswerMode, unsupported: Sequence[str] = ()) -> Answer:
    """The answer when the documents do not answer: no citation, the passages kept for the reader to check. When
    the question names a code that no passage holds, the answer says which."""
    text = NOT_FOUND
    if evidence.missing_codes:
        text += f" No passage found mentions {', '.join(evidence.missing_codes)}."
    return _answer(evidence, mode, text, [], False, unsupported)


def answered(
    evidence: Evidence, mode: AnswerMode, text: str, citations: list[Citation], unsupported: Sequence[str] = ()
) -> Answer:
    """An answer: `text` with a marker for each of `citations` (verified quotes), the passages it came from."""
    return _answer(evidence, mode, text, citations, True, unsupported)


def _answer(
    evidence: Evidence,
    mode: AnswerMode,
    text: str,
    citations: list[Citation],
    is_answer: bool,
    unsupported: Sequence[str],
) -> Answer:
    return Answer(
        evidence.question,
        text,
        citations,
        evidence.passages,
        answered=is_answer,
        mode=mode,
        query=evidence.query,
        evidence=evidence.score,
        unsupported=list(unsupported),
        warnings=list(evidence.warnings),
        within=evidence.within.sources if evidence.within is not None else (),
    )
