"""The long-document variant of an evaluation set: its documents joined, in file order, into documents of at least
N characters, with every gold span re-based to the joined text, and each question asked within its own joined
document alone.

A joined document is its parts' texts exactly, a blank line between two of them (SQuAD articles already hold
their paragraphs that way; a ClapNQ passage keeps its title line). Parts are added until the length is reached;
what is left at the end, shorter than N, goes into the last joined document, so that none is shorter than N unless
the whole set is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from assistant.evaluation.questions import EvalQuestion, EvalSet
from assistant.wording import plural
from index.identity import make_document
from index.models import Document

JOIN_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Placement:
    """Where a part's text stands in its joined document."""

    document_id: str  # the joined document's id
    offset: int


def join_documents(data: EvalSet, min_chars: int) -> EvalSet:
    """The set with its documents joined into documents of at least `min_chars` characters (module docstring),
    its gold spans moved to match, and `ask_within_document` set."""
    if min_chars <= 0:
        raise ValueError(f"the joined documents' length must be > 0 characters, got {min_chars}")
    groups = _groups(list(data.documents), min_chars)
    joined: list[Document] = []
    placements: dict[str, Placement] = {}
    for number, parts in enumerate(groups, start=1):
        document = _joined_document(data.name, number, len(groups), parts)
        offset = 0
        for part in parts:
            placements[part.id] = Placement(document.id, offset)
            offset += len(part.text) + len(JOIN_SEPARATOR)
        joined.append(document)
    questions = tuple(_rebased(question, placements) for question in data.questions)
    lengths = [len(document.text) for document in joined]
    spread = f"{min(lengths):,}" if min(lengths) == max(lengths) else f"{min(lengths):,} to {max(lengths):,}"
    variant = (
        f"joined into {plural(len(joined), 'document')} of {min_chars:,}+ characters ({spread}), "
        "each question asked within its own"
    )
    return EvalSet(data.name, tuple(joined), questions, data.kind, variant=variant, ask_within_document=True)


def _groups(documents: list[Document], min_chars: int) -> list[list[Document]]:
    groups: list[list[Document]] = []
    current: list[Document] = []
    length = 0
    for document in documents:
        length += len(document.text) + (len(JOIN_SEPARATOR) if current else 0)
        current.append(document)
        if length >= min_chars:
            groups.append(current)
            current, length = [], 0
    if current and groups:
        groups[-1].extend(current)
    elif current:
        groups.append(current)
    return groups


def _joined_document(name: str, number: int, total: int, parts: list[Document]) -> Document:
    text = JOIN_SEPARATOR.join(part.text for part in parts)
    title = f"{name}, part {number} of {total} ({parts[0].title} ... {parts[-1].title})"
    return make_document(source=f"joined:{name}/{number}", title=title, text=text)


def _rebased(question: EvalQuestion, placements: dict[str, Placement]) -> EvalQuestion:
    """The question in its joined document, each gold span moved by its part's offset."""
    placement = placements[question.document_id]
    answers = tuple(
        replace(
            gold,
            document_id=placements[gold.document_id].document_id,
            start=gold.start + placements[gold.document_id].offset,
            end=gold.end + placements[gold.document_id].offset,
        )
        for gold in question.answers
    )
    return replace(question, document_id=placement.document_id, answers=answers)
