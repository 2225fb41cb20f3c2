"""Fixtures: the real MiniLM embedder (loaded once), a hashed bag-of-words fake for plumbing tests, fresh
Assistants on Chroma folders in tmp_path, and every store connection closed after each test."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import HashingEmbedder

from assistant.settings import Settings
from index.chroma_client import close_connections


@pytest.fixture(autouse=True)
def _let_go_of_indexes():
    """Each test opens its own Chroma folders; the clients this process opened are closed after it."""
    yield
    close_connections()


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
