"""Sentence boundaries and chunks: every chunk is an exact slice of its document."""

from __future__ import annotations

import json

import pytest
from helpers import SEEDS, require_eval_data

from index.chunking import ChunkingSettings, chunk_document
from index.identity import make_document
from index.sentences import sentence_spans


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


def test_paragraph_end_closes_a_chunk_without_overlap():
    first = "Alpha sentence one is here. " * 8
    second = "Beta sentence two is there. " * 8
    document = make_document("/d.txt", "d", first.strip() + "\n\n" + second.strip())
    chunks = chunk_document(document, ChunkingSettings(size=400, overlap=100))
    assert [c.text.split()[0] for c in chunks] == ["Alpha", "Beta"]


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
