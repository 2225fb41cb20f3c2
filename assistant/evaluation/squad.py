"""Parse SQuAD-format JSON (v1.1, v2.0 or title-less variants) into documents and gold-answered questions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.evaluation.questions import EvalQuestion, EvalSet, GoldSpan, locate, sample_questions
from index.identity import make_document
from index.models import Document

__all__ = [
    "PARAGRAPH_SEPARATOR",
    "EvalQuestion",
    "EvalSet",
    "GoldSpan",
    "load_squad",
    "parse_squad",
    "sample_questions",
]

PARAGRAPH_SEPARATOR = "\n\n"


def load_squad(path: str | Path) -> EvalSet:
    """Read a SQuAD JSON file; raises ValueError, naming the file, when it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_bytes())  # bytes: json detects UTF-8/16/32 and skips a byte-order mark
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        hint = " (JSON Lines? ClapNQ files must end in .jsonl)" if "Extra data" in str(error) else ""
        raise ValueError(f"{path} is not valid JSON: {error}{hint}") from error
    return parse_squad(data, path.stem)


def parse_squad(data: Any, name: str) -> EvalSet:
    """Build one document per article and the questions with gold spans in the article's offsets.

    The article's text is its contexts exactly as written, joined by a blank line (never stripped or normalised:
    the gold offsets index that text)."""
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
            for number, qa in enumerate(paragraph.get("qas") or []):
                questions.append(_question(qa, document, context, offset, f"{name}: article {index}, qa {number}"))
            offset += len(context) + len(PARAGRAPH_SEPARATOR)
    if not questions:
        raise ValueError(f"{name}: the file holds no questions")
    return EvalSet(name, tuple(documents), tuple(questions))


def _paragraphs(article: Any, name: str, index: int) -> list[dict[str, Any]]:
    if not isinstance(article, dict):
        raise ValueError(f"{name}: article {index} is not an object")
    paragraphs = article.get("paragraphs")
    if paragraphs is None and "context" in article:
        paragraphs = [article]  # one long context per article, no paragraphs list
    if not isinstance(paragraphs, list) or not all(
        isinstance(p, dict) and isinstance(p.get("context"), str) for p in paragraphs
    ):
        raise ValueError(f"{name}: article {index} has no paragraphs with a context")
    return paragraphs


def _question(qa: Any, document: Document, context: str, offset: int, where: str) -> EvalQuestion:
    if not isinstance(qa, dict) or not isinstance(qa.get("question"), str):
        raise ValueError(f"{where} has no question text")
    spans: dict[tuple[int, int], GoldSpan] = {}
    for answer in qa.get("answers") or []:
        text = answer.get("text") if isinstance(answer, dict) else None
        if not isinstance(text, str):
            continue
        found = locate(context, text, _int(answer.get("answer_start")))
        if found is None:
            continue  # a gold answer that is not in its paragraph cannot be scored
        start, end = found
        span = GoldSpan(document.id, offset + start, offset + end, context[start:end])
        spans.setdefault((span.start, span.end), span)
    impossible = bool(qa.get("is_impossible", False)) or not spans
    return EvalQuestion(
        id=str(qa.get("id", "")),
        question=qa["question"],
        answers=() if impossible else tuple(spans.values()),
        is_impossible=impossible,
        document_id=document.id,
    )


def _int(value: Any) -> int:
    """An answer_start as an int (files write it as a number or a string); 0 when missing or unreadable."""
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0
