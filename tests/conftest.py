"""Shared fixtures: the real MiniLM embedder (loaded once) and a hashed bag-of-words fake for plumbing tests."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
EVAL = Path(os.environ.get("EVAL_DATA_DIR", ROOT.parent / "shared" / "eval"))


def require_eval_data() -> Path:
    """The SQuAD sets beside the checkout (or EVAL_DATA_DIR): missing skips locally, fails under CI=true."""
    if not EVAL.is_dir():
        message = f"evaluation data not found at {EVAL} (set EVAL_DATA_DIR)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return EVAL


class HashingEmbedder:
    """Deterministic bag-of-words vectors: fast, no model, enough where ranking quality does not matter."""

    model_id = "hashing-test"
    dimension = 256

    def warm_up(self) -> None:
        pass

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector + 1.0 / np.sqrt(self.dimension)

    def embed_documents(self, texts):
        return np.stack([self._vector(text) for text in texts]) if texts else np.zeros((0, self.dimension))

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


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

    def build(embedder, **changes) -> Assistant:
        return Assistant(Settings(index_path=str(tmp_path / "index")).with_changes(**changes), embedder=embedder)

    return build
