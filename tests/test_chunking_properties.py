"""Chunks and sentence spans hold for any text: every kind of line and paragraph break, odd whitespace, combining
marks, characters outside the BMP. Deterministic (derandomized, no example database) and fast."""

from __future__ import annotations

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from index.chunking import ChunkingSettings, chunk_document
from index.identity import make_document
from index.models import Chunk
from index.records import gaps, rebuild_text
from index.sentences import sentence_spans
from index.table_rows import CELL_SEPARATOR

WORDS = ["alpha", "Beta", "the", "Gamma", "zoë", "e\u0301te\u0301", "Ångström", "😀", "𠀀字", "42", "Dr.", "U.S."]
WORDS += ["\udc80"]  # a lone surrogate, as decoding with surrogateescape leaves one
LONG_WORDS = ["x" * 70, "e\u0301" * 40, "𝔘" * 55]
PUNCTUATION = [".", "!", "?", "…", "...", ",", ";", ":", '"', "”", ")", "-", "\u0301"]
INLINE_SPACES = [" ", "\t", "\xa0", "\u1680", "\u2000", "\u2003", "\u2009", "\u200a", "\u202f", "\u205f", "\u3000"]
INLINE_SPACES += ["\x1f", "  ", " \t "]
LINE_BREAKS = ["\n", "\r\n", "\r", "\u2028", "\x0b", "\x85", " \n", "\t\r\n"]
PARAGRAPH_BREAKS = ["\n\n", "\r\n\r\n", "\r\r", "\u2029", "\x0c", "\n \t\n", "\r\n\xa0\r\n", "\x1c", "\x1e"]
PARAGRAPH_BREAKS += ["\n" * 6, "\r\n" * 6, "\n\r\n\r\n", "\x0c\n\n", "\u2029\u2029", "\r\n \x0c \r\n"]
EVERY_WHITESPACE = INLINE_SPACES + LINE_BREAKS + PARAGRAPH_BREAKS
MOSTLY_SPACES = [" "] * 100 + EVERY_WHITESPACE  # long paragraphs, so that chunks overlap

SETTINGS = [ChunkingSettings(50, 0), ChunkingSettings(50, 20), ChunkingSettings(120, 40), ChunkingSettings()]


def sentences(spaces: list[str]) -> st.SearchStrategy[str]:
    """Words with `spaces` between them, ending in sentence punctuation or in none."""
    return st.builds(
        lambda body, between, end: (
            "".join(space + word for space, word in zip(["", *between], body, strict=False)) + end
        ),
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=12),
        st.lists(st.sampled_from(spaces), min_size=11, max_size=11),
        st.sampled_from([".", "!", "?", "…", ".”", "", "?!", " ."]),
    )


edges = st.lists(st.sampled_from(EVERY_WHITESPACE), max_size=4).map("".join)
pieces = st.one_of(
    sentences(INLINE_SPACES + LINE_BREAKS),
    st.sampled_from(WORDS),
    st.sampled_from(PUNCTUATION),
    st.sampled_from(EVERY_WHITESPACE),
    st.sampled_from(LONG_WORDS),
    st.characters(),
)
texts = st.builds(lambda lead, body, trail: lead + "".join(body) + trail, edges, st.lists(pieces, max_size=60), edges)


def prose(count: tuple[int, int], spaces: list[str], gaps: list[str]) -> st.SearchStrategy[str]:
    """`count` sentences with `spaces` between words and `gaps` between sentences (empty lines, long blank runs)."""
    parts = st.lists(st.tuples(sentences(spaces), st.sampled_from(gaps)), min_size=count[0], max_size=count[1])
    return st.builds(lambda lead, parts: lead + "".join(s + g for s, g in parts), edges, parts)


DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, max_examples=150)


def covered(length: int, ranges: list[tuple[int, int]]) -> list[bool]:
    marks = [False] * length
    for start, end in ranges:
        marks[start:end] = [True] * (end - start)
    return marks


def assert_chunks_hold(text: str, chunking: ChunkingSettings) -> list[Chunk]:
    chunks = chunk_document(make_document("/p.txt", "p", text), chunking)
    for ordinal, chunk in enumerate(chunks):
        assert chunk.ordinal == ordinal
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.text and not chunk.text[0].isspace() and not chunk.text[-1].isspace()
        assert len(chunk.text) <= chunking.size
    for previous, following in zip(chunks, chunks[1:], strict=False):
        assert previous.start < following.start and previous.end <= following.end
        assert previous.end - following.start <= chunking.overlap
    marks = covered(len(text), [(chunk.start, chunk.end) for chunk in chunks])
    lost = [i for i, character in enumerate(text) if not character.isspace() and not marks[i]]
    assert not lost, f"characters at {lost[:5]} are in no chunk"
    return chunks


def assert_rebuilds(text: str, chunks: list[Chunk]) -> None:
    if not text.strip():
        # No chunk, so nothing to carry the whitespace: records.gaps hangs the text around chunks only.
        assert chunks == []
        return
    around = gaps(text, chunks)
    records = [(c.start, c.end, before, c.text, after) for c, (before, after) in zip(chunks, around, strict=True)]
    assert rebuild_text(records) == text
    assert rebuild_text(reversed(records)) == text


