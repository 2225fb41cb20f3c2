"""Indexing real files into a real Chroma: exact offsets, incremental runs, pruning, bad input."""

from __future__ import annotations

import threading
from pathlib import Path

import docx
import pytest
from helpers import chroma_writes

from index.chroma_client import close_connections
from index.errors import LoadError
from index.store import ChunkStore

NATO = (Path(__file__).resolve().parent.parent / "seeds" / "nato-stoltenberg-prague.txt").read_text(encoding="utf-8")


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nato.txt").write_text(NATO, encoding="utf-8")
    (folder / "notes.md").write_text("# Notes\n\nThe archive opens at nine. " * 40, encoding="utf-8")
    (folder / "page.html").write_text(
        "<html><head><title>Garden</title><script>alert(1)</script></head>"
        "<body><h1>Garden</h1><p>Tomatoes need full sun and steady water.</p>"
        "<p>Basil grows well beside tomatoes.</p></body></html>",
        encoding="utf-8",
    )
    (folder / "latin1.txt").write_text("Café crème brûlée is served at noon. " * 20, encoding="cp1252")
    nested = folder / "sub" / "deeper"
    nested.mkdir(parents=True, exist_ok=True)
    document = docx.Document()
    document.add_paragraph("The bridge was completed in 1932 after six years of work.")
    document.add_paragraph("It carries eight lanes of traffic.")
    document.save(nested / "bridge.docx")
    return folder


def write_notes(folder: Path, count: int) -> Path:
    """`count` one-line notes, one chunk each."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        (folder / f"note-{number:02d}.txt").write_text(f"Note {number} says the door code is {number * 7}.")
    return folder


def all_chunks(store: ChunkStore) -> list:
    return list(store.iter_chunks())


def assert_exact(assistant) -> None:
    store = assistant.store
    documents = store.documents()
    chunks = all_chunks(store)
    assert chunks
    by_document: dict[str, int] = {}
    for stored in chunks:
        text = assistant.document_text(stored.chunk.document_id)
        assert text[stored.chunk.start : stored.chunk.end] == stored.chunk.text
        by_document[stored.chunk.document_id] = by_document.get(stored.chunk.document_id, 0) + 1
    assert by_document == {doc_id: doc.chunks for doc_id, doc in documents.items()}
    assert store.chunk_count() == len(chunks), "no stale or orphan chunk in the collection"


def test_folder_is_indexed_recursively_with_exact_offsets(tmp_path, make_assistant, fake_embedder):
    corpus = write_corpus(tmp_path / "docs")
    assistant = make_assistant(fake_embedder)
    report = assistant.index_paths([corpus])
    assert report.count("added") == 5 and report.count("failed") == 0
    assert report.chunks_written == sum(doc.chunks for doc in assistant.sources())
    assert_exact(assistant)
    titles = {doc.title for doc in assistant.sources()}
    assert "Garden" in titles and "bridge.docx" in titles
    html_text = assistant.document_text(next(d.id for d in assistant.sources() if d.title == "Garden"))
    assert "alert(1)" not in html_text and "Tomatoes need full sun" in html_text
    latin = next(d for d in assistant.sources() if d.source.endswith("latin1.txt"))
    assert "Café crème brûlée" in assistant.document_text(latin.id)


def test_reindexing_the_same_folder_writes_nothing(tmp_path, make_assistant, fake_embedder):
    corpus = write_corpus(tmp_path / "docs")
    assistant = make_assistant(fake_embedder)
    assistant.index_paths([corpus])
    generation = assistant.store.generation()
    count = assistant.store.chunk_count()
    again = assistant.index_paths([corpus])
    assert again.chunks_written == 0 and again.count("unchanged") == 5
    assert assistant.store.generation() == generation, "nothing was written"
    assert assistant.store.chunk_count() == count


def test_a_changed_file_has_its_old_chunks_replaced(tmp_path, make_assistant, fake_embedder):
    corpus = write_corpus(tmp_path / "docs")
    assistant = make_assistant(fake_embedder)
    assistant.index_paths([corpus])
    target = corpus / "notes.md"
    target.write_text("# Notes\n\nThe archive now opens at ten on weekdays. " * 5, encoding="utf-8")
    report = assistant.index_paths([corpus])
    assert report.count("updated") == 1 and report.count("unchanged") == 4
    assert_exact(assistant)
    notes = next(d for d in assistant.sources() if d.source == str(target.resolve()))
    stored = list(assistant.store.iter_chunks(notes.id))
    assert all("ten on weekdays" in s.chunk.text for s in stored)
    assert len(stored) == notes.chunks


def test_chunk_texts_are_chroma_documents(tmp_path, make_assistant, fake_embedder):
    """The usual layout, which other Chroma clients read (tests/test_chroma_layout.py reads it with LangChain and
    reads and moves the earlier one, texts as metadata values)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    assistant = make_assistant(fake_embedder)
    assistant.index_paths([write_corpus(tmp_path / "docs")])
    before = {stored.chunk.id: stored.chunk.text for stored in all_chunks(assistant.store)}
    close_connections()  # the assistant lets go of the folder; a plain Chroma client opens it
    folder = str(Path(assistant.settings.index_path).resolve())
    client = chromadb.PersistentClient(path=folder, settings=ChromaSettings(anonymized_telemetry=False))
    records = client.get_collection("documents").get(include=["documents", "metadatas"])
    client.close()
    assert records["ids"] and all("text" not in metadata for metadata in records["metadatas"])
    texts = {
        metadata["chunk_id"]: text for text, metadata in zip(records["documents"], records["metadatas"], strict=True)
    }
    assert texts == before


