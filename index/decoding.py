"""Turn the raw bytes of a text file into a str, guessing the encoding when it is not marked."""

from __future__ import annotations

import codecs
import re
import string

from charset_normalizer import from_bytes

BINARY = "looks like a binary file, not text"
UNKNOWN_ENCODING = "could not decode the text (unknown encoding)"

_BOMS = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Control bytes that never occur in ASCII-compatible text (NUL included; tab, newlines, ESC allowed).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f\ufffd]")
_BINARY_SHARE = 0.05
_MAX_CHAOS = 0.1
_GUESS_SAMPLE = 1_000_000
_ASCII = bytes(range(128))
_ASCII_LETTERS = string.ascii_letters.encode()
# Typographic characters a Western (cp1252) text may contain besides accented letters.
_WESTERN_PUNCTUATION = frozenset("“”‘’‚„–—…•€«»°©®™§£¥¢·¡¿\xa0")


class DecodeError(ValueError):
    """The bytes cannot be read as text; the message is the reason for a person."""


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode `data` (BOM, declared charset, UTF-8, UTF-16/32, then a best guess); drop NULs."""
    text = _from_bom(data)
    if text is None:
        text = _from_wide(data)
    if text is None:
        controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
        if _share(controls, len(data)) > _BINARY_SHARE:
            raise DecodeError(BINARY)
        data = data.replace(b"\0", b"")
        text = _strict(data, declared) or _strict(data, "utf-8") or _guess(data)
    if _share(len(text) - len(_CONTROL_CHARS.sub("", text)), len(text)) > _BINARY_SHARE:
        raise DecodeError(BINARY)
    return text.replace("\0", "")


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _strict(data: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        name = codecs.lookup(encoding).name
        # Browsers read "latin-1" and "ascii" labels as windows-1252; so do we.
        if name in ("iso8859-1", "ascii"):
            name = "cp1252"
        return data.decode(name)
    except (LookupError, UnicodeDecodeError):
        return None


def _from_bom(data: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                raise DecodeError(UNKNOWN_ENCODING) from None
    return None


def _from_wide(data: bytes) -> str | None:
    """Recognise UTF-32 or UTF-16 without a BOM by where the NUL bytes fall."""
    if b"\0" not in data:
        return None
    candidates = []
    if len(data) % 4 == 0:
        quarter = len(data) // 4
        if data[3::4].count(0) == quarter and data[2::4].count(0) >= 0.9 * quarter:
            candidates.append("utf-32-le")
        if data[0::4].count(0) == quarter and data[1::4].count(0) >= 0.9 * quarter:
            candidates.append("utf-32-be")
    if len(data) % 2 == 0:
        half = len(data) // 2
        even, odd = data[0::2].count(0) / half, data[1::2].count(0) / half
        if odd >= 0.1 and even <= 0.02:
            candidates.append("utf-16-le")
        if even >= 0.1 and odd <= 0.02:
            candidates.append("utf-16-be")
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _guess(data: bytes) -> str:
    # The detector is slow on big inputs; a sample is enough to name the encoding.
    match = from_bytes(data[:_GUESS_SAMPLE]).best()
    guessed = None
    if match is not None and match.chaos <= _MAX_CHAOS:
        guessed = _strict(data, match.encoding)
    # The detector is weak on short Western text (it picks cp1250 or worse); prefer
    # cp1252 when that reads as Latin letters, unless it found a multi-byte encoding.
    if guessed is None or len(guessed) == len(data):
        western = _western(data)
        if western is not None:
            return western
    if guessed is None:
        raise DecodeError(UNKNOWN_ENCODING)
    return guessed


def _western(data: bytes) -> str | None:
    high = data.translate(None, _ASCII)  # just the non-ASCII bytes
    try:
        foreign = bytes(sorted(set(high))).decode("cp1252")
    except UnicodeDecodeError:
        return None
    letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
    plausible = all(char.isalpha() or char in _WESTERN_PUNCTUATION for char in foreign)
    if plausible and len(high) <= 0.3 * (letters + len(high)):
        return data.decode("cp1252")
    return None
