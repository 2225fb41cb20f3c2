"""What made an index: its format version (documents of an earlier one are left out, then indexed again), its
embedding model and dimension (never two in one collection), and the chunking of each document."""

from __future__ import annotations

from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings
from helpers import HashingEmbedder

from assistant.errors import AssistantError
from index.chroma_client import close_connections
from index.errors import IndexMismatch
from index.migrations import CURRENT

FACTS = {
    "lighthouse.txt": "The lighthouse on the north cape was built in 1874 by Maria Lund.\n",
    "ferry.txt": "The ferry to Vela leaves the harbour at nine every morning.\n",
    "bridge.txt": "The bridge over the Aller was completed in 1932 and carries eight lanes.\n",
}


class OtherModel(HashingEmbedder):
    """The same vectors under another model's name."""

    model_id = "another-model"


class WiderModel(HashingEmbedder):
    model_id = "wider-model"
    dimension = 384


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in FACTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _as_written_by_an_earlier_version(index: Path, names: set[str]) -> None:
    """Rewrite these documents' manifest entries as format 1 wrote them (no format, no chunking recorded)."""
    close_connections()
    client = chromadb.PersistentClient(path=str(index.resolve()), settings=ChromaSettings(anonymized_telemetry=False))
    manifest = client.get_collection("documents-manifest")
    records = manifest.get(include=["metadatas", "embeddings"])
    for record_id, metadata, embedding in zip(records["ids"], records["metadatas"], records["embeddings"], strict=True):
        if Path(metadata["source"]).name in names:
            old = {**metadata, "index_format": None, "chunking": None}  # None: the key goes (upsert merges)
            manifest.upsert(ids=[record_id], metadatas=[old], embeddings=[embedding])
    chunks = client.get_collection("documents")  # a change of the visible set: a new generation
    chunks.modify(metadata={**(chunks.metadata or {}), "generation": 12345})
    client.close()


def test_documents_of_an_earlier_format_are_left_out_then_indexed_again(corpus, make_assistant, fake_embedder):
    assistant = make_assistant(fake_embedder)
    assistant.index_paths([corpus])
    _as_written_by_an_earlier_version(Path(assistant.settings.index_path), {"lighthouse.txt"})

    reopened = make_assistant(fake_embedder)
    outdated = reopened.find_document("lighthouse.txt")
    assert outdated.index_format == 1 < CURRENT
    answer = reopened.ask("Who built the lighthouse on the north cape?")
    assert all(citation.document_id != outdated.id for citation in answer.citations), "no stale offsets served"
    assert all(passage.document_id != outdated.id for passage in answer.passages)
    (warning,) = answer.warnings
    assert "1 document left out" in warning and "lighthouse.txt" in warning and "assistant index" in warning

    report = reopened.index_paths([corpus])  # the files did not change: only the outdated one is written again
    assert (report.count("updated"), report.count("unchanged")) == (1, 2)
    assert report.notes == [
        f"1 documents written by an earlier version of the index were indexed again (index format {CURRENT})"
    ]
    again = reopened.ask("Who built the lighthouse on the north cape?")
    assert again.warnings == [] and any("Maria Lund" in c.quote for c in again.citations)
    renewed = reopened.find_document("lighthouse.txt")
    assert renewed.index_format == CURRENT
    assert reopened.store.document_text(renewed.id) == FACTS["lighthouse.txt"], "rebuilt from Chroma, exactly"
    assert reopened.store.chunk_count() == sum(doc.chunks for doc in reopened.sources()), "no old record left"


def test_a_document_left_outdated_is_named_after_a_run_that_did_not_reach_it(corpus, make_assistant, fake_embedder):
    assistant = make_assistant(fake_embedder)
    assistant.index_paths([corpus])
    _as_written_by_an_earlier_version(Path(assistant.settings.index_path), {"ferry.txt"})
    report = make_assistant(fake_embedder).index_paths([corpus / "bridge.txt"])
    assert report.count("unchanged") == 1
    assert any("stay left out of answers" in note and "ferry.txt" in note for note in report.notes), report.notes
    (corpus / "ferry.txt").unlink()
    gone = make_assistant(fake_embedder).index_paths([corpus / "bridge.txt"])
    assert any("their files are gone: ferry.txt" in note and "--prune" in note for note in gone.notes), gone.notes
    assert make_assistant(fake_embedder).index_paths([corpus], prune=True).count("removed") == 1


