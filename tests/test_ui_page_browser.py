"""In a real headless Chromium: a PDF citation opens on its page, the quote's characters marked over the image."""

from __future__ import annotations

import pytest
from helpers import make_pdf
from test_page_view import LINES, char_centres
from test_ui_browser import WAIT_MS, _ask, browser, page, server, shots  # noqa: F401 (fixtures of this module)

pytestmark = pytest.mark.browser


def test_a_pdf_citation_shows_its_page_with_the_quote_marked(page, server, tmp_path, shots):  # noqa: F811
    data = make_pdf([["Cover page of the minutes."], LINES])
    minutes = tmp_path / "library-minutes.pdf"
    minutes.write_bytes(data)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(minutes))
    page.get_by_text("library-minutes.pdf").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Index uploaded files").click()
    page.get_by_text("library-minutes.pdf: added").wait_for(timeout=WAIT_MS)

    _ask(page, "What is the budget for the new library?")
    opener = page.get_by_role("button", name="Open [1] in the document")
    opener.wait_for(timeout=WAIT_MS)
    quote = page.locator("mark.qa-quote").first.inner_text()
    assert quote == "The budget for the new library is 4.2 million euros."
    opener.click()

    view = page.locator(".qa-page")
    view.wait_for(timeout=30_000)
    image = view.locator("img")
    page.wait_for_function("() => { const i = document.querySelector('.qa-page img'); return i && i.naturalWidth > 0 }")
    assert image.evaluate("element => element.naturalWidth") >= 600
    assert view.get_attribute("data-page") == "2"
    boxes = view.locator(".qa-page-box")
    marked = [
        {name: float(boxes.nth(i).get_attribute(f"data-{name}")) for name in ("left", "top", "width", "height")}
        for i in range(boxes.count())
    ]
    assert marked, "no box marks the quote"
    inside, outside = char_centres(data, 2, quote)

    def covered(point: tuple[float, float]) -> bool:
        x, y = point
        return any(b["left"] <= x <= b["left"] + b["width"] and b["top"] <= y <= b["top"] + b["height"] for b in marked)

    assert all(covered(point) for point in inside)
    assert not any(covered(point) for point in outside)
    # the boxes are drawn where their data says: over the image, at its scale
    shown = image.bounding_box()
    drawn = boxes.first.bounding_box()
    assert shown is not None and drawn is not None
    assert drawn["x"] == pytest.approx(shown["x"] + marked[0]["left"] * shown["width"], abs=2)
    assert drawn["y"] == pytest.approx(shown["y"] + marked[0]["top"] * shown["height"], abs=2)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stToast\"]')", timeout=30_000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "page-view.png"))
