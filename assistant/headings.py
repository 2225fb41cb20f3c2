"""Headings read as the context of the sentences under them, not quoted as sentences of their own.

A contract clause opens "15. Assignment. Neither party may assign ...", a page opens with its title line, a report
with "Warranty" on a line of its own. Split into sentences, "15." and "Assignment." are fragments: quoted alone they
answer nothing, yet their words say what the sentences after them are about. So a heading is kept as context of
the paragraph it opens (its words count for those sentences, as a table's header counts for its rows) and is not
offered as a sentence to quote.

A heading is an enumerator ("15.", "(b)", "Article 4", "Section 2.1:") or a short title (capital or digit first, no
pronoun or finite verb of a sentence, not a question; at most four words when it ends with a full stop or a colon,
as "Limitation of liability." does, at most ten when it has no closing mark, as a title line) that opens its
paragraph and is followed by a sentence: the first pieces of a paragraph, or a paragraph of its own just before
another one. "The minister spoke in Prague." is five words with a full stop: a sentence, not a title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.sentences import SentenceSpan
from index.table_rows import is_table_row

_ENUMERATOR = re.compile(
    r"(?:(?:article|section|clause|part|chapter|schedule|annex|appendix|§)\s*)?"
    r"[(\[]?(?:\d{1,3}(?:\.\d{1,3})*|[ivxlc]{1,6}|[a-z])[.):\]]?[.:]?",
    re.IGNORECASE,
)
_TITLE_WORDS = 10  # a title line, with no closing mark
_TITLE_WORDS_WITH_STOP = 4  # "Limitation of liability.": longer with a full stop, it is likely a sentence
# Words that make a short line a sentence rather than a title: pronouns and the finite verbs a sentence turns on.
_SENTENCE_WORDS = frozenset(
    "i we you he she it they me us him her them this these those there "
    "is are was were be been am has have had do does did will would shall should may might must can could "
    "not no yes".split()
)
_WORD = re.compile(r"[\w'’-]+")
_CARRIED_PARAGRAPHS = 2  # heading lines that may open the next paragraph; more in a row make a list


@dataclass(frozen=True)
class ReadSentence:
    """A sentence to offer as a quote, and the headings it is read under ("" when none)."""

    span: SentenceSpan
    heading: str


def is_heading(text: str) -> bool:
    """Whether `text` (one sentence piece) reads as a heading: an enumerator or a short title."""
    text = text.strip().lstrip("#*_ ").rstrip("*_ ")  # Markdown's "## " and emphasis marks
    if not text or text[-1] in "?!":
        return False
    if _ENUMERATOR.fullmatch(text):
        return True
    words = _WORD.findall(text)
    limit = _TITLE_WORDS_WITH_STOP if text[-1] in ".:" else _TITLE_WORDS
    if not words or len(words) > limit or not (text[0].isupper() or text[0].isdigit()):
        return False
    if any(word.lower() in _SENTENCE_WORDS for word in words):
        return False
    return text.rstrip(".:").count(".") == 0 and "," not in text and ";" not in text


def read_under_headings(text: str, spans: list[SentenceSpan]) -> list[ReadSentence]:
    """The sentence spans of `text` to offer as quotes, each with the headings it is read under: the heading pieces
    that open its paragraph, and up to two paragraphs of headings just before it ("Part 2", then "Warranty").
    Headings with no sentence after them stay sentences, and so does a longer run of short lines, which is a list
    ("Anna Berg", "John Smith", ...) rather than headings."""
    paragraphs: dict[int, list[SentenceSpan]] = {}
    for span in spans:
        paragraphs.setdefault(span.paragraph, []).append(span)
    read: list[ReadSentence] = []
    carried: list[SentenceSpan] = []  # paragraphs of headings, waiting for the paragraph they open
    run = 0  # heading-only paragraphs in a row
    for number in sorted(paragraphs):
        pieces = paragraphs[number]
        opening = 0
        while opening < len(pieces) and _heading_piece(text, pieces[opening]):
            opening += 1
        if opening == len(pieces):
            run += 1
            carried.extend(pieces)
            if run > _CARRIED_PARAGRAPHS:  # a list: its lines stay sentences, and open nothing
                read.extend(ReadSentence(span, "") for span in carried)
                carried = []
            continue
        heading = " ".join(text[span.start : span.end] for span in [*carried, *pieces[:opening]])
        read.extend(ReadSentence(span, heading) for span in pieces[opening:])
        carried, run = [], 0
    read.extend(ReadSentence(span, "") for span in carried)
    return read


def _heading_piece(text: str, span: SentenceSpan) -> bool:
    piece = text[span.start : span.end]
    return not is_table_row(piece) and is_heading(piece)
