"""Sentence boundaries and chunks: every chunk is an exact slice of its document."""

from __future__ import annotations

import json
import unicodedata

import pytest
from helpers import SEEDS, require_eval_data

from index.chunking import ChunkingSettings, chunk_document
from index.identity import make_document
from index.models import PageSpan
from index.records import gaps, rebuild_text
from index.sentences import sentence_spans

WRAPPED_LINE = "This line was wrapped at a fixed width by the program that wrote the file and"
LINE_BREAKS = {"LF": "\n", "CRLF": "\r\n", "CR": "\r", "U+2028": "\u2028", "VT": "\x0b", "NEL": "\x85"}
PARAGRAPH_BREAKS = {
    "blank line": "\n\n",
    "CRLF blank line": "\r\n\r\n",
    "CR blank line": "\r\r",
    "whitespace-only line": "\r\n \t\xa0\u3000\r\n",
    "5 blank lines": "\n" * 6,
    "5 CRLF blank lines": "\r\n" * 6,
    "U+2029": "\u2029",
    "form feed": "\x0c",
}


def texts_of(text: str) -> list[str]:
    return [text[span.start : span.end] for span in sentence_spans(text)]


def test_sentences_respect_abbreviations_initials_and_paragraphs():
    text = "Dr. Smith met J. R. R. Tolkien on Jan. 5. It rained!\n\nA new paragraph starts here? Yes."
    assert texts_of(text) == [
        "Dr. Smith met J. R. R. Tolkien on Jan. 5.",
        "It rained!",
        "A new paragraph starts here?",
        "Yes.",
    ]
    paragraphs = [span.paragraph for span in sentence_spans(text)]
    assert paragraphs[1] < paragraphs[2]


def test_wrapped_lines_join_but_list_items_and_headings_split():
    text = (
        "# Heading\n"
        "This sentence was wrapped by a PDF extractor at a fixed width of text and\n"
        "continues on the next line until it ends.\n"
        "- first item\n"
        "- second item"
    )
    assert texts_of(text) == [
        "# Heading",
        "This sentence was wrapped by a PDF extractor at a fixed width of text and\n"
        "continues on the next line until it ends.",
        "- first item",
        "- second item",
    ]


def test_chunks_are_exact_slices_within_size_and_overlap():
    text = " ".join(f"Sentence number {i} says something about topic {i % 7}." for i in range(200))
    document = make_document("/docs/a.txt", "a.txt", text)
    chunks = chunk_document(document, ChunkingSettings(size=300, overlap=80))
    assert len(chunks) > 10
    for chunk in chunks:
        assert document.text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= 300
        assert chunk.text.endswith(".")
    for previous, following in zip(chunks, chunks[1:], strict=False):
        assert following.start < previous.end, "consecutive chunks overlap"
        assert previous.end - following.start <= 80
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_a_table_row_is_one_sentence_and_never_joins_a_neighbouring_line():
    text = (
        "This introduction was wrapped by a program at a fixed width and does not end\n"
        "Item | Unit price | Terms\n"
        "Acme Inc. | 40 EUR. | Net 30! Due on receipt? No.\n"
        "The paragraph after the table was wrapped too and goes on without a stop\n"
        "until this line. It has two sentences."
    )
    assert texts_of(text) == [
        "This introduction was wrapped by a program at a fixed width and does not end",
        "Item | Unit price | Terms",
        "Acme Inc. | 40 EUR. | Net 30! Due on receipt? No.",
        "The paragraph after the table was wrapped too and goes on without a stop\nuntil this line.",
        "It has two sentences.",
    ]


def test_chunks_keep_rows_whole_and_cut_only_a_row_longer_than_a_chunk():
    rows = [f"Item {n} | {n}.50 EUR. | Ships in {n} days. Net 30" for n in range(30)]
    long_row = "Long | " + "word " * 40 + "end"
    text = "Price list.\n\n" + "\n".join([*rows, long_row])
    chunks = chunk_document(make_document("/t.docx", "t", text), ChunkingSettings(size=120, overlap=40))
    for row in rows:
        start = text.index(row)
        touching = [c for c in chunks if c.start < start + len(row) and c.end > start]
        assert touching and all(c.start <= start and c.end >= start + len(row) for c in touching), row
    pieces = [c.text for c in chunks if c.start >= text.index(long_row)]
    assert len(pieces) > 1 and " ".join(pieces).split() == long_row.split()


@pytest.mark.parametrize("newline", LINE_BREAKS.values(), ids=LINE_BREAKS.keys())
def test_every_line_break_joins_a_wrapped_line_and_ends_a_short_one(newline):
    wrapped = f"{WRAPPED_LINE}{newline}continues on the next line."
    assert texts_of(wrapped) == [wrapped]
    assert texts_of(f"Heading{newline}The body starts here.") == ["Heading", "The body starts here."]


@pytest.mark.parametrize("separator", PARAGRAPH_BREAKS.values(), ids=PARAGRAPH_BREAKS.keys())
def test_every_paragraph_break_ends_a_paragraph(separator):
    text = f"{WRAPPED_LINE}{separator}continues in the next paragraph."
    spans = sentence_spans(text)
    assert texts_of(text) == [WRAPPED_LINE, "continues in the next paragraph."]
    assert spans[0].paragraph < spans[1].paragraph


