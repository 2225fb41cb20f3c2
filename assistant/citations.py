"""Build citations only from quotes that match the indexed document text exactly."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from assistant.models import Citation, Passage


class QuoteChecker:
    """Checks `document_text[start:end] == quote` against the indexed text, caching recent documents.

    `fast_text`, when given, is asked first: the text rebuilt from chunks already in memory and checked against
    the document's hash (LexicalIndex.document_text), or None; on a large index reading a document's chunks
    back from Chroma took most of an answer's time.
    """

    def __init__(
        self,
        document_text: Callable[[str], str],
        cache_size: int = 64,
        fast_text: Callable[[str], str | None] | None = None,
    ):
        self._document_text = document_text
        self.fast_text = fast_text
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size

    def text_of(self, document_id: str) -> str:
        if document_id in self._cache:
            self._cache.move_to_end(document_id)
            return self._cache[document_id]
        text = self.fast_text(document_id) if self.fast_text is not None else None
        if text is not None:
            return text  # cheap, and always the current version: no need to cache it
        text = self._document_text(document_id)
        self._cache[document_id] = text
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return text

    def forget(self) -> None:
        self._cache.clear()

    def is_verbatim(self, document_id: str, start: int, end: int, quote: str) -> bool:
        if not quote or start < 0 or end <= start:
            return False
        try:
            return self.text_of(document_id)[start:end] == quote
        except LookupError:
            return False


class CitationBuilder:
    """Numbers verified quotes in the order they are cited; the same span keeps its number."""

    def __init__(self, checker: QuoteChecker, page_of: Callable[[str, int], int | None] = lambda doc_id, offset: None):
        self._checker = checker
        self._page_of = page_of
        self.citations: list[Citation] = []

    def cite(self, passage: Passage, start: int, end: int, score: float) -> Citation | None:
        """Return the citation for this span, or None when the quote does not match the document."""
        for citation in self.citations:
            if (citation.document_id, citation.start, citation.end) == (passage.document_id, start, end):
                return citation
        quote = passage.text[start - passage.start : end - passage.start]
        if not self._checker.is_verbatim(passage.document_id, start, end, quote):
            return None
        citation = Citation(
            n=len(self.citations) + 1,
            document_id=passage.document_id,
            source=passage.source,
            title=passage.title,
            start=start,
            end=end,
            quote=quote,
            page=self._page_of(passage.document_id, start),
            score=round(score, 4),
        )
        self.citations.append(citation)
        return citation
