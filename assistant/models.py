"""Typed records of retrieval and answering: passages, citations, answers, chat turns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class AnswerMode(StrEnum):
    """Who wrote the answer: the built-in extractive answerer, or a chat model whose citations were verified."""

    EXTRACTIVE = "extractive"
    CHAT_MODEL = "llm"


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its scores; `text == document_text[start:end]`."""

    chunk_id: str
    document_id: str
    source: str
    title: str
    start: int
    end: int
    text: str
    page: int | None
    rank: int
    fused_score: float  # what the passages are ranked by: rank fusion plus the sentence bonus
    dense_score: float | None = None
    lexical_score: float | None = None
    sentence_score: float | None = None  # share of the question's informative words in its best sentence


@dataclass(frozen=True)
class Citation:
    """A verified verbatim quote: `document_text[start:end] == quote`."""

    n: int
    document_id: str
    source: str
    title: str
    start: int
    end: int
    quote: str
    page: int | None
    score: float
    ocr: bool = False  # the quote was read from the page's image by OCR


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation, used to understand follow-up questions."""

    question: str
    answer: str = ""


@dataclass
class Answer:
    """What the assistant says, with the proof under it."""

    question: str
    text: str
    citations: list[Citation]
    passages: list[Passage]
    answered: bool
    mode: AnswerMode = AnswerMode.EXTRACTIVE
    query: str = ""
    evidence: float = 0.0  # the evidence score the decision to answer or decline was made on
    unsupported: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # documents left out of the answer (damaged, outdated), and why
    support: str = ""  # "weak": answered, but the evidence is close to the decline threshold
    within: tuple[str, ...] = ()  # the sources of the documents it was asked within; empty: all documents
    # Set when the chat model's answer could not be used (nothing in it verified, or it declined on strong evidence)
    # and this is the extractive answer instead: why, in a line for the reader; `unverified` is the model's own text,
    # never verified, to show only on request and marked so.
    fallback: str = ""
    unverified: str = ""
    # The chat model's answer verified but did not quote the sentence the evidence ranks first: that sentence is added
    # after it, under CLOSEST_LABEL, as this citation's number (0: nothing added).
    closest: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: plain dicts, lists, strings and numbers."""
        return {**asdict(self), "mode": str(self.mode)}

    def passage_of(self, citation: Citation) -> Passage | None:
        """The first of the passages that holds the citation's quote at its offsets (None: none does)."""
        for passage in self.passages:
            inside = passage.start <= citation.start <= citation.end <= passage.end
            if passage.document_id == citation.document_id and inside:
                if passage.text[citation.start - passage.start : citation.end - passage.start] == citation.quote:
                    return passage
        return None

    def cited_passages(self) -> list[Passage]:
        """The passages the answer's quotes come from, each once: the passages it used."""
        found = (self.passage_of(citation) for citation in self.citations)
        return list({passage.chunk_id: passage for passage in found if passage is not None}.values())