@pytest.mark.parametrize("separator", PARAGRAPH_BREAKS.values(), ids=PARAGRAPH_BREAKS.keys())
def test_paragraph_end_closes_a_chunk_without_overlap(separator):
    first = "Alpha sentence one is here. " * 8
    second = "Beta sentence two is there. " * 8
    document = make_document("/d.txt", "d", first.strip() + separator + second.strip())
    chunks = chunk_document(document, ChunkingSettings(size=400, overlap=100))
    assert [c.text for c in chunks] == [first.strip(), second.strip()]


def test_a_crlf_file_chunks_by_its_paragraphs_and_rebuilds_exactly():
    paragraphs = [f"Paragraph {n} opens here. It holds a second sentence too." for n in range(1, 4)]
    text = "\r\n\r\n".join(paragraphs) + "\r\n"
    chunks = chunk_document(make_document("/crlf.txt", "crlf", text), ChunkingSettings(size=100, overlap=40))
    assert [c.text for c in chunks] == paragraphs
    around = zip(chunks, gaps(text, chunks), strict=True)
    assert rebuild_text((c.start, c.end, before, c.text, after) for c, (before, after) in around) == text


def test_a_form_feed_between_pages_keeps_every_chunk_on_one_page():
    pages = ["Page one sentence is here. " * 8, "Page two sentence is here. " * 8, "Page three is the end. " * 9]
    text = "\x0c".join(page.strip() for page in pages)
    ends = [i for i, character in enumerate(text) if character == "\x0c"] + [len(text)]
    starts = [0] + [end + 1 for end in ends[:-1]]
    spans = tuple(PageSpan(n, start, end) for n, (start, end) in enumerate(zip(starts, ends, strict=True), start=1))
    chunks = chunk_document(make_document("/p.pdf", "p", text, spans), ChunkingSettings(size=400, overlap=100))
    assert [c.page for c in chunks] == [1, 2, 3]
    assert all("\x0c" not in c.text for c in chunks)


def test_leading_and_trailing_whitespace_stay_outside_chunks_and_rebuild():
    text = "\r\n\t\xa0\u2029 First sentence here.\u2028Second one.\u3000\r\n\x0c\n"
    chunks = chunk_document(make_document("/edges.txt", "edges", text))
    assert [c.text for c in chunks] == ["First sentence here.\u2028Second one."]
    assert gaps(text, chunks) == [("\r\n\t\xa0\u2029 ", "\u3000\r\n\x0c\n")]


def test_a_word_longer_than_a_chunk_is_not_cut_between_a_letter_and_its_accent():
    text = "a" + "e\u0301" * 60
    chunks = chunk_document(make_document("/accents.txt", "accents", text), ChunkingSettings(size=50, overlap=0))
    assert "".join(c.text for c in chunks) == text
    assert all(len(c.text) <= 50 and not unicodedata.combining(c.text[0]) for c in chunks)


def test_a_sentence_longer_than_a_chunk_is_cut_at_word_breaks():
    text = "word " * 500 + "end."
    document = make_document("/long.txt", "long", text.strip())
    chunks = chunk_document(document, ChunkingSettings(size=200, overlap=0))
    assert all(len(c.text) <= 200 and document.text[c.start : c.end] == c.text for c in chunks)
    assert "".join(c.text + " " for c in chunks).split() == document.text.split()


def test_chunk_ids_are_deterministic_and_follow_content():
    document = make_document("/same.txt", "same", "One fact. Two facts. " * 100)
    first = [c.id for c in chunk_document(document)]
    again = [c.id for c in chunk_document(make_document("/same.txt", "same", "One fact. Two facts. " * 100))]
    changed = [c.id for c in chunk_document(make_document("/same.txt", "same", "One fact. Three facts. " * 100))]
    assert first == again
    assert len(set(first)) == len(first)
    assert first[0] != changed[0]


def test_settings_reject_bad_values():
    with pytest.raises(ValueError, match="overlap"):
        ChunkingSettings(size=100, overlap=100)
    with pytest.raises(ValueError, match="size"):
        ChunkingSettings(size=10, overlap=0)


@pytest.mark.parametrize("name", ["squad11-xquad-en/xquad.en.json", "squad20-dev-half/dev-v2.0.json"])
def test_offsets_hold_over_the_whole_evaluation_sets(name):
    data = json.loads((require_eval_data() / name).read_text(encoding="utf-8"))
    checked = 0
    for number, article in enumerate(data["data"]):
        text = "\n\n".join(paragraph["context"] for paragraph in article["paragraphs"])
        document = make_document(f"squad/{number}", article.get("title", ""), text)
        for chunk in chunk_document(document):
            assert document.text[chunk.start : chunk.end] == chunk.text
            checked += 1
    assert checked > 300


def test_seed_documents_chunk_exactly():
    for path in SEEDS.iterdir():
        text = path.read_text(encoding="utf-8").strip()
        document = make_document(str(path), path.name, text)
        chunks = chunk_document(document)
        assert chunks and all(text[c.start : c.end] == c.text for c in chunks)
