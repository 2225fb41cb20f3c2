"""Read image files (scans and photos of pages) with OCR: each frame of the file is a page."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator

from PIL import Image, ImageOps, UnidentifiedImageError

from index.ocr import OCR_DPI, OcrUnavailable, check_available, looks_blank, recognise
from index.page_text import PageText
from index.reading import PageCallback, ReadingSettings


class ImageProblem(Exception):
    """The image cannot be read; the message is the reason, for a person."""


def read_image(data: bytes, settings: ReadingSettings, on_ocr_page: PageCallback | None = None) -> list[PageText]:
    """The text of each frame that is not blank."""
    if settings.ocr == "off":
        raise ImageProblem("an image is read with OCR, which is off (ASSISTANT_OCR=off)")
    try:
        check_available(settings.ocr_language)
    except OcrUnavailable as exc:
        raise ImageProblem(f"the image {exc}") from None
    pages = []
    for number, frame in enumerate(_frames(data, settings), start=1):
        if looks_blank(frame):
            continue
        pages.append(recognise(frame, number, settings.ocr_language, dpi=_dpi(frame)))
        if on_ocr_page is not None:
            on_ocr_page(1)
    return pages


def read_image_page(data: bytes, number: int, settings: ReadingSettings) -> PageText:
    """Frame `number` (from 1) exactly as `read_image` read it."""
    for index, frame in enumerate(_frames(data, settings), start=1):
        if index == number:
            if looks_blank(frame):
                return PageText(number, "", (), ocr=True, width=frame.width, height=frame.height)
            return recognise(frame, number, settings.ocr_language, dpi=_dpi(frame))
    raise ImageProblem(f"the image has no page {number}")


def open_image_page(data: bytes, number: int) -> Image.Image:
    """Frame `number` upright, as RGB, for showing."""
    for index, frame in enumerate(_frames(data, ReadingSettings()), start=1):
        if index == number:
            return frame.convert("RGB")
    raise ImageProblem(f"the image has no page {number}")


def _frames(data: bytes, settings: ReadingSettings) -> Iterator[Image.Image]:
    image = _open(data, settings)
    width, height = image.size
    if width * height > settings.max_image_pixels:
        raise ImageProblem(
            f"the image is {width:,} x {height:,} pixels, over the limit of {settings.max_image_pixels:,} pixels"
        )
    frames = getattr(image, "n_frames", 1)
    if frames > settings.max_pages:
        raise ImageProblem(
            f"the image has {frames:,} pages, over the {settings.max_pages:,}-page limit (ASSISTANT_MAX_PAGES)"
        )
    for index in range(frames):
        try:
            image.seek(index)
            frame = ImageOps.exif_transpose(image.copy()) if index == 0 else image.copy()
            if frame.width * frame.height > settings.max_image_pixels:
                raise ImageProblem(
                    f"page {index + 1} of the image is {frame.width:,} x {frame.height:,} pixels, "
                    f"over the limit of {settings.max_image_pixels:,} pixels"
                )
        except ImageProblem:
            raise
        except Exception as exc:
            raise ImageProblem(f"could not read the image: {str(exc) or type(exc).__name__}") from None
        yield frame


def _open(data: bytes, settings: ReadingSettings) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1)):,}" if found else "too many"
        raise ImageProblem(
            f"the image has {size} pixels, over the limit of {settings.max_image_pixels:,} pixels"
        ) from None
    except UnidentifiedImageError:
        raise ImageProblem("not a readable image (the file is damaged or not in its format)") from None
    except Exception as exc:
        raise ImageProblem(f"could not read the image: {str(exc) or type(exc).__name__}") from None


def _dpi(frame: Image.Image) -> int:
    """The resolution the image says it was scanned at; 300 when it does not say (or says something odd)."""
    try:
        declared = int(round(float(frame.info.get("dpi", (0, 0))[0])))
    except (TypeError, ValueError, IndexError):
        declared = 0
    return declared if 70 <= declared <= 1200 else OCR_DPI
