"""Parse SQuAD-format JSON (v1.1, v2.0 or title-less variants) into documents and gold-answered questions."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.identity import make_document
from index.models import Document

PARAGRAPH_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class GoldSpan:
    """A gold answer as a character range of its article's document text."""

    document_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class EvalQuestion:
    """One question, its gold answers (empty when unanswerable) and the article it was asked about."""

    id: str
    question: str
    answers: tuple[GoldSpan, ...]
    is_impossible: bool
    document_id: str


@dataclass(frozen=True)
class EvalSet:
    """The documents (one per article) and questions of a SQuAD file."""

    name: str
    documents: tuple[Document, ...]
    questions: tuple[EvalQuestion, ...]

    @property
    def answerable(self) -> int:
        return sum(1 for question in self.questions if not question.is_impossible)

    def text_of(self, document_id: str) -> str | None:
        """The exact article text of a document, or None for an id not in the file."""
        for document in self.documents:
            if document.id == document_id:
                return document.text
        return None


def load_squad(path: str | Path) -> EvalSet:
    """Read a SQuAD JSON file; raises ValueError when it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error
    return parse_squad(data, path.stem)


def parse_squad(data: Any, name: str) -> EvalSet:
    """Build one document per article (paragraphs joined by a blank line) and the questions with gold spans."""
    articles = data.get("data") if isinstance(data, dict) else data
    if not isinstance(articles, list) or not articles:
        raise ValueError(f"{name}: no SQuAD articles found (expected a 'data' list)")
    documents: list[Document] = []
    questions: list[EvalQuestion] = []
    for index, article in enumerate(articles):
        paragraphs = _paragraphs(article, name, index)
        title = str(article.get("title") or f"article {index}")
        text = PARAGRAPH_SEPARATOR.join(paragraph["context"] for paragraph in paragraphs)
        document = make_document(source=f"squad:{name}/{index}:{title}", title=title, text=text)
        documents.append(document)
        offset = 0
        for paragraph in paragraphs:
            context = paragraph["context"]
            for qa in paragraph.get("qas", []):
                questions.append(_question(qa, document, context, offset))
            offset += len(context) + len(PARAGRAPH_SEPARATOR)
    if not questions:
        raise ValueError(f"{name}: the file holds no questions")
    return EvalSet(name, tuple(documents), tuple(questions))


def sample_questions(questions: tuple[EvalQuestion, ...], limit: int | None, seed: int = 0) -> list[EvalQuestion]:
    """Up to `limit` questions drawn with a fixed seed, kept in file order; all when limit is None."""
    if limit is None or limit >= len(questions):
        return list(questions)
    if limit <= 0:
        raise ValueError(f"limit must be > 0, got {limit}")
    chosen = sorted(random.Random(seed).sample(range(len(questions)), limit))
    return [questions[i] for i in chosen]


def _paragraphs(article: Any, name: str, index: int) -> list[dict[str, Any]]:
    if not isinstance(article, dict):
        raise ValueError(f"{name}: article {index} is not an object")
    paragraphs = article.get("paragraphs")
    if paragraphs is None and "context" in article:
        paragraphs = [article]  # one long context per article, no paragraphs list
    if not isinstance(paragraphs, list) or not all(isinstance(p, dict) and "context" in p for p in paragraphs):
        raise ValueError(f"{name}: article {index} has no paragraphs with a context")
    return paragraphs


def _question(qa: dict[str, Any], document: Document, context: str, offset: int) -> EvalQuestion:
    spans: dict[tuple[int, int], GoldSpan] = {}
    for answer in qa.get("answers") or []:
        text = answer["text"]
        start = int(answer["answer_start"])
        if context[start : start + len(text)] != text:
            start = _nearest(context, text, start)
            if start < 0:
                continue  # a gold answer that is not in its paragraph cannot be scored
        span = GoldSpan(document.id, offset + start, offset + start + len(text), text)
        spans.setdefault((span.start, span.end), span)
    impossible = bool(qa.get("is_impossible", False)) or not spans
    return EvalQuestion(
        id=str(qa.get("id", "")),
        question=str(qa["question"]),
        answers=() if impossible else tuple(spans.values()),
        is_impossible=impossible,
        document_id=document.id,
    )


def _nearest(context: str, text: str, near: int) -> int:
    """The occurrence of `text` in `context` closest to `near`, or -1."""
    best, position = -1, context.find(text)
    while position >= 0:
        if best < 0 or abs(position - near) < abs(best - near):
            best = position
        position = context.find(text, position + 1)
    return best
