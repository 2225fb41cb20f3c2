"""A BERT encoder with mean pooling in plain torch (torch, tokenizers and safetensors): the default MiniLM's vectors
without importing sentence-transformers, transformers and scikit-learn, which took most of a cold start. Its layers
can also be run on given token states (bench/train_pairs.py trains a top layer that way)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def normalized(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def plain_bert(location: str) -> bool:
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


class BertEncoder:
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
        self.token_types = tensor("embeddings.token_type_embeddings.weight")
        self.token_type = self.token_types[0]
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
        return normalized(vectors)

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
        return self.apply_layers(self.embed_tokens(ids), mask, self.layers)

    def embed_tokens(self, ids: Any, token_types: Any = None) -> Any:
        """The states before the first layer: word, position and token-type embeddings, normalised."""
        import torch.nn.functional as F

        types = self.token_type if token_types is None else self.token_types[token_types]
        x = self.words[ids] + self.positions[: ids.shape[1]] + types
        return F.layer_norm(x, (self.dimension,), *self.norm, eps=self.eps)

    def apply_layers(self, x: Any, mask: Any, layers: Sequence[tuple[Any, ...]]) -> Any:
        """Token states `x` through `layers` (each as in `self.layers`); differentiable when given trainable
        tensors and the plain linear, which is what training a layer (bench/train_pairs.py) relies on."""
        import torch.nn.functional as F

        batch, length, width = x.shape
        heads = self.heads
        attend = mask[:, None, None, :].bool()
        linear = _fused_linear if self.fused else _linear
        for qkv_w, qkv_b, out_w, out_b, norm1_w, norm1_b, up_w, up_b, down_w, down_b, norm2_w, norm2_b in layers:
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
