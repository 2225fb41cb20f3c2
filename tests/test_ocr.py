"""Scanned PDFs and image files read with Tesseract, PDF tables as rows, and what a bad scan gets."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from scans import image_bytes, page_image, require_tesseract, scanned_pdf, table_pdf

from assistant.render import source_label
from index.errors import LoadError
from index.indexer import SilentProgress
from index.loaders import load_document
from index.models import FileStatus
from index.reading import ReadingSettings

LEASE = [
    "The lease starts on 1 March 2024 and runs for five years.",
    "The monthly rent is 2,400 EUR, payable in advance.",
]
HOUSE_RULES = ["Pets are allowed with the written consent of the landlord."]


def verify(assistant, citation) -> None:
    assert assistant.document_text(citation.document_id)[citation.start : citation.end] == citation.quote


def test_a_scanned_pdf_is_read_with_ocr_and_its_quote_verifies(tmp_path, make_assistant, fake_embedder):
    require_tesseract()
    (tmp_path / "lease.pdf").write_bytes(scanned_pdf([LEASE, [], HOUSE_RULES]))
    assistant = make_assistant(fake_embedder)
    pages: list[int] = []

    class Recorder(SilentProgress):
        def pages_ocred(self, count: int) -> None:
            pages.append(count)

    report = assistant.index_paths([tmp_path], progress=Recorder())
    assert [outcome.status for outcome in report.outcomes] == [FileStatus.ADDED]
    assert sum(pages) == 2  # the blank middle page is skipped without OCR
    [document] = assistant.sources()
    assert [(page.number, page.ocr) for page in document.pages] == [(1, True), (3, True)]

    answer = assistant.ask("How much is the monthly rent?")
    assert answer.answered
    cited = answer.citations[0]
    assert "2,400 EUR" in cited.quote and cited.ocr and cited.page == 1
    verify(assistant, cited)
    assert answer.to_dict()["citations"][0]["ocr"] is True
    assert source_label(cited) == "lease.pdf, page 1 (OCR)"  # as the app and the CLI name it

    answer = assistant.ask("Are pets allowed?")
    assert answer.citations[0].page == 3 and "written consent" in answer.citations[0].quote


def test_an_unchanged_scan_is_not_read_again(tmp_path, make_assistant, fake_embedder, monkeypatch):
    require_tesseract()
    import index.image_reader

    calls = []
    real = index.image_reader.recognise
    monkeypatch.setattr(index.image_reader, "recognise", lambda *args, **kw: calls.append(args) or real(*args, **kw))
    (tmp_path / "rules.png").write_bytes(image_bytes(page_image(HOUSE_RULES, size=(1700, 900)), "PNG"))
    assistant = make_assistant(fake_embedder)
    assert assistant.index_paths([tmp_path]).outcomes[0].status == FileStatus.ADDED
    assert len(calls) == 1
    assert assistant.index_paths([tmp_path]).outcomes[0].status == FileStatus.UNCHANGED
    assert len(calls) == 1


@pytest.mark.parametrize("suffix,form", [(".png", "PNG"), (".jpg", "JPEG"), (".tiff", "TIFF")])
def test_image_files_are_read_with_ocr(tmp_path, suffix, form):
    require_tesseract()
    path = tmp_path / f"notice{suffix}"
    path.write_bytes(image_bytes(page_image(LEASE, size=(1900, 700)), form))
    document = load_document(path)
    assert document.file_type == "image"
    assert "monthly rent is 2,400 EUR" in document.text
    assert document.pages[0].ocr and document.pages[0].start == 0


def test_a_rotated_scan_is_read_upright(tmp_path):
    require_tesseract()
    path = tmp_path / "sideways.png"
    path.write_bytes(image_bytes(page_image(LEASE, size=(1900, 700)).rotate(90, expand=True), "PNG"))
    assert "The monthly rent is 2,400 EUR" in load_document(path).text


def test_ocr_settings_off_and_always(tmp_path):
    require_tesseract()
    image = tmp_path / "scan.png"
    image.write_bytes(image_bytes(page_image(LEASE, size=(1900, 700)), "PNG"))
    with pytest.raises(LoadError, match=r"OCR, which is off \(ASSISTANT_OCR=off\)"):
        load_document(image, reading=ReadingSettings(ocr="off"))
    pdf = tmp_path / "mixed.pdf"
    pdf.write_bytes(scanned_pdf([LEASE]))
    with pytest.raises(LoadError, match="no text could be extracted"):
        load_document(pdf, reading=ReadingSettings(ocr="off"))
    table = tmp_path / "table.pdf"
    table.write_bytes(table_pdf("Prices.", [["Item", "Price"], ["Widget", "40 EUR"]], "The end."))
    assert not any(page.ocr for page in load_document(table).pages)
    read_by_ocr = load_document(table, reading=ReadingSettings(ocr="always"))
    assert read_by_ocr.pages[0].ocr and "Widget" in read_by_ocr.text


def test_without_tesseract_a_scan_gets_one_line_and_the_rest_is_indexed(
    tmp_path, make_assistant, fake_embedder, monkeypatch
):
    import index.ocr

    monkeypatch.setattr(index.ocr.shutil, "which", lambda name: None)
    index.ocr._installed_languages.cache_clear()
    try:
        (tmp_path / "scan.pdf").write_bytes(scanned_pdf([LEASE]))
        (tmp_path / "photo.png").write_bytes(image_bytes(page_image(LEASE, size=(800, 300)), "PNG"))
        (tmp_path / "notes.txt").write_text("The boiler was serviced in May.", encoding="utf-8")
        report = make_assistant(fake_embedder).index_paths([tmp_path])
    finally:
        index.ocr._installed_languages.cache_clear()
    by_name = {Path(outcome.source).name: outcome for outcome in report.outcomes}
    assert by_name["notes.txt"].status == FileStatus.ADDED
    for name in ("scan.pdf", "photo.png"):
        assert by_name[name].status == FileStatus.FAILED
        assert "Tesseract is not installed" in by_name[name].reason
        assert "apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd" in by_name[name].reason


def test_a_pdf_table_becomes_rows_and_a_question_quotes_its_row(tmp_path, make_assistant, fake_embedder):
    rows = [["Item", "Unit price", "Delivery"], ["Widget", "40 EUR", "3 days"], ["Gadget", "125 EUR", "2 weeks"]]
    (tmp_path / "prices.pdf").write_bytes(table_pdf("Prices for the spring order.", rows, "Prices include VAT."))
    document = load_document(tmp_path / "prices.pdf")
    assert document.text == (
        "Prices for the spring order.\n\n"
        "Item | Unit price | Delivery\nWidget | 40 EUR | 3 days\nGadget | 125 EUR | 2 weeks\n\n"
        "Prices include VAT."
    )
    assistant = make_assistant(fake_embedder)
    assistant.index_paths([tmp_path])
    answer = assistant.ask("What is the unit price of the gadget?")
    assert answer.citations[0].quote == "Gadget | 125 EUR | 2 weeks"
    verify(assistant, answer.citations[0])


def test_a_pdf_over_the_page_limit_is_refused_and_blank_pages_are_skipped(tmp_path, make_assistant, fake_embedder):
    from helpers import make_pdf

    (tmp_path / "blank.pdf").write_bytes(make_pdf([[] for _ in range(10_000)]))
    (tmp_path / "short.pdf").write_bytes(make_pdf([["Invoices are due within 30 days."], []]))
    (tmp_path / "long.pdf").write_bytes(make_pdf([["A page of text."] for _ in range(30)]))
    report = make_assistant(fake_embedder, max_pages=20).index_paths([tmp_path])
    by_name = {Path(outcome.source).name: outcome for outcome in report.outcomes}
    assert by_name["short.pdf"].status == FileStatus.ADDED
    assert by_name["long.pdf"].reason == "the PDF has 30 pages, over the 20-page limit (ASSISTANT_MAX_PAGES)"
    assert by_name["blank.pdf"].reason == "the PDF has 10,000 pages, over the 20-page limit (ASSISTANT_MAX_PAGES)"
    with pytest.raises(LoadError, match=r"no text could be extracted \(all 10,000 pages are blank\)"):
        load_document(tmp_path / "blank.pdf")


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares its size and holds no pixels: what a decompression bomb looks like from outside."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + ihdr + end


def test_bad_images_get_a_reason_and_the_rest_is_indexed(tmp_path, make_assistant, fake_embedder):
    require_tesseract()
    (tmp_path / "giant.png").write_bytes(_png_header_only(20_000, 20_000))
    (tmp_path / "wide.png").write_bytes(_png_header_only(12_000, 8_000))
    (tmp_path / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 200)
    (tmp_path / "truncated.png").write_bytes(image_bytes(page_image(LEASE, size=(800, 300)), "PNG")[:400])
    (tmp_path / "notes.txt").write_text("The boiler was serviced in May.", encoding="utf-8")
    report = make_assistant(fake_embedder).index_paths([tmp_path])
    by_name = {Path(outcome.source).name: outcome for outcome in report.outcomes}
    assert by_name["notes.txt"].status == FileStatus.ADDED
    assert by_name["giant.png"].reason == "the image has 400,000,000 pixels, over the limit of 60,000,000 pixels"
    assert by_name["wide.png"].reason == "the image is 12,000 x 8,000 pixels, over the limit of 60,000,000 pixels"
    assert by_name["corrupt.jpg"].reason.startswith("not a readable image")
    assert by_name["truncated.png"].reason.startswith("could not read the image")


def test_a_pipe_inside_a_pdf_table_cell_is_escaped_and_every_row_is_one_line(tmp_path):
    rows = [["Part", "Note"], ["Valve | brass", "in stock"], ["", ""], ["Seal", "two weeks"]]
    (tmp_path / "parts.pdf").write_bytes(table_pdf("Parts.", rows, "End."))
    text = load_document(tmp_path / "parts.pdf").text
    assert "Part | Note\nValve \\| brass | in stock\nSeal | two weeks" in text  # the empty row is left out