def test_vectors_of_two_models_never_share_a_collection(corpus, make_assistant, fake_embedder):
    make_assistant(fake_embedder).index_paths([corpus])
    other = make_assistant(OtherModel())
    with pytest.raises(IndexMismatch, match="holds vectors of the embedding model hashing-test .* --rebuild"):
        other.index_paths([corpus])
    with pytest.raises(AssistantError, match="built with the embedding model hashing-test"):
        other.ask("When does the ferry leave?")
    wider = make_assistant(WiderModel())
    with pytest.raises(IndexMismatch, match="256 dimensions"):
        wider.index_documents([_document("/x/new.txt", "A new note about the harbour master.")])
    assert len(make_assistant(fake_embedder).sources()) == 3, "nothing was written"

    report = wider.index_paths([corpus], rebuild=True)  # the collection starts again, with the other model
    assert report.count("added") == 3
    assert wider.store.state().profile is not None and wider.store.state().profile.dimension == 384
    assert wider.ask("When does the ferry to Vela leave?").citations


def test_another_chunking_applies_to_what_is_written_and_the_rest_is_named(corpus, make_assistant, fake_embedder):
    make_assistant(fake_embedder).index_paths([corpus])
    (corpus / "ferry.txt").write_text("The ferry to Vela now leaves the harbour at ten.\n", encoding="utf-8")
    smaller = make_assistant(fake_embedder, chunk_size=400, chunk_overlap=100)
    report = smaller.index_paths([corpus])
    assert (report.count("updated"), report.count("unchanged")) == (1, 2)
    (note,) = report.notes
    assert note.startswith("2 documents keep chunks of 800/200 (this run chunks with 400/100)") and "--rebuild" in note
    assert {Path(doc.source).name: doc.chunking for doc in smaller.sources()}["ferry.txt"] == "400/100"
    rebuilt = smaller.index_paths([corpus], rebuild=True)
    assert rebuilt.count("added") == 3 and rebuilt.notes == []
    assert {doc.chunking for doc in smaller.sources()} == {"400/100"}


def _document(source: str, text: str):
    from index.identity import make_document

    return make_document(source, Path(source).name, text)


def test_a_format_change_outdates_only_the_file_types_it_changes():
    from index.migrations import is_outdated, why_outdated
    from index.models import IndexedDocument

    def written_in(version: int, file_type: str) -> IndexedDocument:
        return IndexedDocument("d", "/f", "f", "0", 1, 1, "", file_type=file_type, index_format=version)

    assert (
        is_outdated(written_in(2, "pdf")) and is_outdated(written_in(2, "docx")) and is_outdated(written_in(2, "html"))
    )
    assert "pdfium" in why_outdated(written_in(2, "pdf"))
    assert not is_outdated(written_in(2, "text")) and not is_outdated(written_in(2, "image"))
    assert is_outdated(written_in(1, "text")) and "plain-text" in why_outdated(written_in(1, "text"))
    assert not is_outdated(written_in(CURRENT, "pdf"))


def test_a_change_made_in_place_outdates_nothing_and_moves_only_documents_nothing_else_outdates():
    from index.migrations import CHANGES, is_outdated, moves_in_place, why_outdated
    from index.models import IndexedDocument

    def written_in(version: int, file_type: str) -> IndexedDocument:
        return IndexedDocument("d", "/f", "f", "0", 1, 1, "", file_type=file_type, index_format=version)

    assert CHANGES[4].in_place and not CHANGES[4].file_types  # texts as Chroma documents: every file type
    assert not is_outdated(written_in(3, "pdf")) and moves_in_place(written_in(3, "pdf"))
    assert moves_in_place(written_in(2, "text")) and "Chroma document" not in why_outdated(written_in(2, "text"))
    # Written again from its file (in the current format) instead:
    assert is_outdated(written_in(2, "pdf")) and not moves_in_place(written_in(2, "pdf"))
    assert not moves_in_place(written_in(CURRENT, "docx"))
