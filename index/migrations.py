"""Index formats: what changed between them, and what a document written in an earlier one needs.

Every document records the format it was written in (`index_format` in its manifest entry; 1 where none is
recorded). A change of format names the file types whose text it changes. A document written before a change that
concerns its file type is *outdated*: questions leave it out and say so, and the next `assistant index` that
reaches its file indexes it again, even though the file has not changed. A format change adds an entry to CHANGES
and raises CURRENT; that is the whole mechanism.

A change made *in place* changes how records are laid out, not what they hold: documents written before it stay in
answers (the store reads both layouts), and the next indexing run rewrites their records itself, with no file read
and nothing embedded again (index/relayout.py), then records the current format for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.models import IndexedDocument


@dataclass(frozen=True)
class FormatChange:
    """What changed, and the file types whose text it changes (none named: every document); `in_place`: the store
    brings the records to the new format itself (the text does not change)."""

    description: str
    file_types: frozenset[str] = frozenset()
    in_place: bool = False

    def concerns(self, document: IndexedDocument) -> bool:
        return not self.file_types or document.file_type in self.file_types


CURRENT = 4
CHANGES = {
    2: FormatChange(
        "a plain-text file's text is kept exactly as decoded (it used to be normalised, so citations' offsets did "
        "not index the file)"
    ),
    3: FormatChange(
        "PDF text is read with pdfium, which also gives each character's place on the page (for the page view), "
        "and pages without a text layer are read with OCR; tables in PDF, DOCX and HTML files become one line per "
        "row, cells joined by ' | '",
        frozenset({"pdf", "docx", "html"}),
    ),
    4: FormatChange(
        "a chunk's text is the Chroma document (it was a metadata value), so other Chroma clients read it",
        in_place=True,
    ),
}


def _changes_since(document: IndexedDocument) -> list[FormatChange]:
    later = (CHANGES[version] for version in range(document.index_format + 1, CURRENT + 1))
    return [change for change in later if change.concerns(document) and not change.in_place]


def is_outdated(document: IndexedDocument) -> bool:
    return bool(_changes_since(document))


def moves_in_place(document: IndexedDocument) -> bool:
    """Written in an earlier format, but only changes made in place separate it from the current one. (An outdated
    document is written again from its file, in the current format, instead.)"""
    return document.index_format < CURRENT and not is_outdated(document)


def why_outdated(document: IndexedDocument) -> str:
    """What changed since the format the document was written in."""
    return "; ".join(change.description for change in _changes_since(document))
