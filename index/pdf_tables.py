"""Where the ruled tables of a PDF page are, and the cells of each row, found by pdfplumber.

Only the grid comes from pdfplumber; the text of the cells is taken from pdfium's characters (index/pdf_reader.py)
so that every character of a row keeps the box the page view draws.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from index.page_text import Box


@dataclass(frozen=True)
class TableGrid:
    """A table's outline and its rows; a row lists its cells left to right (a merged cell once)."""

    outline: Box
    rows: tuple[tuple[Box, ...], ...]


def find_tables(data: bytes, page_numbers: Iterable[int]) -> dict[int, list[TableGrid]]:
    """The ruled tables (two rows and two columns at least) of the given pages (numbered from 1), by page."""
    wanted = sorted(set(page_numbers))
    if not wanted:
        return {}
    import pdfplumber

    found: dict[int, list[TableGrid]] = {}
    with _quiet_pdfminer(), pdfplumber.open(io.BytesIO(data)) as pdf:
        for number in wanted:
            page = pdf.pages[number - 1]
            top_of_page = float(page.bbox[3]) if page.bbox else float(page.height)
            grids = [_grid(table.rows, table.bbox, top_of_page) for table in page.find_tables()]
            kept = [grid for grid in grids if len(grid.rows) >= 2 and max(len(row) for row in grid.rows) >= 2]
            if kept:
                found[number] = kept
            page.close()
    return found


def _grid(rows: list, bbox: tuple[float, float, float, float], height: float) -> TableGrid:
    """pdfplumber measures from the page's top; PDF coordinates (and pdfium's boxes) from its bottom."""

    def box(cell: tuple[float, float, float, float]) -> Box:
        left, top, right, bottom = cell
        return Box(float(left), height - float(bottom), float(right), height - float(top))

    return TableGrid(box(bbox), tuple(tuple(box(cell) for cell in row.cells if cell is not None) for row in rows))


@contextmanager
def _quiet_pdfminer() -> Iterator[None]:
    """pdfminer warns about every odd object it skips; the text is read by pdfium, the grid is a bonus."""
    logger = logging.getLogger("pdfminer")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