def test_prune_and_remove(tmp_path, make_assistant, fake_embedder):
    corpus = write_corpus(tmp_path / "docs")
    assistant = make_assistant(fake_embedder)
    assistant.index_paths([corpus])
    (corpus / "page.html").unlink()
    report = assistant.index_paths([corpus], prune=True)
    assert report.count("removed") == 1
    assert not any(d.title == "Garden" for d in assistant.sources())
    removed = assistant.remove("nato.txt")
    assert removed.source.endswith("nato.txt")
    assert len(assistant.sources()) == 3
    assert_exact(assistant)


def test_a_batch_of_documents_is_written_with_one_call_of_each_kind(
    tmp_path, make_assistant, fake_embedder, chroma_calls
):
    corpus = write_notes(tmp_path / "many", 30)
    assistant = make_assistant(fake_embedder)
    assistant.store.state()  # the collections exist before counting
    chroma_calls.clear()
    report = assistant.index_paths([corpus])
    assert report.count("added") == 30 and report.chunks_written == 30
    # journal, chunks, manifest, generation, journal: once for all 30 (new documents have no old versions to delete)
    assert chroma_writes(chroma_calls) == 5 and chroma_calls["Collection.delete"] == 1, chroma_calls
    (corpus / "note-03.txt").write_text("Note 3 now says the door code is 1234.")
    (corpus / "note-17.txt").unlink()
    (corpus / "note-30.txt").write_text("Note 30 is new.")
    chroma_calls.clear()
    report = assistant.index_paths([corpus], prune=True)
    assert (report.count("updated"), report.count("added"), report.count("removed")) == (1, 1, 1)
    # one batch write (the updated note's old version deleted), then one removal
    assert chroma_writes(chroma_calls) == 6 + 5, chroma_calls
    assert_exact(assistant)


