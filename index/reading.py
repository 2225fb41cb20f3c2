"""How files that need more than decoding are read: OCR, and the limits on pages and image sizes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

OCR_MODES = ("auto", "off", "always")


@dataclass(frozen=True)
class ReadingSettings:
    """`ocr`: auto (PDF pages without a usable text layer, and image files), off (never), always (every PDF page,
    text layer or not); `ocr_language`: Tesseract's language code(s), e.g. eng or eng+deu; a PDF with more than
    `max_pages` pages, or an image of more than `max_image_pixels`, is refused with a message."""

    ocr: str = "auto"
    ocr_language: str = "eng"
    max_pages: int = 10_000
    max_image_pixels: int = 60_000_000  # an A4 page scanned at 600 dpi is about 35 million

    def __post_init__(self) -> None:
        if self.ocr not in OCR_MODES:
            raise ValueError(f"OCR must be one of {', '.join(OCR_MODES)}, got {self.ocr!r}")
        if not self.ocr_language.strip():
            raise ValueError("the OCR language must not be empty (e.g. eng)")
        if self.max_pages <= 0:
            raise ValueError(f"max_pages must be > 0, got {self.max_pages}")
        if self.max_image_pixels <= 0:
            raise ValueError(f"max_image_pixels must be > 0, got {self.max_image_pixels}")


PageCallback = Callable[[int], None]  # called with the number of pages just read by OCR
