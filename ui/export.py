"""The conversation as Markdown: each question, its answer, and the quotes that prove it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from assistant.models import Answer, Citation
from assistant.render import source_label

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$])")
_LINE_START = re.compile(r"^(?:([#>+=-])|(\d+)([.)]))")


def conversation_markdown(exchanges: Sequence[tuple[str, Answer]], now: datetime | None = None) -> str:
    """Markdown for a list of (question, answer) pairs, citations under each answer."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Conversation with your documents", "", f"Exported {stamp}.", ""]
    for number, (question, answer) in enumerate(exchanges, start=1):
        lines += [f"## {number}. {_inline(question)}", ""]
        lines += _answer_lines(answer)
    return "\n".join(lines).rstrip() + "\n"


def _answer_lines(answer: Answer) -> list[str]:
    lines = [_paragraph(answer.text), ""]
    if not answer.answered:
        lines += ["*The documents do not answer this question.*", ""]
    if answer.unsupported:
        lines += ["**Not supported by the documents (no verified quote):**", ""]
        lines += [f"- {_inline(sentence)}" for sentence in answer.unsupported]
        lines.append("")
    if answer.citations:
        lines += ["**Sources**", ""]
        for citation in answer.citations:
            lines += _citation_lines(citation)
    elif answer.passages:
        lines += ["**Closest passages**", ""]
        for passage in answer.passages[:3]:
            lines += [f"- {_inline(passage.source)} (characters {passage.start}-{passage.end})", ""]
            lines += [_blockquote(passage.text), ""]
    return lines


def _citation_lines(citation: Citation) -> list[str]:
    where = f"{_inline(source_label(citation))} (characters {citation.start}-{citation.end})"
    return [f"[{citation.n}] {where}", "", _blockquote(citation.quote), ""]


def _inline(text: str) -> str:
    """One line of text with Markdown syntax neutralised."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    return _LINE_START.sub(_escape_line_start, escaped)


def _escape_line_start(found: re.Match[str]) -> str:
    """A leading `#`, `-`, `1.` ... would start a heading or a list: escape its punctuation."""
    if found.group(1):
        return "\\" + found.group(1)
    return found.group(2) + "\\" + found.group(3)


def _paragraph(text: str) -> str:
    """Answer text: markers stay readable ([1]), other Markdown syntax is escaped."""
    return re.sub(r"\\\[(\d+)\\\]", r"[\1]", _inline(text))


def _blockquote(text: str) -> str:
    return "\n".join(f"> {_inline(line)}" if line.strip() else ">" for line in text.split("\n"))