def test_embedding_waits_when_the_writer_falls_behind(tmp_path, make_assistant, fake_embedder, monkeypatch):
    """Each write waits until the embedder is as far ahead as the indexer allows (MAX_QUEUED_WRITES batches): the
    embedder must get there, and must go no further while that write waits."""
    from index.indexer import MAX_QUEUED_WRITES

    corpus = write_notes(tmp_path / "many", 24)
    assistant = make_assistant(fake_embedder, write_batch_chunks=2)  # 12 batches of 2 notes
    store = assistant.store
    progress = threading.Condition()
    embedded, written, behind, stalled = [0], [0], [], []
    real_write, real_embed = store.write_documents, fake_embedder.embed_documents

    def gated_write(writes, *facts):
        with progress:
            wanted = min(written[0] + 1 + MAX_QUEUED_WRITES, 12)
            if not progress.wait_for(lambda: embedded[0] >= wanted, timeout=60):
                stalled.append(f"write {written[0] + 1} waited for {wanted} batches, {embedded[0]} came")
        real_write(writes, *facts)
        with progress:
            written[0] += 1

    def embed(texts, on_progress=None):
        with progress:
            behind.append(embedded[0] - written[0])  # batches embedded before this one and not yet written
            embedded[0] += 1
            progress.notify_all()
        return real_embed(texts, on_progress)

    monkeypatch.setattr(store, "write_documents", gated_write)
    monkeypatch.setattr(fake_embedder, "embed_documents", embed)
    report = assistant.index_paths([corpus])
    assert stalled == [], "the embedder stopped short of the limit"
    assert report.count("added") == 24 and written[0] == 12
    assert len(behind) == 12 and max(behind) == MAX_QUEUED_WRITES, behind


def test_a_document_the_store_refuses_fails_alone(tmp_path, make_assistant, fake_embedder, monkeypatch):
    from index.errors import StoreError

    corpus = write_corpus(tmp_path / "docs")
    assistant = make_assistant(fake_embedder)
    store = assistant.store
    real_write = store.write_documents

    def refuse_notes(writes, *facts):
        if any(write.document.source.endswith("notes.md") for write in writes):
            raise StoreError("writing notes.md failed: the store refused it")
        return real_write(writes, *facts)

    monkeypatch.setattr(store, "write_documents", refuse_notes)
    report = assistant.index_paths([corpus])
    assert [Path(f.source).name for f in report.failures] == ["notes.md"]
    assert "refused" in report.failures[0].reason
    assert report.count("added") == 4
    assert sorted(Path(d.source).name for d in assistant.sources()) == [
        "bridge.docx",
        "latin1.txt",
        "nato.txt",
        "page.html",
    ]
    assert_exact(assistant)


def test_bad_files_are_reported_and_the_rest_is_indexed(tmp_path, make_assistant, fake_embedder, monkeypatch):
    corpus = write_corpus(tmp_path / "docs")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog")
    (corpus / "vanishing.md").write_text("This file disappears before it is read.", encoding="utf-8")
    import index.loaders

    real_load = index.loaders.load_document

    def load_or_vanish(path, **options):
        if path.name == "vanishing.md":
            path.unlink()
        return real_load(path, **options)

    monkeypatch.setattr(index.loaders, "load_document", load_or_vanish)
    assistant = make_assistant(fake_embedder)
    report = assistant.index_paths([corpus, tmp_path / "missing-folder", tmp_path / "docs" / "program.exe"])
    reasons = {Path(f.source).name: f.reason for f in report.failures}
    assert set(reasons) == {"empty.txt", "binary.txt", "broken.pdf", "vanishing.md", "missing-folder", "program.exe"}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "PDF" in reasons["broken.pdf"]
    assert "not found" in reasons["vanishing.md"]
    assert report.count("added") == 5
    assert_exact(assistant)


def test_load_error_names_the_file(tmp_path):
    from index.loaders import load_document

    path = tmp_path / "nothing.txt"
    path.write_text("   \n  ", encoding="utf-8")
    with pytest.raises(LoadError) as caught:
        load_document(path)
    assert str(path.resolve()) in str(caught.value)


def test_pdf_pages_reach_citations(tmp_path, make_assistant, minilm):
    from helpers import make_pdf

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(
        make_pdf(
            [["The first page talks about apples and orchards."], ["The lighthouse was built in 1874 on the cape."]]
        )
    )
    assistant = make_assistant(minilm)
    assistant.index_paths([pdf])
    document = assistant.sources()[0]
    assert [p.number for p in document.pages] == [1, 2]
    answer = assistant.ask("When was the lighthouse built?")
    assert answer.answered
    assert answer.citations[0].page == 2
    assert "1874" in answer.citations[0].quote
