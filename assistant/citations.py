"""Build citations only from quotes that match the indexed document text exactly."""

from __future__ import annotations

from typing import Protocol

from assistant.models import Citation, Passage
from index.errors import IndexingError
from index.models import PageSpan


class QuoteSource(Protocol):
    """Where quotes are checked: the full text of each document and its pages (an IndexSnapshot)."""

    def document_text(self, document_id: str) -> str: ...

    def page_span(self, document_id: str, offset: int) -> PageSpan | None: ...


class CitationBuilder:
    """Numbers verified quotes in the order they are cited; the same span keeps its number."""

    def __init__(self, source: QuoteSource):
        self._source = source
        self.citations: list[Citation] = []

    def is_verbatim(self, document_id: str, start: int, end: int, quote: str) -> bool:
        """`document_text[start:end] == quote` against the indexed text."""
        if not quote or start < 0 or end <= start:
            return False
        try:
            return self._source.document_text(document_id)[start:end] == quote
        except (LookupError, IndexingError):  # a document no longer there cannot prove anything
            return False

    def cite(self, passage: Passage, start: int, end: int, score: float) -> Citation | None:
        """Return the citation for this span, or None when the quote does not match the document."""
        for citation in self.citations:
            if (citation.document_id, citation.start, citation.end) == (passage.document_id, start, end):
                return citation
        quote = passage.text[start - passage.start : end - passage.start]
        if not self.is_verbatim(passage.document_id, start, end, quote):
            return None
        page = self._source.page_span(passage.document_id, start)
        citation = Citation(
            n=len(self.citations) + 1,
            document_id=passage.document_id,
            source=passage.source,
            title=passage.title,
            start=start,
            end=end,
            quote=quote,
            page=page.number if page is not None else None,
            score=round(score, 4),
            ocr=page is not None and page.ocr,
        )
        self.citations.append(citation)
        return citation
