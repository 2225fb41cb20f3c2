"""A Word table as lines of text, one row per line (`index/table_rows.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from index.table_rows import table_lines


def docx_table_lines(table: Table) -> list[str]:
    """The table's rows with text, the header row first, as `table_row` lines."""
    return table_lines(_row_texts(table))


def _row_texts(table: Table) -> list[list[str]]:
    """Each row's cell texts, a merged cell once per row; a vertically merged cell in every row it spans, so that
    each row reads on its own. Not `row.cells`: it repeats a cell for every grid column it spans, and finds a
    vertically merged cell by walking up one row per call, recursively (a long merged column overflows the stack)."""
    rows = []
    above: dict[int, str] = {}  # grid column -> the text of the cell starting there in the row above
    for row in table.rows:
        texts, starting = [], {}
        column = row.grid_cols_before
        for tc in row._tr.tc_lst:
            text = above.get(column, "") if tc.vMerge == "continue" else _cell_text(_Cell(tc, table))
            texts.append(text)
            starting[column] = text
            column += tc.grid_span
        rows.append(texts)
        above = starting
    return rows


def _cell_text(cell: _Cell) -> str:
    """A cell's paragraphs and the cells of any table nested in it, in order, as one run of text."""
    texts = []
    pending: list[Iterator[Paragraph | Table]] = [cell.iter_inner_content()]
    while pending:  # a loop, not recursion: tables can nest deeper than the recursion limit
        item = next(pending[-1], None)
        if item is None:
            pending.pop()
        elif isinstance(item, Paragraph):
            texts.append(item.text)
        else:
            cells = (_Cell(tc, item) for row in item.rows for tc in row._tr.tc_lst if tc.vMerge != "continue")
            pending.append(chain.from_iterable(nested.iter_inner_content() for nested in cells))
    return " ".join(texts)
