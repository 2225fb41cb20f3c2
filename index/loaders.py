"""Turn one file on disk into a Document, or explain in a LoadError why it cannot be read."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import docx
from docx.text.paragraph import Paragraph

from index.decoding import DecodeError, decode_text
from index.docx_tables import docx_table_lines
from index.errors import LoadError
from index.formats import (
    HTML_EXTENSIONS,
    IMAGE_EXTENSIONS,
    MAX_FILE_BYTES,
    SUPPORTED_EXTENSIONS,
    TEXT_EXTENSIONS,
    human_size,
    unsupported_type_reason,
)
from index.html_text import html_to_text, sniff_charset
from index.identity import file_sha256, make_document, path_source
from index.image_reader import ImageProblem, read_image
from index.models import Document, PageSpan
from index.page_text import PageText
from index.pdf_reader import PdfProblem, read_pdf
from index.reading import PageCallback, ReadingSettings
from index.tesseract import TesseractFailed

MAX_DOCX_EXPANDED = 200_000_000
MAX_DOCX_RATIO = 100
_RATIO_FLOOR = 1_000_000  # below this much unpacked data a high ratio is harmless
NOT_FOUND = "file not found (it may have been moved or deleted)"


class _Rejected(Exception):
    """Internal: the file is unusable; the message is the reason for a person."""


def load_document(
    path: Path,
    *,
    source: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    reading: ReadingSettings = ReadingSettings(),
    on_ocr_page: PageCallback | None = None,
) -> Document:
    """Read `path` into a Document; raise LoadError naming the file and the reason. `on_ocr_page` hears of each
    page read by OCR (they take seconds each)."""
    path = Path(path)
    if source is None:
        source = path_source(path)
    try:
        return _load(path, source, max_bytes, reading, on_ocr_page)
    except LoadError:
        raise
    except (_Rejected, DecodeError, PdfProblem, ImageProblem, TesseractFailed) as exc:
        raise LoadError(source, str(exc)) from None
    except Exception as exc:
        raise LoadError(source, f"unexpected error ({_describe(exc)})") from exc


def _load(
    path: Path, source: str, max_bytes: int, reading: ReadingSettings, on_ocr_page: PageCallback | None
) -> Document:
    data = _read(path, max_bytes)
    suffix = path.suffix.lower()
    title, encoding = path.name, ""
    pages: tuple[PageSpan, ...] = ()
    if suffix in TEXT_EXTENSIONS:
        decoded = decode_text(data)
        text, encoding, file_type = _exact(decoded.text), decoded.encoding, "text"
    elif suffix in HTML_EXTENSIONS:
        decoded = decode_text(data, sniff_charset(data))
        title, text = html_to_text(decoded.text.replace("\0", ""))
        title, text, encoding, file_type = title or path.stem, _normalize(text), decoded.encoding, "html"
    elif suffix == ".pdf":
        pdf = read_pdf(data, reading, on_ocr_page)
        (text, pages), file_type = _paged_text(pdf.pages), "pdf"
        if not text and pdf.blank_pages:
            raise _Rejected(f"no text could be extracted (all {pdf.page_count:,} pages are blank)")
    elif suffix in IMAGE_EXTENSIONS:
        (text, pages), file_type = _paged_text(read_image(data, reading, on_ocr_page)), "image"
    else:
        text, file_type = _normalize(_docx_text(data)), "docx"
    if not text.strip():
        raise _Rejected("no text could be extracted")
    return make_document(
        source, title, text, pages, file_type=file_type, encoding=encoding, file_hash=file_sha256(data)
    )


def _exact(text: str) -> str:
    """A plain-text file's text is the decoded file, character for character: citations index the user's own
    file. A NUL cannot be kept (it ends strings in the store) and dropping it would shift every offset after it."""
    nuls = text.count("\0")
    if nuls:
        raise _Rejected(f"holds {nuls} NUL character{'s' if nuls > 1 else ''} (byte 0), which a quote cannot keep")
    return text


def _read(path: Path, max_bytes: int) -> bytes:
    """Check the file with stat, then read at most `max_bytes` of it."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise _Rejected("not a regular file (it is a folder)")
        if not stat.S_ISREG(info.st_mode):
            raise _Rejected("not a regular file")
        if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
            raise _Rejected(unsupported_type_reason(path.suffix.lower()))
        if info.st_size > max_bytes:
            raise _Rejected(_too_big(info.st_size, max_bytes))
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may have grown since stat
    except FileNotFoundError:
        raise _Rejected(NOT_FOUND) from None
    except PermissionError:
        raise _Rejected("permission denied (cannot read the file)") from None
    except OSError as exc:
        raise _Rejected(f"could not read the file ({exc.strerror or _describe(exc)})") from None
    if len(data) > max_bytes:
        raise _Rejected(_too_big(len(data), max_bytes))
    if not data:
        raise _Rejected("file is empty")
    return data


def _normalize(text: str) -> str:
    """Extracted text (HTML, DOCX, PDF) made readable: unified newlines, no NULs or trailing spaces, at most one
    blank line in a row. Never for plain-text files, whose offsets index the file itself."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "")
    lines = [line.rstrip() for line in text.split("\n")]
    blank_run, kept = 0, []
    for line in lines:
        blank_run = blank_run + 1 if not line else 0
        if blank_run < 2:
            kept.append(line)
    return "\n".join(kept).strip()


def _paged_text(pages: tuple[PageText, ...] | list[PageText]) -> tuple[str, tuple[PageSpan, ...]]:
    """The pages' texts joined by a blank line, and the span of each page in the joined text."""
    parts: list[str] = []
    spans: list[PageSpan] = []
    offset = 0
    for page in pages:
        if not page.text:
            continue
        if parts:
            offset += 2
        spans.append(PageSpan(page.number, offset, offset + len(page.text), page.ocr))
        parts.append(page.text)
        offset += len(page.text)
    return "\n\n".join(parts), tuple(spans)


def _docx_text(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise _Rejected("not a valid .docx file") from None
    # Declared sizes are binding: zipfile stops reading a member at its declared size.
    expanded = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members)
    ratio_too_high = expanded > _RATIO_FLOOR and expanded > MAX_DOCX_RATIO * max(packed, 1)
    if expanded > MAX_DOCX_EXPANDED or ratio_too_high:
        unpacked, packed_size = human_size(expanded), human_size(len(data))
        raise _Rejected(f"the .docx expands to {unpacked} from {packed_size} (looks like a zip bomb)")
    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        for item in document.iter_inner_content():
            if isinstance(item, Paragraph):
                blocks.append(item.text)
            else:
                blocks.append("\n".join(docx_table_lines(item)))
    except Exception:
        raise _Rejected("not a valid .docx file") from None
    return "\n\n".join(block for block in blocks if block.strip())


def _too_big(size: int, limit: int) -> str:
    shown, shown_limit = human_size(size), human_size(limit)
    if shown == shown_limit:  # e.g. 50.0 MB vs 50.0 MB: show the exact counts instead
        shown, shown_limit = f"{size:,} bytes", f"{limit:,} bytes"
    return f"file is {shown}, over the {shown_limit} limit"


def _describe(exc: BaseException) -> str:
    message = str(exc).strip() or type(exc).__name__
    if type(exc).__name__ not in message:
        message = f"{type(exc).__name__}: {message}"
    return message if len(message) <= 200 else message[:197] + "..."
