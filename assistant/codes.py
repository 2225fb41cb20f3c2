"""Codes a question names (part numbers, model names, identifiers such as "M16-031", "CYP27B1", "PS3"), and those
that no retrieved passage holds.

A code is exact: "What does type M16-031 cost?" is not answered by the price of M12-031, though the two share
most of their characters and a passage holding one ranks high for the other. When the question names a code that
none of the passages holds, the documents found do not answer it, however close their words are.

A code is a token of letters and digits together. Measures and counts written with a hyphen ("2-point",
"24-yard", "60-minute"), ordinals and decades ("3rd", "1990s", "18th-century") and times ("1pm") are not codes:
the text may write them otherwise ("two-point", "at 1 p.m.").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-./][A-Za-z0-9]+)*")
_ORDINAL_DECADE_OR_TIME = re.compile(r"\d+(?:st|nd|rd|th|s|am|pm)", re.IGNORECASE)
_PART = re.compile(r"[a-z0-9]+")
_PHRASE_BREAK = re.compile(r"[^a-z0-9\-./ ]+|\s{2,}")  # a code is not read across "|", ",", a line break
_MOST_PARTS = 4  # a code is matched across at most this many runs of letters and digits: "M 16 031 B"
_LONGEST_WORD_IN_A_CODE = 3  # "AS-206", "mid-1970s" has "mid"; "2-point" has a word of its own


def named_codes(question: str) -> list[str]:
    """The codes of `question`, in order, each once."""
    found = []
    for token in _TOKEN.findall(question):
        parts = re.split(r"[-./]", token)
        if not (any(c.isdigit() for c in token) and any(c.isalpha() for c in token)):
            continue
        if any(_ORDINAL_DECADE_OR_TIME.fullmatch(part) for part in parts):
            continue
        if any(part.isalpha() and len(part) > _LONGEST_WORD_IN_A_CODE for part in parts if len(parts) > 1):
            continue
        found.append(token)
    return list(dict.fromkeys(found))


def missing_codes(question: str, texts: Iterable[str]) -> list[str]:
    """The codes of `question` that none of `texts` holds, compared without case and separators ("M16-031",
    "m16 031" and "M16031" are one code; "M16-03 1.10" holds none of them)."""
    codes = named_codes(question)
    if not codes:
        return []
    held: set[str] = set()
    for text in texts:
        for phrase in _PHRASE_BREAK.split(text.lower()):
            parts = _PART.findall(phrase)
            for length in range(1, _MOST_PARTS + 1):
                held.update("".join(parts[i : i + length]) for i in range(len(parts) - length + 1))
    return [code for code in codes if "".join(_PART.findall(code.lower())) not in held]
