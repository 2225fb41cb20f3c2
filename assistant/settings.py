"""One settings object for the whole assistant, read from ASSISTANT_* environment variables and flags.

Each default is written once: those of the index's parts are theirs (StoreSettings, EmbedderSettings,
ChunkingSettings, the indexer's limits, the retrieval's weights) and Settings refers to them; top_k and the chat
model's are here. Every environment value is parsed by the declared type of its field.
"""

from __future__ import annotations

import os
import types
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Union, get_args, get_origin, get_type_hints

from assistant.retrieval import RetrievalSettings
from index.chroma_client import StoreSettings
from index.chunking import ChunkingSettings
from index.embedding import EmbedderSettings
from index.formats import MAX_FILE_BYTES
from index.indexer import WRITE_BATCH_CHUNKS
from index.reading import ReadingSettings

ENV_PREFIX = "ASSISTANT_"
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class Settings:
    """Every setting, with the embedded defaults: a Chroma folder, the packaged MiniLM, no LLM."""

    index_path: str = StoreSettings.path  # Chroma folder on disk
    chroma_host: str = StoreSettings.host  # set to use a Chroma server instead of the folder
    chroma_port: int = StoreSettings.port  # an http(s):// URL in chroma_host brings its own port
    chroma_token: str = field(default=StoreSettings.token, repr=False)  # sent with every request; never shown
    chroma_token_header: str = StoreSettings.token_header  # Authorization: "Bearer TOKEN"; another: the bare token
    chroma_ssl: bool = StoreSettings.ssl  # https (also when chroma_host is an https:// URL)
    chroma_ca_file: str = StoreSettings.ca_file  # CA bundle for the server's certificate (default: the system's)
    collection: str = StoreSettings.collection
    # server mode: the folder the lexical index is saved in for the next process ("": ~/.cache/quote-assistant/
    # lexical, or under XDG_CACHE_HOME; "off": not saved); an on-disk index keeps it beside itself
    lexical_cache: str = ""
    embedding_model: str = EmbedderSettings.model  # a sentence-transformers name or a local folder
    embedding_precision: str = EmbedderSettings.precision  # auto | float32 | bfloat16
    device: str = EmbedderSettings.device  # auto | cpu | cuda
    embedding_batch_size: int = EmbedderSettings.batch_size
    write_batch_chunks: int = WRITE_BATCH_CHUNKS  # chunks embedded, then written to Chroma together
    chunk_size: int = ChunkingSettings.size  # characters
    chunk_overlap: int = ChunkingSettings.overlap  # characters
    max_file_mb: float = MAX_FILE_BYTES / 1_000_000
    max_pages: int = ReadingSettings.max_pages  # a PDF with more pages is refused with a message
    ocr: str = ReadingSettings.ocr  # auto | off | always (Tesseract for scanned pages and image files)
    ocr_lang: str = ReadingSettings.ocr_language  # Tesseract language code(s), e.g. eng or eng+deu
    top_k: int = 5  # passages given to the answerer
    sentence_bonus: float = RetrievalSettings.sentence_weight  # re-ranking weight of the best sentence (0: off)
    chat_model: str = ""  # e.g. "ollama:llama3.1" or "openai:gpt-4o-mini"; empty = extractive answers
    chat_base_url: str = ""  # an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1
    chat_api_key: str = field(default="", repr=False)
    chat_temperature: float = 0.0
    decline_threshold: float | None = None  # None: the calibrated default (the support model's, else evidence.py's)
    # rank sentences and decide to answer with the learned models (assistant/support.py); off by default until they
    # do better on small personal collections (docs/quality.md)
    support_model: bool = False

    def __post_init__(self) -> None:
        if self.top_k <= 0:
            raise ValueError(f"top_k must be > 0, got {self.top_k}")
        if self.sentence_bonus < 0:
            raise ValueError(f"sentence_bonus must be >= 0, got {self.sentence_bonus}")
        if self.write_batch_chunks <= 0:
            raise ValueError(f"write_batch_chunks must be > 0, got {self.write_batch_chunks}")
        if self.max_file_mb <= 0:
            raise ValueError(f"max_file_mb must be > 0, got {self.max_file_mb}")
        self.chunking_settings()
        self.store_settings()
        self.embedder_settings()
        self.reading_settings()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ASSISTANT_* variables, then explicit overrides (flags); None overrides are ignored."""
        environ = os.environ if environ is None else environ
        types_by_name = get_type_hints(cls)
        values: dict[str, Any] = {}
        for spec in fields(cls):
            variable = ENV_PREFIX + spec.name.upper()
            raw = environ.get(variable)
            if raw is not None and raw != "":
                values[spec.name] = parse_value(variable, raw, types_by_name[spec.name])
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **{name: value for name, value in changes.items() if value is not None})

    def environment(self) -> dict[str, str]:
        """ASSISTANT_* variables that rebuild these settings with `from_env` (unset values are left out)."""
        values = {spec.name: getattr(self, spec.name) for spec in fields(self)}
        return {ENV_PREFIX + name.upper(): str(value) for name, value in values.items() if value is not None}

    def store_settings(self) -> StoreSettings:
        return StoreSettings(
            self.index_path,
            self.chroma_host,
            self.chroma_port,
            self.collection,
            token=self.chroma_token,
            token_header=self.chroma_token_header,
            ssl=self.chroma_ssl,
            ca_file=self.chroma_ca_file,
        )

    def embedder_settings(self) -> EmbedderSettings:
        return EmbedderSettings(self.embedding_model, self.device, self.embedding_precision, self.embedding_batch_size)

    def reading_settings(self) -> ReadingSettings:
        return ReadingSettings(self.ocr, self.ocr_lang, self.max_pages)

    def chunking_settings(self) -> ChunkingSettings:
        return ChunkingSettings(self.chunk_size, self.chunk_overlap)

    def retrieval_settings(self) -> RetrievalSettings:
        return RetrievalSettings(sentence_weight=self.sentence_bonus)

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)


def parse_value(variable: str, raw: str, declared: Any) -> Any:
    """`raw` as the declared type (str, int, float, bool, or one of them or None); a bad value raises a
    ValueError naming the variable and the value."""
    kind = declared
    if get_origin(declared) in (Union, types.UnionType):
        kind = next(arg for arg in get_args(declared) if arg is not type(None))
    text = raw.strip()
    if kind is bool:
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        expected = "true or false (also 1/0, yes/no, on/off)"
    else:
        try:
            return kind(text) if kind in (int, float) else raw
        except ValueError:
            pass
        expected = "a whole number" if kind is int else "a number"
    raise ValueError(f"{variable} must be {expected}, got {raw!r}")
