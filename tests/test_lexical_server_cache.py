"""Server mode saves its lexical (BM25) index in a local cache folder (Settings.lexical_cache), against a real
`chroma run` (127.0.0.1, a free port, stopped by its PID): a new process loads it instead of reading every chunk
from the server, catches up on documents changed since, never uses one saved for a collection deleted and made
again, and answers when the folder cannot be written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import HashingEmbedder
from reliability_support import ChromaServer, assert_answers_verbatim, chroma_server, run_cli, write_corpus
from test_two_app_processes import FACT_QUESTION, AppProcess, _write_fact

from assistant.core import Assistant
from assistant.lexical_cache import server_folder, user_cache_folder
from assistant.settings import Settings
from index.chroma_client import StoreSettings, close_connections

QUESTION = "When was Project zeta1 approved by the council?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("chroma-server")
    with chroma_server(work / "data", work / "chroma.log") as running:
        yield running


def _on_server(server: ChromaServer, collection: str, cache: Path | str, **changes) -> Assistant:
    settings = Settings(chroma_host="127.0.0.1", chroma_port=server.port, collection=collection)
    return Assistant(settings.with_changes(lexical_cache=str(cache), **changes), embedder=HashingEmbedder())


def _saved(cache: Path) -> list[Path]:
    return sorted(folder for folder in cache.iterdir() if (folder / "state.json").exists()) if cache.is_dir() else []


def _saved_documents(folder: Path) -> dict[str, str]:
    return json.loads((folder / "state.json").read_text())["documents"]


def _indexed(server: ChromaServer, collection: str, tmp_path: Path, cache: Path, **changes) -> Assistant:
    write_corpus(tmp_path / "corpus", 4)
    first = _on_server(server, collection, cache, **changes)
    assert first.index_paths([tmp_path / "corpus"]).count("added") == 4
    return first


def test_a_new_process_loads_the_saved_index_instead_of_reading_every_chunk(server, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = _indexed(server, "cached", tmp_path, cache)
    answer = assert_answers_verbatim(first, QUESTION)
    assert answer.answered and answer.citations
    (folder,) = _saved(cache)
    name, digest = folder.name.rsplit("-", 1)
    assert name == f"127.0.0.1-{server.port}-cached" and len(digest) == 12, folder.name
    assert len(_saved_documents(folder)) == 4
    close_connections()

    monkeypatch.setenv("ASSISTANT_LEXICAL_CACHE", str(cache))  # reaches the app process (clean_environment)
    app = AppProcess(server, "cached", tmp_path)
    try:
        loaded = app.ask(QUESTION)  # its first question: the manifest is read, no chunk
    finally:
        app.stop()
    assert loaded["answered"] and loaded["text"] == answer.text, loaded
    assert loaded["sources"] == sorted({c.source for c in answer.citations}) and loaded["citations"], loaded
    assert loaded["calls"].get("Collection.get") == 1, loaded["calls"]  # the manifest's

    monkeypatch.setenv("ASSISTANT_LEXICAL_CACHE", "off")  # the same first question, nothing saved: every chunk read
    app = AppProcess(server, "cached", tmp_path)
    try:
        rebuilt = app.ask(QUESTION)
    finally:
        app.stop()
    # the manifest, then the 4 documents' chunks in one read (documents are read a page of chunks at a time)
    assert rebuilt["text"] == answer.text and rebuilt["calls"].get("Collection.get") == 1 + 1, rebuilt["calls"]
    assert _saved(cache) == [folder]


def test_a_document_added_by_another_client_after_the_save_is_found(server, tmp_path, chroma_calls):
    cache = tmp_path / "cache"
    first = _indexed(server, "catch-up", tmp_path, cache)
    assert_answers_verbatim(first, QUESTION)
    (folder,) = _saved(cache)
    flags = [*server.flags, "--collection", "catch-up"]
    added = run_cli(*flags, "index", str(_write_fact(tmp_path)), cwd=tmp_path)  # another process, the command line
    assert added.returncode == 0 and "1 added" in added.stdout, added.stderr
    close_connections()

    second = _on_server(server, "catch-up", cache)
    assert len(second.sources()) == 5
    chroma_calls.clear()
    answer = assert_answers_verbatim(second, FACT_QUESTION)
    assert answer.answered and {Path(c.source).name for c in answer.citations} == {"lighthouse-log.txt"}, answer
    assert chroma_calls["Collection.get"] == 1, dict(chroma_calls)  # the new document's chunks alone (one page)
    assert assert_answers_verbatim(second, QUESTION).citations  # the older ones, from the saved index
    assert _saved(cache) == [folder] and len(_saved_documents(folder)) == 5


def test_a_collection_deleted_and_made_again_does_not_use_the_old_cache(server, tmp_path, chroma_calls):
    cache = tmp_path / "cache"
    first = _indexed(server, "remade", tmp_path, cache)
    assert_answers_verbatim(first, QUESTION)
    (old,) = _saved(cache)
    close_connections()

    remade = _on_server(server, "remade", cache, chunk_size=300, chunk_overlap=50)
    remade.store.clear()  # the collection deleted and made again under its name: a new id
    assert remade.index_paths([tmp_path / "corpus"]).count("added") == 4  # the same files: the same hashes
    close_connections()

    second = _on_server(server, "remade", cache)
    assert len(second.sources()) == 4  # opened, and the manifest read, before counting
    chroma_calls.clear()
    answer = assert_answers_verbatim(second, QUESTION)
    assert answer.answered and answer.citations
    assert chroma_calls["Collection.get"] == 1, dict(chroma_calls)  # every document's chunks read again, in one read
    assert sorted(second.snapshot().lexical.documents) == sorted(doc.id for doc in second.sources())
    new = next(folder for folder in _saved(cache) if folder != old)
    assert new.name.rsplit("-", 1)[0] == old.name.rsplit("-", 1)[0]  # the same server and name, another id
    stored = {_place(stored) for stored in second.store.iter_chunks()}
    found = second.snapshot().lexical.search("Project zeta1 approved council budget crowns", 20)
    assert found and all(_place(hit) in stored for hit, _ in found), "no chunk of the old collection"


def _place(stored) -> tuple[str, int, int, str]:
    return stored.chunk.id, stored.chunk.start, stored.chunk.end, stored.chunk.text


def test_an_unwritable_cache_folder_still_answers(server, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    cache = tmp_path / "a-file" / "cache"  # cannot be made, even by root
    first = _indexed(server, "unwritable", tmp_path, cache)
    assert assert_answers_verbatim(first, QUESTION).citations
    close_connections()
    second = _on_server(server, "unwritable", cache)
    assert assert_answers_verbatim(second, QUESTION).citations


def test_off_saves_nothing_and_an_on_disk_index_keeps_its_own_beside_it(
    server, tmp_path, make_assistant, _private_lexical_cache
):
    first = _indexed(server, "not-saved", tmp_path, "off")
    assert assert_answers_verbatim(first, QUESTION).citations
    default = _private_lexical_cache  # the default folder: this test's own (conftest)
    assert _saved(default) == []
    assert assert_answers_verbatim(_on_server(server, "not-saved", ""), QUESTION).citations
    (saved,) = _saved(default)
    assert saved.name.startswith(f"127.0.0.1-{server.port}-not-saved-")
    local = make_assistant(HashingEmbedder())
    local.index_paths([tmp_path / "corpus"])
    assert assert_answers_verbatim(local, QUESTION).citations
    assert (tmp_path / "index" / "assistant-lexical" / "documents" / "state.json").exists()
    assert _saved(default) == [saved]


def test_the_folder_name_changes_with_the_server_the_collection_and_its_id(tmp_path):
    base = StoreSettings(host="127.0.0.1", port=8000, collection="documents")
    named = server_folder(tmp_path, base, "id-1")
    assert named.parent == tmp_path and named.name.startswith("127.0.0.1-8000-documents-")
    others = [
        server_folder(tmp_path, base, "id-2"),
        server_folder(tmp_path, StoreSettings(host="127.0.0.1", port=8001, collection="documents"), "id-1"),
        server_folder(tmp_path, StoreSettings(host="127.0.0.1", port=8000, collection="other"), "id-1"),
        server_folder(tmp_path, StoreSettings(host="127.0.0.1", port=8000, collection="documents", ssl=True), "id-1"),
        server_folder(tmp_path, StoreSettings(host="https://a/b:c", collection="x/../y"), "id-1"),
    ]
    assert len({named, *others}) == 6
    assert all(folder.parent == tmp_path for folder in others)  # nothing in a name leaves the folder


def test_the_default_folder_is_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_folder() == tmp_path / "xdg" / "quote-assistant" / "lexical"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for unset in ("", "relative/cache"):  # XDG: a relative path is ignored
        monkeypatch.setenv("XDG_CACHE_HOME", unset)
        assert user_cache_folder() == tmp_path / "home" / ".cache" / "quote-assistant" / "lexical"
