"""Read the text of a page image with Tesseract (offline), keeping where each word sits on the page."""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import replace

from PIL import Image, ImageOps

from index.page_text import Box, PageText, PageTextBuilder
from index.tesseract import RecognisedWord, read_rotation, read_words

INSTALL_COMMAND = "apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd"
OCR_DPI = 300  # Tesseract's accuracy falls off below about 300 dpi
_INK_LEVEL = 96  # how much darker than the page's background a pixel must be to count as ink
_BLANK_INK_SHARE = 0.0005
_THUMBNAIL_SIDE = 300
_LOW_CONFIDENCE = 45.0  # mean word confidence under which the page may be rotated


class OcrUnavailable(Exception):
    """Tesseract, or its data for the language, is not installed; the message says how to install it."""


def check_available(language: str) -> None:
    """Raise OcrUnavailable unless Tesseract and each language in `language` ("eng+deu") are installed."""
    missing = missing_languages(language)
    if missing is None:
        raise OcrUnavailable(f"needs OCR, but Tesseract is not installed (install it: {INSTALL_COMMAND})")
    if missing:
        package = " ".join(f"tesseract-ocr-{code}" for code in missing)
        raise OcrUnavailable(
            f"needs OCR in '{'+'.join(missing)}', which Tesseract lacks (install it: apt-get install {package})"
        )


def tesseract_path() -> str | None:
    """Where the Tesseract command is, or None when it is not installed (not on PATH)."""
    return shutil.which("tesseract")


def missing_languages(language: str) -> list[str] | None:
    """The codes in `language` ("eng+deu") Tesseract has no data for; None when Tesseract is not installed."""
    installed = _installed_languages()
    if installed is None:
        return None
    return [code for code in language.split("+") if code not in installed]


@functools.cache
def _installed_languages() -> frozenset[str] | None:
    binary = tesseract_path()
    if binary is None:
        return None
    try:
        listing = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (listing.stdout + listing.stderr).splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and " " not in line.strip())


def looks_blank(image: Image.Image) -> bool:
    """True when a thumbnail of the page has (almost) no pixel clearly darker than its background."""
    thumbnail = ImageOps.grayscale(image)
    thumbnail.thumbnail((_THUMBNAIL_SIDE, _THUMBNAIL_SIDE))
    histogram = thumbnail.histogram()
    total = sum(histogram)
    background = max(range(256), key=histogram.__getitem__)
    ink = sum(histogram[: max(background - _INK_LEVEL, 0)])
    return total == 0 or ink / total < _BLANK_INK_SHARE


def recognise(
    image: Image.Image, number: int, language: str, *, points_per_pixel: float = 1.0, dpi: int = OCR_DPI
) -> PageText:
    """The page's text as Tesseract reads it; boxes are in points (`points_per_pixel` converts), origin at the
    bottom left like a PDF page's. A page Tesseract reads poorly is checked for rotation (its orientation data)
    and read again upright. TesseractFailed when Tesseract cannot read it."""
    check_available(language)
    binary = tesseract_path() or "tesseract"
    gray = ImageOps.grayscale(image)
    words = read_words(binary, gray, language, dpi)
    if _confidence(words) < _LOW_CONFIDENCE and "osd" in (_installed_languages() or ()):
        clockwise = read_rotation(binary, gray, dpi)
        if clockwise:
            angle = -clockwise % 360  # PIL turns counter-clockwise
            turned = read_words(binary, gray.rotate(angle, expand=True), language, dpi)
            if _confidence(turned) > _confidence(words):
                words = [_unrotated(word, angle, gray.size) for word in turned]
    return _page(words, number, gray.size, points_per_pixel)


def _confidence(words: list[RecognisedWord]) -> float:
    return sum(word.confidence for word in words) / len(words) if words else 0.0


def _unrotated(word: RecognisedWord, angle: int, size: tuple[int, int]) -> RecognisedWord:
    left, top, right, bottom = _unrotate(
        (word.left, word.top, word.left + word.width, word.top + word.height), angle, size
    )
    return replace(word, left=left, top=top, width=right - left, height=bottom - top)


_PixelBox = tuple[int, int, int, int]  # left, top, right, bottom in pixels


def _unrotate(box: _PixelBox, angle: int, size: tuple[int, int]) -> _PixelBox:
    """A box found on the page turned by `angle` (90, 180, 270 counter-clockwise), on the page as it came."""
    width, height = size
    left, top, right, bottom = box
    if angle == 90:
        corners = [(width - top, left), (width - bottom, right)]
    elif angle == 180:
        corners = [(width - left, height - top), (width - right, height - bottom)]
    elif angle == 270:
        corners = [(top, height - left), (bottom, height - right)]
    else:
        return box
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    return min(xs), min(ys), max(xs), max(ys)


def _page(words: list[RecognisedWord], number: int, size: tuple[int, int], points_per_pixel: float) -> PageText:
    builder = PageTextBuilder()
    previous: RecognisedWord | None = None
    height_points = size[1] * points_per_pixel
    for word in words:
        if previous is not None:
            if (previous.block, previous.paragraph) != (word.block, word.paragraph):
                builder.add_text("\n\n")
            elif previous.line != word.line:
                builder.add("\n")
            else:
                builder.add(" ")
        previous = word
        step = word.width / len(word.text)  # Tesseract boxes words; each letter gets its share of the word
        bottom = height_points - (word.top + word.height) * points_per_pixel
        top = height_points - word.top * points_per_pixel
        for position, char in enumerate(word.text):
            left = (word.left + step * position) * points_per_pixel
            builder.add(char, Box(left, bottom, left + step * points_per_pixel, top))
    return builder.build(number, ocr=True, width=size[0] * points_per_pixel, height=height_points)
