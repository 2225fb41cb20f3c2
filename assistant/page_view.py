"""The page behind a quote: a PDF page (or a scanned image) rendered, with the quote's lines marked.

The page is read again with the same reader that made the document text (index/pdf_reader.py, or OCR for an
image), so the characters whose boxes are marked are the quote's own: the page's text must hold the quote at its
offsets, or nothing is marked. Pages are rendered on demand and kept in a small cache.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError
from index.identity import file_sha256
from index.image_reader import ImageProblem, open_image_page, read_image_page
from index.models import IndexedDocument
from index.page_text import Box, PageText
from index.pdf_reader import PdfProblem, read_page, render_page
from index.reading import ReadingSettings
from index.tesseract import TesseractFailed

PAGE_WIDTH = 1000  # pixels of the rendered page
_CACHED_PAGES = 16


class PageUnavailable(AssistantError):
    """The page cannot be shown; the message says why, for a person."""


@dataclass(frozen=True)
class MarkedBox:
    """A marked rectangle as fractions of the page's width and height, from its top left."""

    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class MarkedPage:
    """A rendered page (PNG) and the boxes over the quote's characters on it."""

    number: int
    png: bytes
    boxes: tuple[MarkedBox, ...]
    ocr: bool
    start: int  # the part of the quote on this page, as document offsets
    end: int


def has_page_view(document: IndexedDocument) -> bool:
    return document.file_type in ("pdf", "image") and bool(document.pages)


class PageViews:
    """Marks quotes on their pages; keeps the last pages read (their text and image) for the next quote."""

    def __init__(self, reading: ReadingSettings, width: int = PAGE_WIDTH):
        self.reading = reading
        self.width = width
        self._pages: OrderedDict[tuple[str, str, int], tuple[PageText, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def mark(self, document: IndexedDocument, start: int, end: int, quote: str) -> MarkedPage:
        """The page holding document offset `start`, with text[start:end] marked (its part on that page)."""
        if not has_page_view(document):
            raise PageUnavailable(f"{Path(document.source).name} has no pages to show")
        span = document.page_span(start)
        if span is None:
            raise PageUnavailable("the quote is not on a page of the document")
        page, png = self._page(document, span.number)
        on_page_end = min(end, span.end)
        shown = page.text[start - span.start : on_page_end - span.start]
        if len(page.text) != span.end - span.start or shown != quote[: on_page_end - start]:
            raise PageUnavailable("the page no longer reads as it did when it was indexed; index the file again")
        boxes = page.boxes_between(start - span.start, on_page_end - span.start)
        marked = tuple(_fraction(box, page) for box in boxes)
        return MarkedPage(span.number, png, marked, page.ocr, start, on_page_end)

    def _page(self, document: IndexedDocument, number: int) -> tuple[PageText, bytes]:
        key = (document.source, document.file_sha256 or document.sha256, number)
        with self._lock:
            if key in self._pages:
                self._pages.move_to_end(key)
                return self._pages[key]
            data = _read(document)
            try:
                if document.file_type == "pdf":
                    page = read_page(data, number, self.reading)
                    image = render_page(data, number, self.width)
                else:
                    page = read_image_page(data, number, self.reading)
                    image = open_image_page(data, number)
                    image.thumbnail((self.width, self.width * 4))
            except (PdfProblem, ImageProblem, TesseractFailed) as exc:
                raise PageUnavailable(str(exc)) from None
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=False)
            self._pages[key] = (page, out.getvalue())
            while len(self._pages) > _CACHED_PAGES:
                self._pages.popitem(last=False)
            return self._pages[key]


def _read(document: IndexedDocument) -> bytes:
    try:
        data = Path(document.source).read_bytes()
    except OSError as exc:
        raise PageUnavailable(f"the file cannot be read ({exc.strerror or exc})") from None
    if document.file_sha256 and file_sha256(data) != document.file_sha256:
        raise PageUnavailable("the file changed since it was indexed; index it again to see its pages")
    return data


def _fraction(box: Box, page: PageText) -> MarkedBox:
    width, height = max(page.width, 1e-6), max(page.height, 1e-6)
    return MarkedBox(
        left=round(box.left / width, 5),
        top=round((height - box.top) / height, 5),
        width=round((box.right - box.left) / width, 5),
        height=round((box.top - box.bottom) / height, 5),
    )