def assert_spans_hold(text: str) -> None:
    spans = sentence_spans(text)
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
        assert not text[span.start].isspace() and not text[span.end - 1].isspace()
    for previous, following in zip(spans, spans[1:], strict=False):
        assert previous.end <= following.start
        assert previous.paragraph <= following.paragraph
    marks = covered(len(text), [(span.start, span.end) for span in spans])
    assert all(marks[i] for i, character in enumerate(text) if not character.isspace())


@DETERMINISTIC
@given(texts)
def test_any_mix_of_words_punctuation_and_breaks_chunks_exactly(text):
    assert_spans_hold(text)
    for chunking in SETTINGS:
        assert_rebuilds(text, assert_chunks_hold(text, chunking))


@DETERMINISTIC
@given(prose((0, 40), EVERY_WHITESPACE, EVERY_WHITESPACE))
def test_sentences_between_any_breaks_chunk_exactly(text):
    assert_spans_hold(text)
    for chunking in SETTINGS:
        assert_rebuilds(text, assert_chunks_hold(text, chunking))


# No shrinking: these texts run to thousands of characters, and shrinking one takes minutes.
@settings(derandomize=True, database=None, deadline=None, max_examples=25, phases=[Phase.explicit, Phase.generate])
@given(prose((60, 120), INLINE_SPACES, MOSTLY_SPACES))
def test_long_prose_chunks_exactly_with_overlap_at_the_default_size(text):
    for chunking in (ChunkingSettings(), ChunkingSettings(120, 40)):
        assert_rebuilds(text, assert_chunks_hold(text, chunking))


@settings(derandomize=True, database=None, deadline=None, max_examples=50)
@given(st.text(max_size=200))
def test_arbitrary_unicode_chunks_exactly(text):
    assert_spans_hold(text)
    assert_rebuilds(text, assert_chunks_hold(text, ChunkingSettings(50, 20)))


CELL_WORDS = [*WORDS, "Inc.", "40 EUR.", "Net 30!", "Why?", "…", "3.5", "e.g.", "\\|", "(a)", '"Q"']


@st.composite
def texts_with_rows(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    """Prose and tables (rows of cells with sentence punctuation, one per line) between any breaks; the text and
    where each row is, without its surrounding whitespace."""
    words = st.lists(st.tuples(st.sampled_from(INLINE_SPACES), st.sampled_from(CELL_WORDS)), min_size=1, max_size=4)
    cell = words.map(lambda pairs: "".join(space + word for space, word in pairs)[len(pairs[0][0]) :])
    row = st.lists(cell, min_size=2, max_size=5).map(CELL_SEPARATOR.join)
    block = st.one_of(st.lists(row, min_size=1, max_size=6), sentences(INLINE_SPACES).map(lambda line: [line]))
    text, rows = draw(edges), []
    for number, lines in enumerate(draw(st.lists(block, max_size=8))):
        if number:
            text += draw(st.sampled_from(LINE_BREAKS + PARAGRAPH_BREAKS))
        for line_number, line in enumerate(lines):
            if line_number:
                text += draw(st.sampled_from(LINE_BREAKS))
            if CELL_SEPARATOR in line:
                rows.append((len(text), len(text) + len(line)))
            text += line
    return text + draw(edges), rows


@DETERMINISTIC
@given(texts_with_rows())
def test_a_row_is_one_sentence_never_split_and_never_joined_to_another_line(text_and_rows):
    text, rows = text_and_rows
    assert_spans_hold(text)
    spans = sentence_spans(text)
    for start, end in rows:
        touching = [(span.start, span.end) for span in spans if span.start < end and span.end > start]
        assert touching == [(start, end)], f"the row {text[start:end]!r} is not exactly one sentence: {touching}"
    row_of = {offset: number for number, (start, end) in enumerate(rows) for offset in range(start, end)}
    for span in spans:
        assert len({row_of.get(offset) for offset in range(span.start, span.end)} - {None}) <= 1


@DETERMINISTIC
@given(texts_with_rows())
def test_a_chunk_holds_a_row_whole_unless_the_row_is_longer_than_a_chunk(text_and_rows):
    text, rows = text_and_rows
    for chunking in SETTINGS:
        chunks = assert_chunks_hold(text, chunking)
        assert_rebuilds(text, chunks)
        for start, end in rows:
            if end - start <= chunking.size:
                touching = [chunk for chunk in chunks if chunk.start < end and chunk.end > start]
                assert all(chunk.start <= start and chunk.end >= end for chunk in touching)


@pytest.mark.parametrize("whitespace", ["", " ", "\r\n", "\u2029\x0c", "\n" * 6, "\xa0\u3000\t"])
def test_whitespace_only_text_has_no_chunks_and_no_spans(whitespace):
    assert sentence_spans(whitespace) == []
    assert chunk_document(make_document("/w.txt", "w", whitespace)) == []
