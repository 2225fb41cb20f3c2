"""Reading paginated files: OCR seconds per scanned page, and a PDF of 10,000 blank pages (time and memory).

    python bench/pages.py [--ocr-pages 6] [--blank-pages 10000]

The scanned pages are A4 at 300 dpi, typed text rendered by Pillow (a clean scan: real scans take longer).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

from common import load, machine, peak_rss_mb, print_json, save_result
from PIL import Image, ImageDraw, ImageFont

PARAGRAPH = (
    "The tenant shall pay the rent monthly in advance, no later than the third working day of each month. "
    "Either party may end this agreement with three months' notice in writing. The landlord keeps the deposit "
    "in a separate account and returns it within thirty days after the end of the tenancy, less any amounts "
    "owed for damage beyond normal wear."
)


def scanned_page(number: int) -> Image.Image:
    """An A4 page at 300 dpi with about 40 lines of text."""
    page = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=40)
    words = f"Page {number}. {PARAGRAPH} {PARAGRAPH} {PARAGRAPH} {PARAGRAPH}".split()
    line, y = "", 200
    for word in words:
        if draw.textlength(f"{line} {word}", font=font) > 2080:
            draw.text((200, y), line, fill=0, font=font)
            line, y = word, y + 64
        else:
            line = f"{line} {word}".strip()
    draw.text((200, y), line, fill=0, font=font)
    return page.convert("RGB")


def pdf_of(images: list[Image.Image]) -> bytes:
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=300.0, save_all=True, append_images=images[1:])
    return out.getvalue()


def blank_pdf(pages: int) -> bytes:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(612, 792).close()
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ocr-pages", type=int, default=6)
    parser.add_argument("--blank-pages", type=int, default=10_000)
    args = parser.parse_args(argv)
    from index.errors import LoadError
    from index.loaders import load_document

    result: dict = {"machine": machine(), "load_before": load()}
    with tempfile.TemporaryDirectory() as folder:
        blank = Path(folder) / "blank.pdf"
        blank.write_bytes(blank_pdf(args.blank_pages))
        started = time.perf_counter()
        try:
            load_document(blank)
            outcome = "read"
        except LoadError as error:
            outcome = error.reason
        result["blank_pdf"] = {
            "pages": args.blank_pages,
            "megabytes": round(blank.stat().st_size / 1e6, 1),
            "seconds": round(time.perf_counter() - started, 2),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "outcome": outcome,
        }
        scan = Path(folder) / "scan.pdf"
        scan.write_bytes(pdf_of([scanned_page(number) for number in range(1, args.ocr_pages + 1)]))
        started = time.perf_counter()
        document = load_document(scan)
        seconds = time.perf_counter() - started
        result["ocr"] = {
            "pages": args.ocr_pages,
            "characters": len(document.text),
            "seconds": round(seconds, 2),
            "seconds_per_page": round(seconds / args.ocr_pages, 2),
            "all_pages_ocr": all(page.ocr for page in document.pages),
        }
    result["load_after"] = load()
    print_json(result)
    save_result("pages", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
