"""Parse ClapNQ JSONL (one question per line, with the Wikipedia passage it was asked about) into an EvalSet.

Each line: `input` (the question), `passages[0]` (`title`, `text`), `output[]` (one per annotator), whose
`selected_sentences` are the gold evidence sentences of that passage. A passage becomes a document whose text is
its title, a newline, then the passage text exactly as written; identical passages are one document.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from assistant.evaluation.questions import EvalQuestion, EvalSet, GoldSpan, locate
from index.identity import make_document, sha256_text
from index.models import Document

TITLE_SEPARATOR = "\n"


def load_clapnq(path: str | Path) -> EvalSet:
    """Read one ClapNQ JSONL file; raises ValueError naming the file and line when it is not one."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text: {error}") from error
    documents: dict[str, Document] = {}
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not valid JSON: {error}") from error
        document, question = parse_record(record, f"{path}:{number}")
        documents.setdefault(document.id, document)
        questions.append(question)
    if not questions:
        raise ValueError(f"{path}: the file holds no questions")
    return EvalSet(path.stem, tuple(documents.values()), tuple(questions), kind="clapnq")


def parse_record(record: Any, where: str) -> tuple[Document, EvalQuestion]:
    """One JSONL record as its passage's document and its question; `where` names it in errors."""
    if not isinstance(record, dict):
        raise ValueError(f"{where}: a ClapNQ line must be a JSON object")
    question = record.get("input")
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"{where}: no question ('input')")
    passages = record.get("passages")
    passage = passages[0] if isinstance(passages, list) and passages else None
    if not isinstance(passage, dict) or not isinstance(passage.get("text"), str):
        raise ValueError(f"{where}: no passage text ('passages[0].text')")
    outputs = record.get("output")
    if outputs is not None and not isinstance(outputs, list):
        raise ValueError(f"{where}: 'output' must be a list")
    document, body_offset = passage_document(str(passage.get("title") or ""), passage["text"])
    selected = list(dict.fromkeys(_selected_sentences(outputs or [], where)))
    spans = tuple(
        GoldSpan(document.id, body_offset + start, body_offset + end, passage["text"][start:end])
        for sentence in selected
        for start, end in _occurrences(passage["text"], sentence)
    )
    return document, EvalQuestion(
        id=str(record.get("id", "")),
        question=question,
        answers=spans,
        is_impossible=not selected and not any(_answer_text(output) for output in outputs or []),
        document_id=document.id,
    )


def passage_document(title: str, body: str) -> tuple[Document, int]:
    """The document of a passage (title as its first line) and where the body starts in its text."""
    prefix = f"{title}{TITLE_SEPARATOR}" if title else ""
    text = prefix + body
    source = f"clapnq:{title or 'untitled'}#{sha256_text(text)[:12]}"  # same passage, same source, same id
    return make_document(source=source, title=title or "untitled", text=text), len(prefix)


def _selected_sentences(outputs: list[Any], where: str) -> Iterable[str]:
    """Every annotator's gold sentences: any of them is a right answer's evidence."""
    for output in outputs:
        sentences = output.get("selected_sentences") if isinstance(output, dict) else None
        if sentences is None:
            continue
        if not isinstance(sentences, list) or not all(isinstance(s, str) for s in sentences):
            raise ValueError(f"{where}: 'selected_sentences' must be a list of strings")
        yield from (sentence for sentence in sentences if sentence.strip())


def _answer_text(output: Any) -> str:
    answer = output.get("answer") if isinstance(output, dict) else None
    return answer.strip() if isinstance(answer, str) else ""


def _occurrences(body: str, sentence: str) -> list[tuple[int, int]]:
    """Every place the sentence stands in the passage (a sentence repeated in it is gold at each place)."""
    spans = []
    position = body.find(sentence)
    while position >= 0:
        spans.append((position, position + len(sentence)))
        position = body.find(sentence, position + 1)
    if not spans and (found := locate(body, sentence)) is not None:
        spans.append(found)  # the same words with other whitespace
    return spans
