"""The collection as other Chroma clients read it: chunk texts as Chroma documents, offsets in metadata
(langchain_chroma.Chroma on the assistant's folder), and indexes in the earlier layout (texts as metadata values)
moved in place by the next indexing run: nothing embedded again, no chunk lost or duplicated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings
from helpers import HashingEmbedder, write_earlier_layout
from test_indexing import assert_exact, write_corpus

import index.relayout
from index.chroma_client import close_connections
from index.migrations import CURRENT

QUESTION = "When does the archive open?"


class CountingEmbedder(HashingEmbedder):
    """Counts the texts it embeds."""

    def __init__(self) -> None:
        self.embedded = 0

    def embed_documents(self, texts, on_progress=None):
        self.embedded += len(texts)
        return super().embed_documents(texts, on_progress)


def _client(assistant) -> Any:
    close_connections()  # the assistant lets go of the folder; another client opens it
    folder = str(Path(assistant.settings.index_path).resolve())
    return chromadb.PersistentClient(path=folder, settings=ChromaSettings(anonymized_telemetry=False))


def _raw(assistant) -> dict[str, Any]:
    client = _client(assistant)
    records = client.get_collection("documents").get(include=["documents", "metadatas", "embeddings"])
    manifest = client.get_collection("documents-manifest").get(include=["metadatas"])
    client.close()
    return {"chunks": records, "manifest": manifest}


def _as_the_earlier_layout_wrote_it(assistant) -> None:
    close_connections()
    write_earlier_layout(Path(assistant.settings.index_path))


def _answer(assistant) -> list[tuple[str, int, int, str]]:
    answer = assistant.ask(QUESTION)
    return [(c.document_id, c.start, c.end, c.quote) for c in answer.citations]


def test_langchain_chroma_reads_chunk_texts_and_offsets(tmp_path, make_assistant, minilm):
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

    class SameEmbedding(Embeddings):
        """The assistant's own MiniLM, as a LangChain embedding."""

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return minilm.embed_documents(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return minilm.embed_query(text).tolist()

    assistant = make_assistant(minilm)
    assistant.index_paths([write_corpus(tmp_path / "docs")])
    generation = assistant.store.generation()
    texts = {doc.id: assistant.document_text(doc.id) for doc in assistant.sources()}
    chunk_count = assistant.store.chunk_count()
    close_connections()

    store = Chroma(
        collection_name="documents",
        persist_directory=assistant.settings.index_path,
        embedding_function=SameEmbedding(),
        client_settings=ChromaSettings(anonymized_telemetry=False),  # as the assistant's own client, in this process
    )
    found = store.similarity_search(QUESTION, k=4)
    assert len(found) == 4
    assert "archive opens at nine" in found[0].page_content
    for document in found:
        metadata = document.metadata
        assert {"source", "document_id", "start", "end", "sha256"} <= metadata.keys()
        assert "text" not in metadata
        assert texts[metadata["document_id"]][metadata["start"] : metadata["end"]] == document.page_content
    everything = store.get()
    assert len(everything["ids"]) == chunk_count and all(everything["documents"])

    reopened = make_assistant(minilm)  # the wrapper changed nothing the assistant keeps
    assert reopened.store.generation() == generation
    assert_exact(reopened)


def test_a_reader_filtering_by_the_manifest_sees_only_committed_versions(tmp_path, make_assistant, fake_embedder):
    """Chunks of a version being written are in the collection before its manifest entry commits it: a filter
    on (document_id, sha256) pairs read from the manifest leaves them out, as the assistant does."""
    assistant = make_assistant(fake_embedder)
    assistant.index_paths([write_corpus(tmp_path / "docs")])
    client = _client(assistant)
    chunks = client.get_collection("documents")
    one = chunks.get(limit=1, include=["documents", "metadatas", "embeddings"])
    uncommitted = {**one["metadatas"][0], "sha256": "f" * 64}
    chunks.add(
        ids=["uncommitted@ffff"], embeddings=one["embeddings"], documents=one["documents"], metadatas=[uncommitted]
    )
    manifest = client.get_collection("documents-manifest").get(include=["metadatas"])
    committed = [
        {"$and": [{"document_id": doc_id}, {"sha256": metadata["sha256"]}]}
        for doc_id, metadata in zip(manifest["ids"], manifest["metadatas"], strict=True)
    ]
    assert "uncommitted@ffff" in chunks.get()["ids"]
    assert "uncommitted@ffff" not in chunks.get(where={"$or": committed})["ids"]
    client.close()


def test_an_index_in_the_earlier_layout_moves_in_place(tmp_path, make_assistant):
    corpus = write_corpus(tmp_path / "docs")
    embedder = CountingEmbedder()
    assistant = make_assistant(embedder)
    assistant.index_paths([corpus])
    current = _raw(assistant)
    records_before = assistant.store.records()
    answer_before = _answer(assistant)
    _as_the_earlier_layout_wrote_it(assistant)

    old = make_assistant(embedder)  # the earlier layout reads, and nothing is left out of answers
    assert {doc.index_format for doc in old.sources()} == {3}
    assert old.store.records()["chunks"] == records_before["chunks"]
    assert _answer(old) == answer_before and old.ask(QUESTION).warnings == []
    embedded = embedder.embedded

    report = old.index_paths([corpus])
    assert report.count("unchanged") == len(old.sources()) and embedder.embedded == embedded, "nothing embedded"
    assert report.notes == [
        f"{len(old.sources())} documents written by an earlier version of the index were brought to index format "
        f"{CURRENT} in place (chunk texts are now Chroma documents; nothing was embedded again)"
    ]
    assert {doc.index_format for doc in old.sources()} == {CURRENT}
    assert old.store.records() == records_before
    assert _answer(old) == answer_before
    assert_exact(old)

    moved = _raw(old)
    assert sorted(moved["chunks"]["ids"]) == sorted(current["chunks"]["ids"]), "no chunk lost or duplicated"
    as_written = dict(zip(current["chunks"]["ids"], current["chunks"]["documents"], strict=True))
    assert dict(zip(moved["chunks"]["ids"], moved["chunks"]["documents"], strict=True)) == as_written
    assert all("text" not in metadata for metadata in moved["chunks"]["metadatas"])
    assert old.index_paths([corpus]).notes == [], "a second run has nothing to move"


def test_a_move_stopped_midway_leaves_every_chunk_readable_and_the_next_run_finishes(
    tmp_path, make_assistant, fake_embedder, monkeypatch
):
    corpus = write_corpus(tmp_path / "docs")
    assistant = make_assistant(fake_embedder)
    assistant.index_paths([corpus])
    records_before = assistant.store.records()
    answer_before = _answer(assistant)
    _as_the_earlier_layout_wrote_it(assistant)

    real = index.relayout.update_records
    calls = []

    def stopping(collection, ids, documents, metadatas):
        if calls:
            raise KeyboardInterrupt  # stopped after the first batch of records
        calls.append(len(ids))
        real(collection, ids, documents, metadatas)

    monkeypatch.setattr(index.relayout, "BATCH_CHUNKS", 3)
    monkeypatch.setattr(index.relayout, "update_records", stopping)
    with pytest.raises(KeyboardInterrupt):
        make_assistant(fake_embedder).index_paths([corpus])
    monkeypatch.setattr(index.relayout, "update_records", real)

    halfway = make_assistant(fake_embedder)
    layouts = _raw(halfway)["chunks"]
    assert any(d is None for d in layouts["documents"]) and any(d is not None for d in layouts["documents"])
    assert halfway.store.records()["chunks"] == records_before["chunks"]
    assert _answer(halfway) == answer_before
    halfway.index_paths([corpus])
    assert halfway.store.records() == records_before
    assert {doc.index_format for doc in halfway.sources()} == {CURRENT}
    assert all(d is not None for d in _raw(halfway)["chunks"]["documents"])
    assert_exact(halfway)
