"""Plain-text rendering for the terminal: an answer and its citations, a document and a span of it."""

from __future__ import annotations

import textwrap
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assistant.models import Answer, Citation
from assistant.wording import plural
from index.models import IndexedDocument

SPAN_OPEN, SPAN_CLOSE = ">>>", "<<<"


def source_label(citation: Citation) -> str:
    """The file name, its page, and "OCR" when the quote was read from the page's image."""
    name = Path(citation.source).name or citation.source
    label = f"{name}, page {citation.page}" if citation.page else name
    return f"{label} (OCR)" if citation.ocr else label


def asked_within(answer: Answer, most: int = 5) -> str:
    """The documents the answer was asked within, by file name ("" when it was asked within all of them)."""
    if not answer.within:
        return ""
    # By file name, as the app's question box lists them (sources sort by their folders first).
    names = sorted((Path(source).name or source for source in answer.within), key=lambda name: (name.lower(), name))
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return f"Asked within: {', '.join(names[:most])}{more}"


def render_answer(answer: Answer, include_text: bool = True) -> str:
    lines = [textwrap.fill(answer.text, width=100)] if include_text else []
    if answer.support == "weak":
        lines.append("(weak support: the evidence is close to the line where the assistant declines; check the quotes)")
    if answer.within:
        lines.append(f"({asked_within(answer)})")
    if answer.fallback:
        lines.append(f"({answer.fallback} The model's own text, not verified, is `unverified` in --json.)")
    if answer.unsupported:
        lines.append("")
        lines.append("Not supported by the documents (no verified quote):")
        lines.extend(f"  ! {sentence}" for sentence in answer.unsupported)
    if answer.citations:
        lines.append("")
        for citation in answer.citations:
            lines.append(f"[{citation.n}] {source_label(citation)} (characters {citation.start}-{citation.end})")
            lines.append(textwrap.indent(textwrap.fill(f"“{citation.quote}”", width=96), "    "))
    elif not answer.answered and answer.passages:
        lines.append("")
        lines.append("Closest passages, for you to check:")
        for passage in answer.passages[:3]:
            excerpt = textwrap.shorten(passage.text, width=200, placeholder=" …")
            lines.append(f"  - {Path(passage.source).name}: {excerpt}")
    return "\n".join(lines)


def offsets_meaning(document: IndexedDocument) -> str:
    """What a citation's character offsets index, for this document's kind of file."""
    if document.file_type == "text":
        return f"the file itself, decoded as {document.encoding}" if document.encoding else "the file itself"
    if document.file_type in ("html", "docx", "pdf"):
        pages = " (with page numbers)" if document.pages else ""
        return f"the text extracted from the {document.file_type.upper()} file{pages}: `assistant show` prints it"
    return "the document's text as it was indexed: `assistant show` prints it"


def document_record(document: IndexedDocument) -> dict[str, Any]:
    """A document for `assistant sources --json`."""
    record = asdict(document)
    record["pages"] = [asdict(page) for page in document.pages]
    record["offsets"] = offsets_meaning(document)
    return record


def render_span(document: IndexedDocument, text: str, start: int, end: int, context: int = 200) -> str:
    """Characters start..end of the document, marked, with `context` characters either side."""
    if not 0 <= start < end <= len(text):
        raise ValueError(f"the span {start}-{end} is not inside {document.source} ({plural(len(text), 'character')})")
    page = document.page_at(start)
    where = f", page {page}" if page else ""
    before = text[max(0, start - context) : start]
    after = text[end : end + context]
    return (
        f"{Path(document.source).name}{where}, characters {start}-{end} of {len(text)} "
        f"(offsets index {offsets_meaning(document)}):\n"
        f"{'…' if start > context else ''}{before}{SPAN_OPEN}{text[start:end]}{SPAN_CLOSE}{after}"
        f"{'…' if end + context < len(text) else ''}"
    )
