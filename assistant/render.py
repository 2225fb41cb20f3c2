"""Plain-text rendering of an answer and its citations for the terminal."""

from __future__ import annotations

import textwrap
from pathlib import Path

from assistant.models import Answer, Citation


def source_label(citation: Citation) -> str:
    name = Path(citation.source).name or citation.source
    return f"{name}, page {citation.page}" if citation.page else name


def render_answer(answer: Answer, include_text: bool = True) -> str:
    lines = [textwrap.fill(answer.text, width=100)] if include_text else []
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
