"""Documents an indexing run must write again although their file has not changed: those written in an earlier
index format and those reported damaged (both are left out of answers until then). The run says what it did about
them, about documents the store brought to the current format in place (index/relayout.py), and about documents
chunked with other settings than its own (they stay as they are: their vectors come from the same model and their
offsets hold)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from index.migrations import CURRENT, is_outdated
from index.models import IndexedDocument, IndexState

OUTDATED, DAMAGED = "outdated", "damaged"


@dataclass
class StaleDocuments:
    """Why each stale document of the index is stale, and which of them this run renewed."""

    state: IndexState
    chunking: str
    damaged: dict[str, tuple[str, str]]  # reported: id -> (sha256 of the damaged version, why)
    relaid: int = 0  # documents whose records this run brought to the current format in place (index/relayout.py)
    renewing: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (source, reason): being written again
    renewed: dict[str, str] = field(default_factory=dict)  # id -> reason, for documents this run wrote again
    written: set[str] = field(default_factory=set)  # sources this run wrote

    def reason(self, document: IndexedDocument) -> str | None:
        """Why this indexed version must be written again, or None when it may stay."""
        if is_outdated(document):
            return OUTDATED
        if document.id in self.damaged and self.damaged[document.id][0] == document.sha256:
            return DAMAGED
        return None

    def settle(self, written_sources: set[str]) -> None:
        """Note what this run wrote: the sources, and so which of the documents being renewed were written."""
        self.written = written_sources
        self.renewed = {doc_id: why for doc_id, (source, why) in self.renewing.items() if source in written_sources}

    def notes(self) -> list[str]:
        """One line for each kind of renewal, one for stale documents this run did not reach, and one for documents
        that keep another chunking."""
        counts = Counter(self.renewed.values())
        notes = []
        if self.relaid:
            notes.append(
                f"{self.relaid} documents written by an earlier version of the index were brought to index format "
                f"{CURRENT} in place (chunk texts are now Chroma documents; nothing was embedded again)"
            )
        if counts[OUTDATED]:
            notes.append(
                f"{counts[OUTDATED]} documents written by an earlier version of the index were indexed again "
                f"(index format {CURRENT})"
            )
        if counts[DAMAGED]:
            notes.append(f"{counts[DAMAGED]} damaged documents were indexed again from their files")
        others = self.state.documents.values()
        left = [doc for doc in others if doc.id not in self.renewed and self.reason(doc)]
        gone = [doc for doc in left if Path(doc.source).is_absolute() and not Path(doc.source).exists()]
        if gone:
            notes.append(
                f"{len(gone)} documents left out of answers (damaged, or written by an earlier version) cannot be "
                f"indexed again: their files are gone: {_names(gone)}; `assistant remove` them, or index with --prune"
            )
        if len(left) > len(gone):
            waiting = [doc for doc in left if doc not in gone]
            notes.append(
                f"{len(waiting)} documents stay left out of answers until they are indexed again (damaged, or "
                f"written by an earlier version): {_names(waiting)}; index their files again"
            )
        chunked = [doc for doc in others if doc.chunking not in ("", self.chunking) and doc.source not in self.written]
        if chunked:
            notes.append(
                f"{len(chunked)} documents keep chunks of {chunked[0].chunking} (this run chunks with "
                f"{self.chunking}); `assistant index --rebuild PATH` chunks them all again: {_names(chunked)}"
            )
        return notes


def _names(documents: list[IndexedDocument]) -> str:
    return ", ".join(Path(doc.source).name for doc in documents[:5]) + (", ..." if len(documents) > 5 else "")
