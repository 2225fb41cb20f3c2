"""Tables as quotable rows: DOCX and HTML tables are read one row per line (cells joined by " | "), and a question
answered from a table quotes exactly its row."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from index.html_text import html_to_text
from index.loaders import load_document
from index.table_rows import is_table_row, table_row

PRICE_ROWS = [
    ["Item", "Unit price", "Delivery"],
    ["Widget", "12.50 EUR", "3 days"],
    ["Acme Inc. gasket", "4 EUR.", "10 days"],
    ["Sprocket", "7.20 EUR", "5 days"],
]
CATALOGUE = """<html><head><title>Lighting catalogue</title></head><body>
<h1>Lighting catalogue</h1><p>Our lamps are made to order in the workshop.</p>
<table>
  <tbody><tr><td>Desk lamp</td><td>30 EUR</td><td>2 days</td></tr>
         <tr><td>Lantern</td><td>18 EUR</td><td>4 days</td></tr>
         <tr><td>Floor lamp</td><td>95 EUR</td><td>6 days</td></tr></tbody>
  <thead><tr><th>Item</th><th>Unit price</th><th>Delivery</th></tr></thead>
</table>
<p>Bulbs are sold separately.</p></body></html>"""


def save_docx(path: Path, rows: list[list[str]]) -> docx.document.Document:
    document = docx.Document()
    document.add_paragraph("Supplier price list for the spring order.")
    document.add_paragraph("All prices are per unit and exclude VAT. Delivery times are counted in working days.")
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    document.add_paragraph("Orders above 500 EUR ship free of charge.")
    document.save(str(path))
    return document


def html_text(markup: str) -> str:
    return html_to_text(markup)[1]


# --- one row, one line ---


def test_a_row_is_its_cells_on_one_line_with_pipes_escaped_and_trailing_empty_cells_left_out():
    assert table_row(["  Pipe | inside\n", "two\tspaces \u2028 here", "", " "]) == "Pipe \\| inside | two spaces here"
    assert table_row(["", "middle", "", "last"]) == " | middle |  | last"
    assert table_row(["", "\n", "\xa0"]) == ""
    assert is_table_row("Widget | 12.50 EUR") and not is_table_row("Pipe \\| inside") and not is_table_row("a|b")


# --- DOCX ---


def test_docx_table_reads_as_rows_between_blank_lines(tmp_path: Path):
    save_docx(tmp_path / "prices.docx", PRICE_ROWS)
    assert load_document(tmp_path / "prices.docx").text == (
        "Supplier price list for the spring order.\n\n"
        "All prices are per unit and exclude VAT. Delivery times are counted in working days.\n\n"
        "Item | Unit price | Delivery\n"
        "Widget | 12.50 EUR | 3 days\n"
        "Acme Inc. gasket | 4 EUR. | 10 days\n"
        "Sprocket | 7.20 EUR | 5 days\n\n"
        "Orders above 500 EUR ship free of charge."
    )


def test_docx_merged_cells_once_per_row_empty_rows_dropped_pipes_and_nested_tables_in_the_cell(tmp_path: Path):
    document = docx.Document()
    table = document.add_table(rows=5, cols=3)
    for c, text in enumerate(["Item", "Price", "Note"]):
        table.cell(0, c).text = text
    table.cell(1, 0).text = "Bolt"
    table.cell(1, 1).merge(table.cell(1, 2)).text = "on request"  # spans two columns: once
    table.cell(3, 0).merge(table.cell(4, 0)).text = "Nut"  # spans two rows: in each, so that each reads alone
    table.cell(3, 1).text = "M4 | M5"
    table.cell(3, 2).add_paragraph("second paragraph")
    table.cell(4, 1).text = "1 EUR"
    nested = table.cell(4, 2).add_table(rows=1, cols=2)
    nested.cell(0, 0).text, nested.cell(0, 1).text = "inner", "cells"
    document.save(str(tmp_path / "merged.docx"))
    assert load_document(tmp_path / "merged.docx").text == (
        "Item | Price | Note\nBolt | on request\nNut | M4 \\| M5 | second paragraph\nNut | 1 EUR | inner cells"
    )


def test_docx_long_vertically_merged_column_reads_every_row(tmp_path: Path):
    """python-docx's `row.cells` finds a merged cell one row up per recursive call: 3,000 rows overflowed it."""
    document = docx.Document()
    table = document.add_table(rows=3000, cols=2)
    for r, row in enumerate(table.rows):
        first, second = row.cells
        first.text, second.text = "group" if r == 0 else "", f"value {r}"
        first._tc.vMerge = "continue" if r else "restart"  # not table.cell(): it reads the whole table each call
    document.save(str(tmp_path / "long.docx"))
    lines = load_document(tmp_path / "long.docx").text.split("\n")
    assert lines == [f"group | value {r}" for r in range(3000)]


