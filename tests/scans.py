"""Test documents that need more than text: page images for OCR and PDFs with ruled tables (imported as `scans`)."""

from __future__ import annotations

import io
import os
import shutil

import pytest
from helpers import pdf_file
from PIL import Image, ImageDraw, ImageFont

PAGE_SIZE = (2480, 3508)  # A4 at 300 dpi


def require_tesseract() -> None:
    """Tesseract with English: missing skips locally, fails under CI=true (.ci/run installs it)."""
    if shutil.which("tesseract") is None:
        message = "tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def page_image(lines: list[str], *, size: tuple[int, int] = PAGE_SIZE, font_size: int = 48) -> Image.Image:
    """A white page with the lines typed on it in black, as a scanner would give it."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=font_size)
    y = 250
    for line in lines:
        draw.text((200, y), line, fill=0, font=font)
        y += int(font_size * 1.6)
    return image


def image_bytes(image: Image.Image, format: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=format)
    return out.getvalue()


def scanned_pdf(pages: list[list[str]]) -> bytes:
    """A PDF whose pages are images only (no text layer), 300 dpi."""
    images = [page_image(lines).convert("RGB") for lines in pages]
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=300.0, save_all=True, append_images=images[1:])
    return out.getvalue()


def table_pdf(intro: str, rows: list[list[str]], outro: str) -> bytes:
    """One page: a line of text, a table ruled with lines (one column per cell of the rows), and a line after."""
    columns = max(len(row) for row in rows)
    left, width, height, top = 72, 450 / columns, 22, 680
    ops = ["BT", "/F1 11 Tf", f"72 720 Td ({intro}) Tj", "ET", "0.5 w"]
    for index, row in enumerate(rows):
        y = top - index * height
        for column, cell in enumerate(row):
            x = left + column * width
            ops.append(f"{x:.1f} {y - height:.1f} {width:.1f} {height:.1f} re S")
            ops.append(f"BT /F1 11 Tf {x + 4:.1f} {y - 15:.1f} Td ({cell}) Tj ET")
    bottom = top - len(rows) * height - 30
    ops.append(f"BT /F1 11 Tf 72 {bottom} Td ({outro}) Tj ET")
    stream = "\n".join(ops).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf_file(objects)
