"""Read a PDF's pages with pdfium: the text layer with each character's box, ruled tables as rows, and OCR for
pages that have no usable text layer. The page view asks for one page again and gets the same text and boxes."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from index.ocr import OCR_DPI, OcrUnavailable, check_available, looks_blank, recognise
from index.page_text import Box, PageText, PageTextBuilder
from index.pdf_tables import TableGrid, find_tables
from index.reading import PageCallback, ReadingSettings
from index.table_rows import CELL_SEPARATOR

_PDFIUM = threading.RLock()  # pdfium is not thread-safe: one call into it at a time in this process
_USABLE_TEXT = 20  # fewer visible characters than this over a page image: a scan with a stray text line
_THUMBNAIL_SCALE = 0.25  # 18 dpi is enough to tell a blank page
_MAX_RENDER_PIXELS = 40_000_000
OCR_SCALE = OCR_DPI / 72
OCR_WORKERS = max(1, min(4, os.cpu_count() or 1))  # Tesseract processes at once, one thread each


class PdfProblem(Exception):
    """The PDF cannot be read; the message is the reason, for a person."""


@dataclass(frozen=True)
class PdfPages:
    """The pages of a PDF that hold text, and what reading it took."""

    pages: tuple[PageText, ...]
    page_count: int
    blank_pages: int


def read_pdf(data: bytes, settings: ReadingSettings, on_ocr_page: PageCallback | None = None) -> PdfPages:
    """Every page's text; pages with nothing on them are skipped without OCR."""
    with _open(data) as pdf:
        count = len(pdf)
        if count > settings.max_pages:
            raise PdfProblem(
                f"the PDF has {count:,} pages, over the {settings.max_pages:,}-page limit (ASSISTANT_MAX_PAGES)"
            )
        plans = [_plan(pdf, number, settings) for number in range(1, count + 1)]
    needs_ocr = [plan for plan in plans if plan.kind == "ocr"]
    if needs_ocr:
        try:
            check_available(settings.ocr_language)
        except OcrUnavailable as exc:
            texts = sum(plan.kind == "text" for plan in plans)
            hint = f"; or set ASSISTANT_OCR=off to index its {texts} text page{'s' * (texts != 1)}" if texts else ""
            raise PdfProblem(f"{len(needs_ocr)} page{'s' * (len(needs_ocr) != 1)} {exc}{hint}") from None
    tables = find_tables(data, [plan.number for plan in plans if plan.kind == "text" and plan.has_paths])
    read: dict[int, PageText] = {}
    # Pages are rendered one at a time (pdfium), and recognised by OCR_WORKERS Tesseract processes at once; at most
    # one rendered page per worker waits, so a long scan never holds its page images all at once.
    with ThreadPoolExecutor(OCR_WORKERS, thread_name_prefix="ocr") as workers, _open(data) as pdf:
        waiting: deque[tuple[int, Future[PageText]]] = deque()
        for plan in plans:
            if plan.kind == "blank":
                continue
            page = _read(pdf, plan, settings, tables.get(plan.number, []))
            if isinstance(page, PageText):
                read[plan.number] = page
                continue
            waiting.append((plan.number, workers.submit(page)))
            while len(waiting) > OCR_WORKERS:
                _collect(waiting.popleft(), read, on_ocr_page)
        while waiting:
            _collect(waiting.popleft(), read, on_ocr_page)
    pages = tuple(read[number] for number in sorted(read) if read[number].text)
    return PdfPages(pages, count, count - len(pages))


def _collect(
    waiting: tuple[int, Future[PageText]], read: dict[int, PageText], on_ocr_page: PageCallback | None
) -> None:
    number, future = waiting
    read[number] = future.result()
    if on_ocr_page is not None:
        on_ocr_page(1)


def read_page(data: bytes, number: int, settings: ReadingSettings) -> PageText:
    """Page `number` (from 1) exactly as `read_pdf` read it: the same text, with its boxes."""
    with _open(data) as pdf:
        if not 1 <= number <= len(pdf):
            raise PdfProblem(f"the PDF has no page {number}")
        plan = _plan(pdf, number, settings)
    if plan.kind == "blank":
        return PageText(number, "", (), width=plan.width, height=plan.height)
    tables = find_tables(data, [number]) if plan.kind == "text" and plan.has_paths else {}
    with _open(data) as pdf:
        page = _read(pdf, plan, settings, tables.get(number, []))
    return page if isinstance(page, PageText) else page()


