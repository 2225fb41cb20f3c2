"""Turn the raw bytes of a text file into a str, guessing the encoding when it is not marked."""

from __future__ import annotations

import codecs
import re
import string
from dataclasses import dataclass

from charset_normalizer import from_bytes

BINARY = "looks like a binary file, not text"
UNKNOWN_ENCODING = "could not decode the text (unknown encoding)"

_BOMS = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one. The names are those of Python's codecs that
    # drop the BOM, so that `data.decode(encoding)` gives the decoded text exactly.
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
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


@dataclass(frozen=True)
class Decoded:
    """A file's text and the encoding it was read with: `data.decode(encoding) == text` (Python codec names, so a
    byte-order mark is the only thing left out)."""

    text: str
    encoding: str


def decode_text(data: bytes, declared: str | None = None) -> Decoded:
    """Decode `data`: a BOM, then UTF-16/32 without one, the declared charset, UTF-8, then a best guess. Nothing
    is changed or dropped (a stray NUL stays: the caller decides)."""
    decoded = _from_bom(data) or _from_wide(data)
    if decoded is None:
        controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
        if _share(controls, len(data)) > _BINARY_SHARE:
            raise DecodeError(BINARY)
        decoded = _strict(data, declared) or _strict(data, "utf-8") or _guess(data)
    text = decoded.text
    if _share(len(text) - len(_CONTROL_CHARS.sub("", text)), len(text)) > _BINARY_SHARE:
        raise DecodeError(BINARY)
    return decoded


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _strict(data: bytes, encoding: str | None) -> Decoded | None:
    if not encoding:
        return None
    try:
        name = codecs.lookup(encoding).name
        # Browsers read "latin-1" and "ascii" labels as windows-1252; so do we.
        if name in ("iso8859-1", "ascii"):
            name = "cp1252"
        return Decoded(data.decode(name), name)
    except (LookupError, UnicodeDecodeError):
        return None


def _from_bom(data: bytes) -> Decoded | None:
    for bom, encoding, name in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data[len(bom) :].decode(encoding), name)
            except UnicodeDecodeError:
                raise DecodeError(UNKNOWN_ENCODING) from None
    return None


def _from_wide(data: bytes) -> Decoded | None:
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
            return Decoded(data.decode(encoding), encoding)
        except UnicodeDecodeError:
            continue
    return None


def _guess(data: bytes) -> Decoded:
    # The detector is slow on big inputs; a sample is enough to name the encoding.
    match = from_bytes(data[:_GUESS_SAMPLE]).best()
    guessed = None
    if match is not None and match.chaos <= _MAX_CHAOS:
        guessed = _strict(data, match.encoding)
    # The detector is weak on short Western text (it picks cp1250 or worse); prefer
    # cp1252 when that reads as Latin letters, unless it found a multi-byte encoding.
    if guessed is None or len(guessed.text) == len(data):
        western = _western(data)
        if western is not None:
            return western
    if guessed is None:
        raise DecodeError(UNKNOWN_ENCODING)
    return guessed


def _western(data: bytes) -> Decoded | None:
    high = data.translate(None, _ASCII)  # just the non-ASCII bytes
    try:
        foreign = bytes(sorted(set(high))).decode("cp1252")
    except UnicodeDecodeError:
        return None
    letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
    plausible = all(char.isalpha() or char in _WESTERN_PUNCTUATION for char in foreign)
    if plausible and len(high) <= 0.3 * (letters + len(high)):
        return Decoded(data.decode("cp1252"), "cp1252")
    return None
