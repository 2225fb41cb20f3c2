"""The page behind a quote: the marked boxes cover exactly the quote's characters, as pdfium places them."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
from helpers import make_pdf
from scans import require_tesseract, scanned_pdf

from assistant.page_view import MarkedBox, PageUnavailable

LINES = [
    "The committee met in March. The budget for the new library is 4.2 million euros. Work starts in May.",
    "The architect presented three designs for the reading room.",
]


def char_centres(data: bytes, number: int, text: str) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Centres (fractions of the page, from the top left) of `text`'s characters on the page, and of the others."""
    pdf = pdfium.PdfDocument(data)
    page = pdf[number - 1]
    width, height = page.get_size()
    textpage = page.get_textpage()
    full = textpage.get_text_range()
    first = full.index(text)
    inside, outside = [], []
    for index in range(textpage.count_chars()):
        if not full[index].strip():
            continue
        left, bottom, right, top = textpage.get_charbox(index, loose=True)
        centre = ((left + right) / 2 / width, (height - (bottom + top) / 2) / height)
        (inside if first <= index < first + len(text) else outside).append(centre)
    pdf.close()
    return inside, outside


def covered(point: tuple[float, float], boxes: tuple[MarkedBox, ...]) -> bool:
    x, y = point
    return any(box.left <= x <= box.left + box.width and box.top <= y <= box.top + box.height for box in boxes)


def test_the_marked_boxes_cover_exactly_the_quote_on_its_page(tmp_path, make_assistant, fake_embedder):
    data = make_pdf([["Cover page of the minutes."], LINES])
    (tmp_path / "minutes.pdf").write_bytes(data)
    assistant = make_assistant(fake_embedder)
    assistant.index_paths([tmp_path])
    answer = assistant.ask("What is the budget for the new library?")
    citation = answer.citations[0]
    assert citation.quote == "The budget for the new library is 4.2 million euros."
    assert citation.page == 2 and not citation.ocr

    page = assistant.page_with_quote(citation.document_id, citation.start, citation.end, citation.quote)
    assert page.number == 2 and not page.ocr and page.png.startswith(b"\x89PNG")
    assert (page.start, page.end) == (citation.start, citation.end)
    inside, outside = char_centres(data, 2, citation.quote)
    assert inside and all(covered(point, page.boxes) for point in inside)
    assert not any(covered(point, page.boxes) for point in outside)
    again = assistant.page_with_quote(citation.document_id, citation.start, citation.end, citation.quote)
    assert again == page  # from the cache


def test_a_changed_file_or_a_wrong_quote_marks_nothing(tmp_path, make_assistant, fake_embedder):
    path = tmp_path / "minutes.pdf"
    path.write_bytes(make_pdf([LINES]))
    assistant = make_assistant(fake_embedder)
    assistant.index_paths([tmp_path])
    citation = assistant.ask("What is the budget for the new library?").citations[0]
    with pytest.raises(PageUnavailable, match="no longer reads as it did"):
        assistant.page_with_quote(citation.document_id, citation.start, citation.end, "Another quote entirely here.")
    path.write_bytes(make_pdf([["Someone replaced the minutes."]]))
    fresh = make_assistant(fake_embedder)  # the first one keeps the page it read (from the indexed file)
    with pytest.raises(PageUnavailable, match="the file changed since it was indexed"):
        fresh.page_with_quote(citation.document_id, citation.start, citation.end, citation.quote)


def test_a_scanned_page_is_marked_from_ocr_word_boxes(tmp_path, make_assistant, fake_embedder):
    require_tesseract()
    (tmp_path / "scan.pdf").write_bytes(
        scanned_pdf([["The lease starts on 1 March 2024.", "The monthly rent is 2,400 EUR, payable in advance."]])
    )
    assistant = make_assistant(fake_embedder)
    assistant.index_paths([tmp_path])
    citation = assistant.ask("How much is the monthly rent?").citations[0]
    page = assistant.page_with_quote(citation.document_id, citation.start, citation.end, citation.quote)
    assert page.ocr and len(page.boxes) == 1  # one line
    [box] = page.boxes
    # page_image types from x=200 px on a 2480 x 3508 px page, the second line at y = 250 + 77 px
    assert box.left == pytest.approx(200 / 2480, abs=0.01)
    assert box.top == pytest.approx((250 + 77) / 3508, abs=0.01)
    assert 0.3 < box.width < 0.8 and box.height < 0.03


def test_an_image_file_opens_on_itself_with_the_quote_marked(tmp_path, make_assistant, fake_embedder):
    require_tesseract()
    from scans import image_bytes, page_image

    lines = ["The lease starts on 1 March 2024.", "The monthly rent is 2,400 EUR, payable in advance."]
    (tmp_path / "lease.png").write_bytes(image_bytes(page_image(lines, size=(1800, 600)), "PNG"))
    assistant = make_assistant(fake_embedder)
    assistant.index_paths([tmp_path])
    citation = assistant.ask("How much is the monthly rent?").citations[0]
    assert citation.ocr and citation.page == 1
    page = assistant.page_with_quote(citation.document_id, citation.start, citation.end, citation.quote)
    assert page.ocr and page.png.startswith(b"\x89PNG") and len(page.boxes) == 1
    assert page.boxes[0].left == pytest.approx(200 / 1800, abs=0.01)