def render_page(data: bytes, number: int, width: int) -> Image.Image:
    """Page `number` as an RGB image `width` pixels wide."""
    with _open(data) as pdf:
        page = pdf[number - 1]
        try:
            scale = width / max(page.get_width(), 1.0)
            return page.render(scale=scale).to_pil().convert("RGB")
        finally:
            page.close()


@contextmanager
def _open(data: bytes) -> Iterator[pdfium.PdfDocument]:
    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
                raise PdfProblem("the PDF is encrypted") from None
            raise PdfProblem(f"could not read the PDF: {str(exc) or type(exc).__name__}") from None
        try:
            yield pdf
        finally:
            pdf.close()


@dataclass(frozen=True)
class _Plan:
    number: int
    kind: str  # text | ocr | blank
    has_paths: bool
    width: float
    height: float


def _plan(pdf: pdfium.PdfDocument, number: int, settings: ReadingSettings) -> _Plan:
    """How to read a page: its text layer, OCR, or not at all (nothing is drawn on it)."""
    page = pdf[number - 1]
    try:
        width, height = page.get_size()
        objects = pdfium_c.FPDFPage_CountObjects(page.raw)
        if objects == 0:
            return _Plan(number, "blank", False, width, height)
        textpage = page.get_textpage()
        try:
            visible = _visible_characters(textpage)
        finally:
            textpage.close()
        has_paths = _has_object(page, pdfium_c.FPDF_PAGEOBJ_PATH)
        if settings.ocr == "always" or (
            settings.ocr == "auto" and visible < _USABLE_TEXT and _has_object(page, pdfium_c.FPDF_PAGEOBJ_IMAGE)
        ):
            thumbnail = page.render(scale=_THUMBNAIL_SCALE, grayscale=True).to_pil()
            kind = "blank" if looks_blank(thumbnail) else "ocr"
            return _Plan(number, kind, has_paths, width, height)
        return _Plan(number, "text" if visible else "blank", has_paths, width, height)
    finally:
        page.close()


def _visible_characters(textpage: pdfium.PdfTextPage) -> int:
    """Characters with a known meaning that are not spaces (a font without a Unicode map gives none)."""
    raw = textpage.raw
    visible = 0
    for index in range(pdfium_c.FPDFText_CountChars(raw)):
        code = pdfium_c.FPDFText_GetUnicode(raw, index)
        if code > 32 and code != 0xFFFD and not pdfium_c.FPDFText_HasUnicodeMapError(raw, index):
            visible += 1
    return visible


def _has_object(page: pdfium.PdfPage, kind: int) -> bool:
    return next(iter(page.get_objects(filter=(kind,), max_depth=2)), None) is not None


def _read(
    pdf: pdfium.PdfDocument, plan: _Plan, settings: ReadingSettings, tables: list[TableGrid]
) -> PageText | Callable[[], PageText]:
    """The page's text from its text layer; for a page to OCR, its image rendered and the recognition to run
    (outside pdfium's lock)."""
    page = pdf[plan.number - 1]
    try:
        if plan.kind == "ocr":
            scale = min(OCR_SCALE, (_MAX_RENDER_PIXELS / max(plan.width * plan.height, 1.0)) ** 0.5)
            image = page.render(scale=scale, grayscale=True).to_pil()
            if looks_blank(image):
                return PageText(plan.number, "", (), ocr=True, width=plan.width, height=plan.height)
            dpi = round(72 * scale)
            return partial(recognise, image, plan.number, settings.ocr_language, points_per_pixel=1 / scale, dpi=dpi)
        textpage = page.get_textpage()
        try:
            chars = list(_characters(textpage))
        finally:
            textpage.close()
        return _layout(chars, tables).build(plan.number, width=plan.width, height=plan.height)
    finally:
        page.close()


