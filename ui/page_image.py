"""The page behind a quote as HTML: the rendered page, and over it one box per line of the quote.

The boxes carry their place as data attributes (`data-left` ... as fractions of the page), so a browser test can
read what is marked; the image is inline (a data URL), so nothing is served from the document's folder.
"""

from __future__ import annotations

import base64
import html

from assistant.page_view import MarkedPage
from ui.citations import scroll_into_view

PAGE_CSS = """
<style>
.qa-page { position: relative; display: inline-block; width: 100%; border: 1px solid #ddd; border-radius: 6px;
  overflow: hidden; background: #fff; line-height: 0; }
.qa-page img { width: 100%; height: auto; display: block; }
.qa-page-box { position: absolute; background: rgba(255, 214, 0, 0.38); outline: 2px solid rgba(230, 160, 0, 0.9);
  border-radius: 2px; pointer-events: none; }
.qa-page-note { font-size: 0.85em; opacity: 0.75; margin: 0.2rem 0 0.4rem 0; }
</style>
"""


# Runs in the page, not in the document: scrolls the first marked box into the middle of the dialog.
SCROLL_TO_BOX = scroll_into_view(".qa-page-box")


def page_html(page: MarkedPage, title: str) -> str:
    """The page image with the quote's boxes over it; a note says when the text came from OCR."""
    image = base64.b64encode(page.png).decode("ascii")
    boxes = "".join(
        f'<div class="qa-page-box" data-left="{box.left}" data-top="{box.top}" data-width="{box.width}" '
        f'data-height="{box.height}" style="left:{box.left * 100:.3f}%;top:{box.top * 100:.3f}%;'
        f'width:{box.width * 100:.3f}%;height:{box.height * 100:.3f}%"></div>'
        for box in page.boxes
    )
    source = "read from the page image by OCR" if page.ocr else "from the PDF's text layer"
    note = (
        f'<div class="qa-page-note">{html.escape(title)}: the quote is marked on page {page.number} '
        f"({len(page.boxes)} box{'es' if len(page.boxes) != 1 else ''}; text {source}).</div>"
    )
    return (
        f'{PAGE_CSS}{note}<div class="qa-page" data-page="{page.number}" data-quote-start="{page.start}" '
        f'data-quote-end="{page.end}" data-ocr="{str(page.ocr).lower()}">'
        f'<img alt="Page {page.number}" src="data:image/png;base64,{image}">{boxes}</div>'
    )
