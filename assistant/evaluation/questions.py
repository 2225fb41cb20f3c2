"""What every evaluation format is read into: documents, questions and their gold spans."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal

from index.models import Document

EvalKind = Literal["squad", "clapnq"]


@dataclass(frozen=True)
class GoldSpan:
    """Gold text as a character range of its document's text: a SQuAD answer, or a ClapNQ evidence sentence."""

    document_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class EvalQuestion:
    """One question, its gold spans (empty when unanswerable) and the document it was asked about."""

    id: str
    question: str
    answers: tuple[GoldSpan, ...]
    is_impossible: bool
    document_id: str


@dataclass(frozen=True)
class EvalSet:
    """The documents and questions of an evaluation file (or of several files of one format)."""

    name: str
    documents: tuple[Document, ...]
    questions: tuple[EvalQuestion, ...]
    kind: EvalKind = "squad"
    variant: str = ""  # how the documents were changed from the files', e.g. joined into long ones
    ask_within_document: bool = False  # each question asked within its own document alone

    @property
    def answerable(self) -> int:
        return sum(1 for question in self.questions if not question.is_impossible)

    def text_of(self, document_id: str) -> str | None:
        """The exact text of a document, or None for an id not in the set."""
        for document in self.documents:
            if document.id == document_id:
                return document.text
        return None


def merge_sets(sets: list[EvalSet]) -> EvalSet:
    """One corpus from several sets of the same kind; a document in several of them is kept once."""
    if len(sets) == 1:
        return sets[0]
    kinds = sorted({data.kind for data in sets})
    if len(kinds) > 1:
        raise ValueError(f"cannot evaluate {' and '.join(kinds)} files in one run: {', '.join(s.name for s in sets)}")
    documents = {document.id: document for data in sets for document in data.documents}
    questions = tuple(question for data in sets for question in data.questions)
    return EvalSet("+".join(data.name for data in sets), tuple(documents.values()), questions, sets[0].kind)


def sample_questions(questions: tuple[EvalQuestion, ...], limit: int | None, seed: int = 0) -> list[EvalQuestion]:
    """Up to `limit` questions drawn with a fixed seed, kept in file order; all when limit is None."""
    if limit is None or limit >= len(questions):
        return list(questions)
    if limit <= 0:
        raise ValueError(f"limit must be > 0, got {limit}")
    chosen = sorted(random.Random(seed).sample(range(len(questions)), limit))
    return [questions[i] for i in chosen]


def locate(text: str, wanted: str, near: int = 0) -> tuple[int, int] | None:
    """The (start, end) in `text` of `wanted` nearest to `near`: verbatim first, else with any run of whitespace
    (spaces, no-break spaces, CR LF) standing for any other, so an answer typed with plain spaces is still found
    in a context that has no-break spaces or CRLF. None when it is not there."""
    if not wanted:
        return None
    if text[near : near + len(wanted)] == wanted:
        return near, near + len(wanted)
    start = _nearest(text, wanted, near)
    if start >= 0:
        return start, start + len(wanted)
    words = wanted.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(re.escape(word) for word in words))
    matches = [(match.start(), match.end()) for match in pattern.finditer(text)]
    return min(matches, key=lambda span: abs(span[0] - near)) if matches else None


def _nearest(context: str, text: str, near: int) -> int:
    """The occurrence of `text` in `context` closest to `near`, or -1."""
    best, position = -1, context.find(text)
    while position >= 0:
        if best < 0 or abs(position - near) < abs(best - near):
            best = position
        position = context.find(text, position + 1)
    return best
