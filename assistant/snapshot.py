"""One question's view of the index, read once: the visible documents, their lexical index and their texts.

Every stage of an answer (dense search, BM25, sentence scoring, quote checks, page numbers) reads the same
IndexSnapshot, so they agree on which version of each document is visible. Taking a snapshot costs one Chroma
call (the generation) when nothing changed since the last one; see docs/architecture.md.

A document whose offsets cannot be trusted is left out of the answer, with the reason: one written by an earlier
index format, or one found damaged (its stored chunks do not rebuild its text, or a chunk does not match it). A
damaged one is reported, so that the next indexing run writes it again from its file.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from assistant.lexical import LexicalIndex
from assistant.lexical_cache import LexicalCache
from assistant.models import Passage
from assistant.wording import plural
from index.errors import IndexingError
from index.migrations import is_outdated, why_outdated
from index.models import IndexedDocument, IndexState, PageSpan
from index.store import ChunkStore

OUTDATED = "written by an earlier version of the index"


class StoredTexts:
    """Document texts rebuilt from Chroma, for the rare document the lexical index cannot rebuild; recent ones are
    kept, by document version, so a changed document is never served stale."""

    def __init__(self, store: ChunkStore, cache_size: int = 64):
        self._store = store
        self._cache: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def text_of(self, document_id: str, state: IndexState) -> str:
        document = state.documents.get(document_id)
        key = (document_id, document.sha256 if document is not None else "")
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        text = self._store.document_text(document_id, state)  # raises StoreError for an unknown document
        with self._lock:
            self._cache[key] = text
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return text


@dataclass(frozen=True)
class IndexSnapshot:
    """The index as one question sees it."""

    state: IndexState
    lexical: LexicalIndex
    stored_texts: StoredTexts
    left_out: dict[str, str] = field(default_factory=dict)  # document id -> why its passages are not used
    on_damage: Callable[[IndexedDocument, str], None] = lambda document, reason: None
    _texts: dict[str, str] = field(default_factory=dict)

    @property
    def documents(self) -> Mapping[str, IndexedDocument]:
        return self.state.documents

    def document_text(self, document_id: str) -> str:
        """The document's full text: rebuilt from the chunks in memory (checked against its hash), else from
        Chroma. Raises StoreError when the document is not visible in this snapshot or cannot be rebuilt."""
        text = self._texts.get(document_id)
        if text is None:
            text = self.lexical.document_text(document_id)
            if text is None:
                text = self.stored_texts.text_of(document_id, self.state)
            self._texts[document_id] = text
        return text

    def holds(self, passage: Passage) -> bool:
        """Whether the passage is its document's text at its offsets; if not, the document is damaged: it is left
        out from now on and reported."""
        try:
            if self.document_text(passage.document_id)[passage.start : passage.end] == passage.text:
                return True
            reason = "a stored chunk no longer matches the document's text"
        except IndexingError:
            reason = "its stored chunks no longer rebuild its text"
        document = self.state.documents.get(passage.document_id)
        self.left_out[passage.document_id] = reason
        if document is not None:
            self.on_damage(document, reason)
        return False

    def page_span(self, document_id: str, offset: int) -> PageSpan | None:
        document = self.state.documents.get(document_id)
        return document.page_span(offset) if document is not None else None

    def warnings(self, among: Collection[str] | None = None) -> list[str]:
        """What the left-out documents (of those in `among`, when given) mean for an answer, one line each (the
        outdated ones in one line)."""
        left = [
            (self.documents[doc_id], why)
            for doc_id, why in self.left_out.items()
            if doc_id in self.documents and (among is None or doc_id in among)
        ]
        outdated = [document for document, why in left if why == OUTDATED]
        lines = []
        if outdated:
            names = ", ".join(Path(doc.source).name for doc in outdated[:5]) + (", ..." if len(outdated) > 5 else "")
            lines.append(
                f"{plural(len(outdated), 'document')} left out of answers until indexed again: written by an earlier "
                f"version of the index ({why_outdated(outdated[0])}); run `assistant index` on the "
                f"{'file' if len(outdated) == 1 else 'files'}: {names}"
            )
        for document, why in left:
            if why != OUTDATED:
                lines.append(
                    f"{Path(document.source).name} is left out of this answer: {why}; `assistant index` on its file "
                    "repairs it"
                )
        return lines


class IndexReader:
    """The index as questions read it: a store, its lexical index, and the texts read back from it."""

    def __init__(self, store: ChunkStore, lexical_cache: str = ""):
        self.store = store
        self._lexical = LexicalCache(store, cache=lexical_cache)  # where a server's is saved (Settings.lexical_cache)
        self._stored_texts = StoredTexts(store)
        self._damaged: dict[str, tuple[str, str]] = {}  # found by questions in this process: id -> (sha256, why)
        self._lock = threading.Lock()
        self._outdated: tuple[IndexState | None, frozenset[str]] = (None, frozenset())

    def snapshot(self) -> IndexSnapshot:
        state = self.store.state()
        lexical = self._lexical.current(state)
        for doc_id, sha256 in list(self._lexical.incomplete.items()):  # read back from Chroma with chunks missing
            document = state.documents.get(doc_id)
            if document is not None and document.sha256 == sha256 and doc_id not in self._damaged:
                self._report(document, "some of its stored chunks are missing")
        with self._lock:
            damaged = dict(self._damaged)
        if self._outdated[0] is not state:  # worked out once per state: it reads every document
            self._outdated = (state, frozenset(doc.id for doc in state.documents.values() if is_outdated(doc)))
        left_out = dict.fromkeys(self._outdated[1], OUTDATED)
        for doc_id, (sha256, why) in damaged.items():
            document = state.documents.get(doc_id)
            if document is not None and document.sha256 == sha256:
                left_out[doc_id] = why
        return IndexSnapshot(state, lexical, self._stored_texts, left_out, self._report)

    def _report(self, document: IndexedDocument, reason: str) -> None:
        with self._lock:
            self._damaged[document.id] = (document.sha256, reason)
        try:
            self.store.damage.report(document.id, document.sha256, reason)
        except (IndexingError, OSError):
            pass  # the report is for the next indexing run; this answer leaves the document out either way
