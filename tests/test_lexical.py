"""The lexical index: BM25 scores equal bm25s', updates and saved copies equal a fresh build, and the cache
follows the store and is reused by a new process."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from helpers import PASSAGES, QUESTIONS

from assistant.lexical import LexicalIndex
from assistant.lexical_cache import LexicalCache
from assistant.lexical_files import load, save
from index.identity import make_document
from index.models import Chunk
from index.records import StoredChunk


def stored_chunks(texts: list[str], name: str) -> list[StoredChunk]:
    document = make_document(f"/docs/{name}.txt", name, " ".join(texts))
    chunks, offset = [], 0
    for ordinal, text in enumerate(texts):
        chunk = Chunk(f"{name}:{ordinal}", document.id, ordinal, offset, offset + len(text), text)
        chunks.append(StoredChunk(chunk, document.source, name, document.sha256))
        offset += len(text) + 1
    return chunks


def by_document(chunks: list[StoredChunk]) -> dict[str, list[StoredChunk]]:
    grouped: dict[str, list[StoredChunk]] = {}
    for stored in chunks:
        grouped.setdefault(stored.chunk.document_id, []).append(stored)
    return grouped


def results(index: LexicalIndex, question: str) -> list[tuple[str, float]]:
    return [(stored.chunk.id, round(score, 4)) for stored, score in index.search(question, 5)]


def test_bm25_scores_equal_bm25s():
    import bm25s

    from assistant.text import tokens

    chunks = stored_chunks(PASSAGES, "facts")
    index = LexicalIndex.build(chunks)
    reference = bm25s.BM25()
    reference.index([tokens(stored.chunk.text) or [""] for stored in chunks], show_progress=False)
    for question in QUESTIONS:
        words = [word for word in tokens(question) if index.vocabulary.get(word) is not None]
        expected = np.asarray(reference.get_scores(words))
        for stored, score in index.search(question, len(PASSAGES)):
            assert score == pytest.approx(expected[stored.chunk.ordinal], rel=1e-4)
        assert len(index.search(question, len(PASSAGES))) == int(np.sum(expected > 0))


def test_identifiers_are_found_by_their_parts_and_whole():
    from assistant.text import tokens

    assert tokens("Set UPLOAD_SIZE_LIMIT now") == ["set", "upload_size_limit", "upload", "size", "limit", "now"]
    chunks = stored_chunks(
        ["Set `UPLOAD_SIZE_LIMIT` in the config file.", "Uploads are listed on the dashboard page."], "manual"
    )
    index = LexicalIndex.build(chunks)
    assert index.search("upload size limit", 2)[0][0].chunk.text.startswith("Set `UPLOAD_SIZE_LIMIT`")
    assert index.search("UPLOAD_SIZE_LIMIT", 2)[0][0].chunk.text.startswith("Set `UPLOAD_SIZE_LIMIT`")


def test_bm25_updates_and_saved_copies_equal_a_fresh_build(tmp_path):
    documents = by_document(
        [chunk for n in range(8) for chunk in stored_chunks(PASSAGES[n * 2 : n * 2 + 2] + [f"appendix {n}"], f"d{n}")]
    )
    hashes = {doc_id: chunks[0].document_sha256 for doc_id, chunks in documents.items()}
    ids = sorted(documents)
    index = LexicalIndex()
    for step in range(12):  # documents come, go and come back, as in a collection that is edited
        wanted = {doc_id: hashes[doc_id] for doc_id in ids[step % 3 :: 2]}
        index = index.updated(wanted, lambda names: [c for name in sorted(names) for c in documents[name]])
        fresh = LexicalIndex.build([c for doc_id in sorted(wanted) for c in documents[doc_id]])
        assert index.count == fresh.count
        for question in QUESTIONS:
            assert sorted(results(index, question)) == sorted(results(fresh, question)), (step, question)
        save(index, tmp_path / "lexical")
        loaded = load(tmp_path / "lexical")
        assert loaded is not None and loaded.documents == index.documents
        for question in QUESTIONS:
            assert results(loaded, question) == results(index, question)
    assert len({p.name for p in (tmp_path / "lexical").glob("segment-*.npz")}) == len(index.segments)


def test_a_saved_index_with_an_updated_document_finds_its_current_chunks(tmp_path):
    def version(texts: list[str]) -> list[StoredChunk]:
        chunks = stored_chunks(texts, "notes")
        return [replace(stored, gap_before=" " if stored.chunk.ordinal else "") for stored in chunks]

    old, new = version(PASSAGES[:3]), version(PASSAGES[3:5])
    other = version(PASSAGES[6:16])  # enough live chunks that the update is not compacted away
    other = [replace(s, chunk=replace(s.chunk, document_id="other")) for s in other]
    index = LexicalIndex.build(old + other)
    index = index.updated(
        {"other": other[0].document_sha256, new[0].chunk.document_id: new[0].document_sha256}, lambda names: new
    )
    assert len(index.segments) == 2  # the old version's rows stay, dead, in the first segment
    save(index, tmp_path / "lexical")
    loaded = load(tmp_path / "lexical")
    assert loaded is not None
    assert loaded.document_text(new[0].chunk.document_id) == " ".join(PASSAGES[3:5])
    emptied = loaded.updated({"other": other[0].document_sha256}, lambda names: [])
    assert emptied.count == len(other)
    assert not emptied.search("Marie Curie Nobel", 5) and not emptied.search("Eiffel Tower", 5)
    assert emptied.search("Everest metres", 5)


def test_lexical_cache_follows_the_store_and_is_reused_by_a_new_process(make_assistant, fake_embedder, monkeypatch):
    assistant = make_assistant(fake_embedder)
    first = [make_document(f"/docs/{n}.txt", f"doc {n}", PASSAGES[n]) for n in range(4)]
    assistant.index_documents(first)
    assert "Eiffel" in assistant.snapshot().lexical.search("Eiffel Tower height", 1)[0][0].chunk.text
    assistant.index_documents([make_document("/docs/new.txt", "new", "Zebras have black and white stripes.")])
    assert "Zebras" in assistant.snapshot().lexical.search("zebra stripes", 1)[0][0].chunk.text
    assistant.remove(first[0].id)
    assert not assistant.snapshot().lexical.search("Eiffel Tower", 5)
    cache = LexicalCache(assistant.store)
    assert cache.folder.is_dir() and (cache.folder / "state.json").exists()

    def no_reading(*args, **kwargs):
        raise AssertionError("the saved index should have been used")

    monkeypatch.setattr(assistant.store, "iter_chunks", no_reading)  # a new cache on an unchanged store reads none
    assert "Zebras" in cache.current(assistant.store.state()).search("zebra stripes", 1)[0][0].chunk.text
    assert not cache.current(assistant.store.state()).search("Eiffel Tower", 5)


def test_a_saved_index_gives_back_every_field_and_maps_its_texts(tmp_path):
    """Rows are kept as columns and the texts in one buffer: a loaded row equals the stored chunk it came from,
    whatever its characters, gaps and page; the texts and postings stay in their files (mapped)."""
    texts = ["Zoë paid 40 € — “à la carte”.", "日本語のテキスト and ASCII", "", "plain words end here"]
    chunks = [
        replace(stored, chunk=replace(stored.chunk, page=page), gap_before=before, gap_after=after)
        for stored, page, before, after in zip(
            stored_chunks(texts, "mixed"),
            (None, 1, 2, None),
            ("", "\n\n", " ", "\r\n"),
            ("\n", "", "", "\t"),
            strict=True,
        )
    ] + stored_chunks(PASSAGES[:2], "plain")
    index = LexicalIndex.build(chunks)
    save(index, tmp_path / "lexical")
    loaded = load(tmp_path / "lexical")
    assert loaded is not None
    for source in (index, loaded):
        rows = [row.stored() for segment in source.segments for row in segment.rows]
        assert sorted(rows, key=lambda s: s.chunk.id) == sorted(chunks, key=lambda s: s.chunk.id)
    segment = loaded.segments[0]
    assert not isinstance(segment.rows.texts, bytes) and isinstance(segment.indices, np.memmap)
    assert results(loaded, "Zoë carte") == results(index, "Zoë carte") and results(index, "Zoë carte")
    assert not (tmp_path / "lexical" / "vocabulary.json").exists()


def test_a_large_segment_built_in_memory_is_mapped_once_saved(make_assistant, fake_embedder, monkeypatch):
    """The first process on a big collection builds the index in memory; once saved, it answers from the mapped
    files (the memory of a warm start), and small updates after it stay in memory."""
    import assistant.lexical_cache as lexical_cache

    monkeypatch.setattr(lexical_cache, "MAP_FROM_ROWS", 3)
    assistant = make_assistant(fake_embedder)
    assistant.index_documents([make_document(f"/docs/{n}.txt", f"doc {n}", PASSAGES[n]) for n in range(6)])
    cache = LexicalCache(assistant.store)
    built = cache.current(assistant.store.state())
    assert [type(segment.rows.texts).__name__ for segment in built.segments] == ["mmap"]
    assert "Eiffel" in built.search("Eiffel Tower height", 1)[0][0].chunk.text
    assistant.index_documents([make_document("/docs/new.txt", "new", "Zebras have black and white stripes.")])
    grown = cache.current(assistant.store.state())
    assert isinstance(grown.segments[-1].rows.texts, bytes) and len(grown.segments[-1].rows) < 3
    assert "Zebras" in grown.search("zebra stripes", 1)[0][0].chunk.text
