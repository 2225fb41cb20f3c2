"""Index formats: what changed between them, and what a document written in an earlier one needs.

Every document records the format it was written in (`index_format` in its manifest entry; 1 where none is
recorded). A document in an earlier format than CURRENT is *outdated*: questions leave it out and say so, and the
next `assistant index` that reaches its file indexes it again, even though the file has not changed. A format
change adds a line to CHANGES and raises CURRENT; that is the whole mechanism.
"""

from __future__ import annotations

from index.models import IndexedDocument

CURRENT = 2
CHANGES = {
    2: "a plain-text file's text is kept exactly as decoded (it used to be normalised, so citations' offsets did "
    "not index the file)",
}


def is_outdated(document: IndexedDocument) -> bool:
    return document.index_format < CURRENT


def why_outdated(document: IndexedDocument) -> str:
    """What changed since the format the document was written in."""
    return "; ".join(CHANGES[version] for version in range(document.index_format + 1, CURRENT + 1))
