"""One settings object for the whole assistant, read from ASSISTANT_* environment variables and flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

from index.chunking import ChunkingSettings
from index.embedding import EmbedderSettings
from index.store import StoreSettings

ENV_PREFIX = "ASSISTANT_"


@dataclass(frozen=True)
class Settings:
    """Every setting, with the embedded defaults: a Chroma folder, the packaged MiniLM, no LLM."""

    index_path: str = ".chroma"  # Chroma folder on disk
    chroma_host: str = ""  # set to use a Chroma server instead of the folder
    chroma_port: int = 8000
    collection: str = "documents"
    embedding_model: str = "all-MiniLM-L6-v2"  # a sentence-transformers name or a local folder
    embedding_precision: str = "auto"  # auto | float32 | bfloat16
    device: str = "auto"  # auto | cpu | cuda
    embedding_batch_size: int = 32
    write_batch_chunks: int = 1024  # chunks embedded, then written to Chroma together
    chunk_size: int = 800  # characters
    chunk_overlap: int = 200  # characters
    max_file_mb: float = 50.0
    top_k: int = 5  # passages given to the answerer
    sentence_bonus: float = 0.08  # re-ranking weight of a passage's best-matching sentence (0 = fusion alone)
    chat_model: str = ""  # e.g. "ollama:llama3.1" or "openai:gpt-4o-mini"; empty = extractive answers
    chat_base_url: str = ""  # an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1
    chat_api_key: str = ""
    chat_temperature: float = 0.0
    decline_threshold: float = 0.0  # 0 = the calibrated default of the answerer

    def __post_init__(self) -> None:
        if self.top_k <= 0:
            raise ValueError(f"top_k must be > 0, got {self.top_k}")
        if self.sentence_bonus < 0:
            raise ValueError(f"sentence_bonus must be >= 0, got {self.sentence_bonus}")
        if self.write_batch_chunks <= 0:
            raise ValueError(f"write_batch_chunks must be > 0, got {self.write_batch_chunks}")
        if self.max_file_mb <= 0:
            raise ValueError(f"max_file_mb must be > 0, got {self.max_file_mb}")
        ChunkingSettings(self.chunk_size, self.chunk_overlap)
        self.embedder_settings()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ASSISTANT_* variables, then explicit overrides (flags); None overrides are ignored."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = environ.get(ENV_PREFIX + spec.name.upper())
            if raw is not None and raw != "":
                values[spec.name] = _convert(spec.name, raw, type(getattr(cls(), spec.name)))
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **{name: value for name, value in changes.items() if value is not None})

    def store_settings(self) -> StoreSettings:
        return StoreSettings(self.index_path, self.chroma_host, self.chroma_port, self.collection)

    def embedder_settings(self) -> EmbedderSettings:
        return EmbedderSettings(self.embedding_model, self.device, self.embedding_precision, self.embedding_batch_size)

    def chunking_settings(self) -> ChunkingSettings:
        return ChunkingSettings(self.chunk_size, self.chunk_overlap)

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)


def _convert(name: str, raw: str, kind: type) -> Any:
    try:
        return kind(raw)
    except ValueError as error:
        raise ValueError(f"{ENV_PREFIX}{name.upper()} must be a {kind.__name__}, got {raw!r}") from error
