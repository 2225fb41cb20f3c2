"""The speed settings keep results the same: bf16 against float32, the built-in encoder against
sentence-transformers; and each setting is honoured. (BM25: test_lexical.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import PASSAGES, QUESTIONS

from assistant.settings import Settings
from index.embedding import Embedder, EmbedderSettings, cpu_supports_fast_bf16, idle_cores, resolve_precision

ROOT = Path(__file__).resolve().parents[1]

NEAR_TIE = 0.002  # a float32 margin this small between the first two may flip with rounding


def ranking(embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
    passages = embedder.embed_documents(PASSAGES)
    questions = np.stack([embedder.embed_query(q) for q in QUESTIONS])
    return passages, questions @ passages.T


@pytest.fixture(scope="module")
def float32_embedder() -> Embedder:
    embedder = Embedder(EmbedderSettings(precision="float32"))
    embedder.warm_up()
    return embedder


@pytest.mark.skipif(not cpu_supports_fast_bf16(), reason="this CPU has no AMX/AVX-512 BF16: bf16 is not used here")
def test_bf16_gives_the_same_top_results_as_float32(float32_embedder):
    bf16 = Embedder(EmbedderSettings(precision="bfloat16"))
    bf16.warm_up()
    assert bf16.precision == "bfloat16"
    passages32, scores32 = ranking(float32_embedder)
    passages16, scores16 = ranking(bf16)
    assert np.min(np.sum(passages32 * passages16, axis=1)) > 0.996
    for row, question in enumerate(QUESTIONS):
        order32, order16 = np.argsort(-scores32[row]), np.argsort(-scores16[row])
        assert order32[0] == row, f"float32 misses the passage for {question!r}"
        margin = scores32[row, order32[0]] - scores32[row, order32[1]]
        if margin > NEAR_TIE:
            assert order16[0] == order32[0], question
        assert set(order16[:3]) & set(order32[:3]) >= {order32[0]}
    assert np.max(np.abs(scores32 - scores16)) < 0.02


def test_builtin_encoder_equals_sentence_transformers(float32_embedder):
    reference = Embedder(EmbedderSettings(precision="float32", backend="sentence-transformers"))
    reference.warm_up()
    assert float32_embedder.backend == "built-in" and reference.backend == "sentence-transformers"
    texts = [*PASSAGES, "", "word " * 400]  # empty, and longer than the model's 256 tokens
    ours, theirs = float32_embedder.embed_documents(texts), reference.embed_documents(texts)
    assert ours.dtype == np.float32 and ours.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(ours * theirs, axis=1)) > 0.99999
    assert np.allclose(float32_embedder.embed_query(QUESTIONS[0]), reference.embed_query(QUESTIONS[0]), atol=1e-5)
    counts: list[int] = []
    in_pieces = reference.embed_documents(texts * 14, on_progress=counts.append)  # more than one piece of 4 batches
    assert len(counts) > 1 and sum(counts) == len(texts) * 14
    assert np.allclose(in_pieces, np.concatenate([theirs] * 14), atol=1e-5), "rows come back in input order"


def test_padding_bf16_batches_to_16_tokens_leaves_the_vectors_alone():
    embedder = Embedder(EmbedderSettings(precision="bfloat16", device="cpu"))
    embedder.warm_up()
    encoder = embedder.encoder
    assert encoder.pad_multiple == 16
    texts = [*PASSAGES, "A short one.", "word " * 400]
    assert {encoder.padded_length(n) for n in (1, 16, 17, 250, 256)} == {16, 32, 256}
    padded = embedder.embed_documents(texts)
    encoder.pad_multiple = 1
    plain = embedder.embed_documents(texts)
    assert np.min(np.sum(padded * plain, axis=1)) > 0.9999


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_precision_setting_is_honoured(precision):
    import torch

    embedder = Embedder(EmbedderSettings(precision=precision))
    assert embedder.precision == ""  # nothing loaded before first use
    embedder.warm_up()
    assert embedder.precision == precision and embedder.device == "cpu"
    assert embedder.encoder.words.dtype == getattr(torch, precision)
    assert embedder.embed_query("a question").dtype == np.float32  # vectors are float32 whatever the weights


def test_auto_precision_follows_the_hardware(monkeypatch):
    assert resolve_precision("auto", "cuda") == "bfloat16"
    assert resolve_precision("float32", "cuda") == "float32"
    monkeypatch.setattr("index.embedding.cpu_supports_fast_bf16", lambda: False)
    assert resolve_precision("auto", "cpu") == "float32"
    monkeypatch.setattr("index.embedding.cpu_supports_fast_bf16", lambda: True)
    assert resolve_precision("auto", "cpu") == "bfloat16"
    assert resolve_precision("bfloat16", "cpu") == "bfloat16"


def test_precision_and_batch_size_come_from_the_environment(tmp_path):
    from assistant.core import Assistant

    environ = {"ASSISTANT_EMBEDDING_PRECISION": "float32", "ASSISTANT_EMBEDDING_BATCH_SIZE": "7"}
    assistant = Assistant(Settings.from_env(environ, index_path=str(tmp_path / "index")))
    assert assistant.embedder.settings.precision == "float32"
    assert assistant.embedder.settings.batch_size == 7
    assistant.embedder.warm_up()
    assert assistant.embedder.precision == "float32"
    with pytest.raises(ValueError, match="precision"):
        Settings.from_env({"ASSISTANT_EMBEDDING_PRECISION": "float16"})
    with pytest.raises(ValueError, match="batch_size must be > 0"):
        EmbedderSettings(batch_size=0)
    with pytest.raises(ValueError, match="query_threads"):
        EmbedderSettings(query_threads=-1)


def test_batches_and_query_threads_are_honoured(float32_embedder, monkeypatch):
    import torch

    embedder = Embedder(EmbedderSettings(precision="float32", batch_size=7, query_threads=1))
    embedder.warm_up()
    model = embedder.encoder
    seen: list[tuple[int, int]] = []
    forward = model.forward

    def spy(ids, mask):
        seen.append((int(ids.shape[0]), torch.get_num_threads()))
        return forward(ids, mask)

    monkeypatch.setattr(model, "forward", spy)
    before = torch.get_num_threads()
    texts = [f"sentence number {n} " * (n % 5 + 1) for n in range(20)]
    vectors = embedder.embed_documents(texts)
    assert [size for size, _ in seen] == [7, 7, 6]
    assert np.allclose(vectors, float32_embedder.embed_documents(texts), atol=1e-5), "rows come back in input order"
    seen.clear()
    embedder.embed_query("one short question")
    assert seen == [(1, 1)], "a query runs on one thread"
    assert torch.get_num_threads() == before, "and the thread count is restored"


def test_a_few_long_sentences_use_every_thread_only_while_a_core_is_idle(float32_embedder, monkeypatch):
    import torch

    import index.embedding as embedding

    embedder = Embedder(EmbedderSettings(precision="float32", query_threads=1, spread_from_chars=100))
    embedder.warm_up()
    model = embedder.encoder
    seen: list[int] = []
    forward = model.forward

    def spy(ids, mask):
        seen.append(torch.get_num_threads())
        return forward(ids, mask)

    monkeypatch.setattr(model, "forward", spy)
    before = torch.get_num_threads()
    sentences = ["The committee met in Geneva on the third of May to settle the budget."] * 3  # 210 characters
    monkeypatch.setattr(embedding, "idle_cores", lambda: 1)
    spread = embedder.embed_documents(sentences)
    embedder.embed_query("one short question")
    monkeypatch.setattr(embedding, "idle_cores", lambda: 0)
    single = embedder.embed_documents(sentences)
    assert seen == [before, 1, 1], "long texts spread while a core is idle; a short query and a busy system do not"
    assert torch.get_num_threads() == before
    assert np.array_equal(spread, single), "the thread count does not change the vectors"
    with pytest.raises(ValueError, match="spread_from_chars"):
        EmbedderSettings(spread_from_chars=-1)


def test_idle_cores_reads_the_running_tasks():
    cores = idle_cores()
    assert 0 <= cores < len(os.sched_getaffinity(0)), "this process itself is running, so not every core is idle"


def test_help_imports_no_heavy_library():
    code = (
        "import sys, contextlib, io\n"
        "from assistant.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: main(['--help'])\n"
        "    except SystemExit: pass\n"
        "heavy = [m for m in ('torch', 'chromadb', 'sentence_transformers', 'transformers') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == ""