# --- HTML ---


def test_html_table_header_first_then_body_rows_between_blank_lines():
    assert html_text(CATALOGUE) == (
        "Lighting catalogue\n\nOur lamps are made to order in the workshop.\n\n"
        "Item | Unit price | Delivery\nDesk lamp | 30 EUR | 2 days\nLantern | 18 EUR | 4 days\n"
        "Floor lamp | 95 EUR | 6 days\n\nBulbs are sold separately."
    )


def test_html_spans_empty_rows_captions_and_pipes():
    markup = """<p>Before</p><table><caption>Prices  2024</caption>
    <tr><th rowspan="2">Item</th><th colspan="2">Price</th></tr>
    <tr><th>Net</th><th>Gross</th></tr>
    <tr><td>  </td><td></td><td>&nbsp;</td></tr>
    <tr><td rowspan="0">Cable<br>blue</td><td colspan=2>on | request</td></tr>
    <tr><td>1 EUR</td><td>1.19 EUR</td></tr>
    <tfoot><tr><td>Total</td><td>9</td></tr></tfoot></table>After"""
    assert html_text(markup) == (
        "Before\n\nPrices 2024\nItem | Price\nItem | Net | Gross\nCable blue | on \\| request\n"
        "Cable blue | 1 EUR | 1.19 EUR\nTotal | 9\n\nAfter"
    )


def test_html_cells_are_visible_text_only():
    markup = """<table><tr><td>a<script>alert(1)</script><style>td{}</style></td><td>&lt;b&gt; <!-- no --></td>
    <td><img src=x onerror="alert(2)">c<template><p>hidden</p></template></td></tr></table>"""
    assert html_text(markup) == "a | <b> | c"


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<table><tr><td><h1>Page</h1><p>One.</p></td><td>Side</td></tr></table>", "Page\n\nOne.\n\nSide"),
        ("<table><tr><td>Outer<table><tr><td>in</td><td>ner</td></tr></table></td></tr></table>", "Outer\n\nin | ner"),
        ('<table role="presentation"><tr><td>a</td><td>b</td></tr></table>', "a b"),
        ("<table><tr><td>a</td><td>b</td></tr>stray text</table>", "a b\nstray text"),
        ("<table><td>a</td><td>b</td></table>", "a b"),
    ],
    ids=["cell of page blocks", "nested table", "presentation", "text outside cells", "cells outside rows"],
)
def test_html_tables_that_lay_out_a_page_read_as_blocks(markup: str, text: str):
    assert html_text(markup) == text


# --- a question answered from a table quotes its row ---


@pytest.fixture
def price_lists(make_assistant, minilm, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    save_docx(folder / "prices.docx", PRICE_ROWS)
    (folder / "catalogue.html").write_text(CATALOGUE, encoding="utf-8")
    assistant = make_assistant(minilm)
    assert assistant.index_paths([folder]).count("failed") == 0
    return assistant


@pytest.mark.parametrize(
    ("question", "row"),
    [
        ("What is the unit price of the widget?", "Widget | 12.50 EUR | 3 days"),
        ("How much does the gasket cost?", "Acme Inc. gasket | 4 EUR. | 10 days"),
        ("What is the unit price of the lantern?", "Lantern | 18 EUR | 4 days"),
    ],
)
def test_a_question_answered_from_a_table_quotes_its_row(price_lists, question: str, row: str):
    answer = price_lists.ask(question)
    assert answer.answered
    quoting = [citation for citation in answer.citations if row.split(" | ")[0] in citation.quote]
    assert [citation.quote for citation in quoting] == [row]
    for citation in answer.citations:
        text = price_lists.document_text(citation.document_id)
        assert text[citation.start : citation.end] == citation.quote
        if is_table_row(citation.quote):
            assert f"\n{citation.quote}\n" in f"\n{text}\n", "a quoted row is a whole line"
