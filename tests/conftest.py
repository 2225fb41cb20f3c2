"""Fixtures: the real MiniLM embedder (loaded once), a hashed bag-of-words fake for plumbing tests, fresh
Assistants on Chroma folders in tmp_path, and every store connection closed after each test."""

from __future__ import annotations

import collections
import os
from pathlib import Path

import pytest
from helpers import CHROMA_CLIENT_CALLS, CHROMA_READS, CHROMA_WRITES, HashingEmbedder

from assistant.settings import Settings
from index.chroma_client import close_connections


@pytest.fixture(autouse=True)
def _let_go_of_indexes():
    """Each test opens its own Chroma folders; the clients this process opened are closed after it."""
    yield
    close_connections()


@pytest.fixture(autouse=True)
def _private_lexical_cache(tmp_path_factory, monkeypatch):
    """Server mode saves its lexical index in a per-user cache folder: each test gets its own, never the home's
    (also in the processes it starts: reliability_support.clean_environment passes ASSISTANT_LEXICAL_CACHE on)."""
    from assistant import lexical_cache

    folder = tmp_path_factory.mktemp("lexical-cache")
    monkeypatch.setattr(lexical_cache, "user_cache_folder", lambda: folder)
    monkeypatch.setenv("ASSISTANT_LEXICAL_CACHE", str(folder))
    return folder


@pytest.fixture(scope="session")
def minilm():
    """The real all-MiniLM-L6-v2 from its package folder, loaded once for the session."""
    from index.embedding import Embedder, EmbedderSettings

    embedder = Embedder(EmbedderSettings())
    embedder.warm_up()
    return embedder


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(index_path=str(tmp_path / "index"))


@pytest.fixture
def make_assistant(tmp_path: Path):
    """Build an Assistant on a fresh Chroma folder in tmp_path."""
    from assistant.core import Assistant

    def build(embedder, *, chat=None, **changes) -> Assistant:
        """`chat`: a LangChain chat model object to answer with; `changes`: settings."""
        settings = Settings(index_path=str(tmp_path / "index")).with_changes(**changes)
        return Assistant(settings, embedder=embedder, chat_model=chat)

    return build


@pytest.fixture
def chroma_calls(monkeypatch) -> collections.Counter[str]:
    """Every call this process makes to Chroma's client API, by name ("Collection.upsert", "Client.get_collection");
    each is an HTTP round trip to a Chroma server."""
    from chromadb.api.client import Client
    from chromadb.api.models.Collection import Collection

    calls: collections.Counter[str] = collections.Counter()
    for owner, names in ((Collection, CHROMA_READS + CHROMA_WRITES), (Client, CHROMA_CLIENT_CALLS)):
        for name in names:
            original = getattr(owner, name)

            def counted(self, *args, _original=original, _name=f"{owner.__name__}.{name}", **kwargs):
                calls[_name] += 1
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(owner, name, counted)
    return calls


@pytest.fixture
def app_environment(tmp_path, monkeypatch) -> None:
    """The app's ASSISTANT_* variables alone: an index and an uploads folder in tmp_path, no sample documents."""
    from ui import state

    for name in list(os.environ):
        if name.startswith("ASSISTANT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ASSISTANT_INDEX_PATH", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_UPLOADS_PATH", str(tmp_path / "uploads"))
    monkeypatch.setenv(state.SEEDS_ENV, "")


@pytest.fixture(scope="session")
def llm_base_url(tmp_path_factory):
    """llama.cpp's server on the real small model (tests/llm_server.py), started once and stopped by its PID at the
    end; yields its OpenAI-compatible base URL. Skips when the model packages or the server are missing, except under
    CI=true, where it fails: CI installs them (pip install -e '.[llm-test]')."""
    import llm_server

    lacking = llm_server.missing()
    if lacking:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the real-model tests need {lacking} under CI=true: pip install -e '.[llm-test]'")
        pytest.skip(f"{lacking} not installed; pip install -e '.[llm-test]' runs the real-model tests")
    log = tmp_path_factory.mktemp("llm-server") / "server.log"
    with llm_server.serve(llm_server.model_file(), log) as base_url:
        yield base_url
