"""Which indexed documents a name means: one document (by id, source, path or unique file name), or every document
under a folder. `assistant remove`, `assistant show` and the documents a question is asked within all resolve names
here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from assistant.errors import NotFound
from index.models import IndexedDocument


@dataclass(frozen=True)
class Selection:
    """The documents a question is asked within."""

    document_ids: frozenset[str]
    sources: tuple[str, ...]  # theirs, sorted: what an answer reports it was asked within


def match_document(name: str, documents: Iterable[IndexedDocument]) -> IndexedDocument:
    """The document `name` means: its id, its exact source, its source as a resolved path, or its file name when
    no other document has that file name."""
    documents = list(documents)
    resolved = _resolved(name)
    for document in documents:
        if name in (document.id, document.source) or document.source == resolved:
            return document
    by_name = [doc for doc in documents if Path(doc.source).name == name]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        raise NotFound(f"{len(by_name)} indexed documents are named {name!r}: give its path or id instead")
    raise NotFound(f"no indexed document matches {name!r} (see `assistant sources`)")


def match_documents(name: str, documents: Iterable[IndexedDocument]) -> list[IndexedDocument]:
    """The document `name` means (as `match_document`), else every document whose source is under the folder
    `name` names (as given, or resolved), whether or not the folder is still there."""
    documents = list(documents)
    try:
        return [match_document(name, documents)]
    except NotFound:
        folders = {PurePath(name), PurePath(_resolved(name))} if name.strip() else set()
        inside = [doc for doc in documents if any(PurePath(doc.source).is_relative_to(f) for f in folders)]
        if not inside:
            raise
        return inside


def select_documents(names: Sequence[str], documents: Iterable[IndexedDocument]) -> Selection:
    """The documents the names mean together; NotFound names the first that means none."""
    if not names:
        raise ValueError("no document was named to ask within: name at least one, or ask within all of them")
    documents = list(documents)
    chosen = {document.id: document for name in names for document in match_documents(name, documents)}
    return Selection(frozenset(chosen), tuple(sorted(document.source for document in chosen.values())))


def _resolved(name: str) -> str:
    return str(Path(name).expanduser().resolve()) if name else ""
