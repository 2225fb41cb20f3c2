"""Typed records that flow between the indexing stages."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType


@dataclass(frozen=True)
class PageSpan:
    """A page of a paginated source and the character range it covers in the document text."""

    number: int
    start: int
    end: int
    ocr: bool = False  # the page's text was recognised from its image


def page_at(pages: tuple[PageSpan, ...], offset: int) -> int | None:
    """The number of the page holding character `offset`, or None for unpaginated text."""
    page = span_at(pages, offset)
    return page.number if page is not None else None


def span_at(pages: tuple[PageSpan, ...], offset: int) -> PageSpan | None:
    """The page holding character `offset`, or None for unpaginated text."""
    for page in pages:
        if page.start <= offset < page.end:
            return page
    return None


@dataclass(frozen=True)
class Document:
    """One source file's text: for a plain-text file the decoded file exactly (only a byte-order mark left out), for
    HTML, DOCX and PDF the extracted text. Citations' offsets index `text`."""

    id: str
    source: str
    title: str
    text: str
    sha256: str
    pages: tuple[PageSpan, ...] = ()
    file_type: str = ""  # text | html | docx | pdf | image; "" for a document made by a program
    encoding: str = ""  # text and HTML: the codec that decodes the file's bytes (e.g. utf-8, utf-8-sig, cp1252)
    file_sha256: str = ""  # of the file's bytes: an unchanged file is not read again (OCR takes seconds a page)

    def page_at(self, offset: int) -> int | None:
        return page_at(self.pages, offset)


@dataclass(frozen=True)
class Chunk:
    """A slice of a document: `document.text[start:end] == text`."""

    id: str
    document_id: str
    ordinal: int
    start: int
    end: int
    text: str
    page: int | None = None


@dataclass(frozen=True)
class IndexedDocument:
    """What the store knows about one indexed document."""

    id: str
    source: str
    title: str
    sha256: str
    chunks: int
    characters: int
    indexed_at: str
    pages: tuple[PageSpan, ...] = ()
    file_type: str = ""
    encoding: str = ""
    file_sha256: str = ""
    model: str = ""  # the embedding model its vectors come from
    chunking: str = ""  # "size/overlap" it was chunked with ("" before this was recorded)
    index_format: int = 1  # the index format it was written in (index/migrations.py)

    def page_at(self, offset: int) -> int | None:
        return page_at(self.pages, offset)

    def page_span(self, offset: int) -> PageSpan | None:
        return span_at(self.pages, offset)


@dataclass(frozen=True)
class IndexProfile:
    """What made an index's vectors: one model, one dimension, for every document in it."""

    model: str
    dimension: int


@dataclass(frozen=True)
class IndexState:
    """What is visible in the index at one moment: its generation and its complete documents by id.

    Everything one question reads (search filters, the lexical index, quote checks, page numbers) comes from the
    same IndexState, so the stages of an answer never see two versions of the index."""

    generation: int
    documents: Mapping[str, IndexedDocument]
    profile: IndexProfile | None = None  # None: nothing written yet, or written before profiles were recorded

    @cached_property
    def versions(self) -> Mapping[str, str]:
        """The visible version (content hash) of each document, by id (worked out once per state: every question
        reads it, and a large index has tens of thousands of documents)."""
        return MappingProxyType({document.id: document.sha256 for document in self.documents.values()})

    @cached_property
    def chunk_count(self) -> int:
        return sum(document.chunks for document in self.documents.values())

    def searched(
        self, within: Collection[str] | None = None, leave_out: Collection[str] = ()
    ) -> tuple[Mapping[str, str], int]:
        """The versions of the documents a search covers (those in `within`, all when None, but those in
        `leave_out`), and how many chunks they have."""
        if within is None and not leave_out:
            return self.versions, self.chunk_count
        chosen = set(self.versions if within is None else within) - set(leave_out)
        versions = {doc_id: sha for doc_id, sha in self.versions.items() if doc_id in chosen}
        return versions, sum(self.documents[doc_id].chunks for doc_id in versions)


class FileStatus(StrEnum):
    """What an indexing run did with one file."""

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    REMOVED = "removed"


@dataclass
class FileOutcome:
    """What happened to one file during an indexing run."""

    source: str
    status: FileStatus
    chunks_written: int = 0
    reason: str = ""


@dataclass
class IndexReport:
    """Summary of an indexing run."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what the run did besides the files, in words

    def count(self, status: FileStatus | str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def chunks_written(self) -> int:
        return sum(outcome.chunks_written for outcome in self.outcomes)

    @property
    def failures(self) -> list[FileOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == FileStatus.FAILED]

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(status)} {status}" for status in FileStatus)
        return f"{counts}; {self.chunks_written} chunks written in {self.seconds:.1f}s"