def _characters(textpage: pdfium.PdfTextPage) -> Iterator[tuple[str, Box | None]]:
    """The text layer's characters in pdfium's reading order, each with its box (None for one pdfium made up)."""
    raw = textpage.raw
    count = pdfium_c.FPDFText_CountChars(raw)
    index = 0
    while index < count:
        code = pdfium_c.FPDFText_GetUnicode(raw, index)
        char = chr(code) if code < 0x110000 else "\ufffd"
        if 0xD800 <= code < 0xDC00 and index + 1 < count:  # a surrogate pair: one character outside the BMP
            low = pdfium_c.FPDFText_GetUnicode(raw, index + 1)
            if 0xDC00 <= low < 0xE000:
                char = chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
        box = None
        if not pdfium_c.FPDFText_IsGenerated(raw, index):
            left, bottom, right, top = textpage.get_charbox(index, loose=True)
            box = Box(left, bottom, right, top)
        yield char, box
        index += 2 if len(char) == 1 and ord(char) >= 0x10000 else 1


def _layout(chars: list[tuple[str, Box | None]], tables: list[TableGrid]) -> PageTextBuilder:
    """The page's characters in order, each table's characters replaced by its rows where the table starts."""
    builder = PageTextBuilder()
    placed = [_place(box, tables) if box is not None else None for _, box in chars]
    written: set[int] = set()
    previous_in_table = False
    pending_space: list[tuple[str, Box | None]] = []
    for index, (char, box) in enumerate(chars):
        where = placed[index]
        if box is None or not char.strip():
            pending_space.append((char, box))
            continue
        if where is not None:
            pending_space.clear()
            if where[0] not in written:
                written.add(where[0])
                builder.add_text("\n\n")
                _write_rows(builder, chars, placed, where[0], len(tables[where[0]].rows))
                builder.add_text("\n\n")
            previous_in_table = True
            continue
        if not previous_in_table:
            for space, space_box in pending_space:
                builder.add(space, space_box)
        pending_space.clear()
        previous_in_table = False
        builder.add(char, box)
    return builder


def _place(box: Box, tables: list[TableGrid]) -> tuple[int, int, int] | None:
    """(table, row, cell) whose area holds the middle of `box`, or None outside every table."""
    x, y = (box.left + box.right) / 2, (box.bottom + box.top) / 2
    for table_index, table in enumerate(tables):
        if not _inside(table.outline, x, y):
            continue
        for row_index, row in enumerate(table.rows):
            for cell_index, cell in enumerate(row):
                if _inside(cell, x, y):
                    return table_index, row_index, cell_index
        return table_index, -1, -1
    return None


def _inside(area: Box, x: float, y: float) -> bool:
    return area.left <= x <= area.right and area.bottom <= y <= area.top


def _write_rows(
    builder: PageTextBuilder,
    chars: list[tuple[str, Box | None]],
    placed: list[tuple[int, int, int] | None],
    table: int,
    row_count: int,
) -> None:
    """One line per row, cells joined by " | " (as index/table_rows.py writes rows); a cell's characters in
    reading order, runs of space as one; cells without text left out."""
    cells: dict[tuple[int, int], list[int]] = {}
    for index, where in enumerate(placed):
        if where is not None and where[0] == table and where[1] >= 0:
            cells.setdefault((where[1], where[2]), []).append(index)
    first_row = True
    for row in range(row_count):
        keys = sorted(key for key in cells if key[0] == row)
        if not keys:
            continue
        if not first_row:
            builder.add("\n")
        first_row = False
        for position, key in enumerate(keys):
            if position:
                builder.add_text(CELL_SEPARATOR)
            _write_cell(builder, chars, cells[key])


def _write_cell(builder: PageTextBuilder, chars: list[tuple[str, Box | None]], indexes: list[int]) -> None:
    visible = [index for index in indexes if chars[index][0].strip()]
    for position, index in enumerate(visible):
        char, box = chars[index]
        if position and _space_between(chars, visible[position - 1], index):
            builder.add(" ")
        if char == "|":  # a cell's own "|" is escaped, as table_row writes it, so it never reads as a separator
            builder.add("\\", box)
        builder.add(char, box)


def _space_between(chars: list[tuple[str, Box | None]], before: int, after: int) -> bool:
    between = chars[before + 1 : after]
    if any(not char.strip() for char, _ in between):
        return True
    left, right = chars[before][1], chars[after][1]
    if left is None or right is None:
        return False
    return right.left - left.right > 0.25 * (left.top - left.bottom) or right.top < left.bottom
