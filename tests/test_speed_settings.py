"""The speed settings keep results the same: bf16 against float32, the built-in encoder against
sentence-transformers, the incremental and saved BM25 index against a fresh one; and each setting is honoured."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.lexical import LexicalIndex
from assistant.lexical_cache import LexicalCache
from assistant.lexical_files import load, save
from assistant.settings import Settings
from index.embedding import Embedder, EmbedderSettings, cpu_supports_fast_bf16, resolve_precision
from index.identity import make_document
from index.models import Chunk
from index.store import StoredChunk

ROOT = Path(__file__).resolve().parents[1]

PASSAGES = [
    "The Eiffel Tower in Paris was completed in 1889 for the World's Fair and is 330 metres tall.",
    "Photosynthesis lets plants turn sunlight, water and carbon dioxide into glucose and oxygen.",
    "The Great Barrier Reef off Queensland is the largest coral reef system on Earth.",
    "Marie Curie won Nobel Prizes in both physics and chemistry for her research on radioactivity.",
    "The Amazon river carries more water to the sea than any other river in the world.",
    "A violin has four strings tuned in fifths and is played with a bow strung with horsehair.",
    "Mount Everest, on the border of Nepal and China, rises 8,849 metres above sea level.",
    "Bread rises because yeast ferments sugars in the dough and releases carbon dioxide gas.",
    "The Apollo 11 mission landed the first people on the Moon in July 1969.",
    "Honey bees communicate the direction of flowers to their hive mates with a waggle dance.",
    "The Rosetta Stone, found in 1799, helped scholars decipher Egyptian hieroglyphs.",
    "Chess players open with moves such as the Sicilian Defence or the Queen's Gambit.",
    "Penicillin, discovered by Alexander Fleming in 1928, was the first widely used antibiotic.",
    "The Sahara is the largest hot desert, covering much of North Africa.",
    "Tokyo's Shinkansen bullet trains have run since 1964 and reach speeds of 320 km/h.",
    "Volcanoes erupt when magma from inside the Earth rises through the crust to the surface.",
]
QUESTIONS = [
    "How tall is the Eiffel Tower?",
    "What do plants produce from sunlight?",
    "Where is the largest coral reef?",
    "Who won Nobel Prizes in physics and chemistry?",
    "Which river carries the most water?",
    "How many strings does a violin have?",
    "What is the height of Everest?",
    "Why does bread dough rise?",
    "When did people first land on the Moon?",
    "How do bees tell others where flowers are?",
    "What helped decipher hieroglyphs?",
    "Which chess openings are common?",
    "Who discovered penicillin?",
    "What is the biggest hot desert?",
    "How fast are Japanese bullet trains?",
    "What makes a volcano erupt?",
]
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


def test_padding_bf16_batches_to_16_tokens_leaves_the_vectors_alone():
    embedder = Embedder(EmbedderSettings(precision="bfloat16", device="cpu"))
    embedder.warm_up()
    encoder = embedder._model
    assert encoder.pad_multiple == 16
    texts = [*PASSAGES, "A short one.", "word " * 400]
    assert {encoder._padded_length(n) for n in (1, 16, 17, 250, 256)} == {16, 32, 256}
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
    assert embedder._model.words.dtype == getattr(torch, precision)
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
    model = embedder._model
    seen: list[tuple[int, int]] = []
    forward = model._forward

    def spy(ids, mask):
        seen.append((int(ids.shape[0]), torch.get_num_threads()))
        return forward(ids, mask)

    monkeypatch.setattr(model, "_forward", spy)
    before = torch.get_num_threads()
    texts = [f"sentence number {n} " * (n % 5 + 1) for n in range(20)]
    vectors = embedder.embed_documents(texts)
    assert [size for size, _ in seen] == [7, 7, 6]
    assert np.allclose(vectors, float32_embedder.embed_documents(texts), atol=1e-5), "rows come back in input order"
    seen.clear()
    embedder.embed_query("one short question")
    assert seen == [(1, 1)], "a query runs on one thread"
    assert torch.get_num_threads() == before, "and the thread count is restored"


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


# --- BM25 ----------------------------------------------------------------------------------------------------


def stored_chunks(texts: list[str], name: str) -> list[StoredChunk]:
    document = make_document(f"/docs/{name}.txt", name, " ".join(texts))
    chunks, offset = [], 0
    for ordinal, text in enumerate(texts):
        chunk = Chunk(f"{name}:{ordinal}", document.id, ordinal, offset, offset + len(text), text)
        chunks.append(StoredChunk(chunk, document.source, name, document.sha256))
        offset += len(text) + 1
    return chunks


def by_document(chunks: list[StoredChunk]) -> dict[str, list[StoredChunk]]:
    grouped: dict[str, list[StoredChunk]] = {}
    for stored in chunks:
        grouped.setdefault(stored.chunk.document_id, []).append(stored)
    return grouped


def results(index: LexicalIndex, question: str) -> list[tuple[str, float]]:
    return [(stored.chunk.id, round(score, 4)) for stored, score in index.search(question, 5)]


def test_bm25_scores_equal_bm25s():
    import bm25s

    from assistant.text import tokens

    chunks = stored_chunks(PASSAGES, "facts")
    index = LexicalIndex.build(chunks)
    reference = bm25s.BM25()
    reference.index([tokens(stored.chunk.text) or [""] for stored in chunks], show_progress=False)
    for question in QUESTIONS:
        words = [word for word in tokens(question) if index.vocabulary.get(word) is not None]
        expected = np.asarray(reference.get_scores(words))
        for stored, score in index.search(question, len(PASSAGES)):
            assert score == pytest.approx(expected[stored.chunk.ordinal], rel=1e-4)
        assert len(index.search(question, len(PASSAGES))) == int(np.sum(expected > 0))


def test_identifiers_are_found_by_their_parts_and_whole():
    from assistant.text import tokens

    assert tokens("Set UPLOAD_SIZE_LIMIT now") == ["set", "upload_size_limit", "upload", "size", "limit", "now"]
    chunks = stored_chunks(
        ["Set `UPLOAD_SIZE_LIMIT` in the config file.", "Uploads are listed on the dashboard page."], "manual"
    )
    index = LexicalIndex.build(chunks)
    assert index.search("upload size limit", 2)[0][0].chunk.text.startswith("Set `UPLOAD_SIZE_LIMIT`")
    assert index.search("UPLOAD_SIZE_LIMIT", 2)[0][0].chunk.text.startswith("Set `UPLOAD_SIZE_LIMIT`")


def test_bm25_updates_and_saved_copies_equal_a_fresh_build(tmp_path):
    documents = by_document(
        [chunk for n in range(8) for chunk in stored_chunks(PASSAGES[n * 2 : n * 2 + 2] + [f"appendix {n}"], f"d{n}")]
    )
    hashes = {doc_id: chunks[0].document_sha256 for doc_id, chunks in documents.items()}
    ids = sorted(documents)
    index = LexicalIndex()
    for step in range(12):  # documents come, go and come back, as in a collection that is edited
        wanted = {doc_id: hashes[doc_id] for doc_id in ids[step % 3 :: 2]}
        index = index.updated(wanted, lambda names: [c for name in sorted(names) for c in documents[name]])
        fresh = LexicalIndex.build([c for doc_id in sorted(wanted) for c in documents[doc_id]])
        assert index.count == fresh.count
        for question in QUESTIONS:
            assert sorted(results(index, question)) == sorted(results(fresh, question)), (step, question)
        save(index, tmp_path / "lexical")
        loaded = load(tmp_path / "lexical")
        assert loaded is not None and loaded.documents == index.documents
        for question in QUESTIONS:
            assert results(loaded, question) == results(index, question)
    assert len({p.name for p in (tmp_path / "lexical").glob("segment-*.npz")}) == len(index.segments)


def test_a_saved_index_with_an_updated_document_finds_its_current_chunks(tmp_path):
    def version(texts: list[str]) -> list[StoredChunk]:
        chunks = stored_chunks(texts, "notes")
        return [replace(stored, gap_before=" " if stored.chunk.ordinal else "") for stored in chunks]

    old, new = version(PASSAGES[:3]), version(PASSAGES[3:5])
    other = version(PASSAGES[6:16])  # enough live chunks that the update is not compacted away
    other = [replace(s, chunk=replace(s.chunk, document_id="other")) for s in other]
    index = LexicalIndex.build(old + other)
    index = index.updated(
        {"other": other[0].document_sha256, new[0].chunk.document_id: new[0].document_sha256}, lambda names: new
    )
    assert len(index.segments) == 2  # the old version's rows stay, dead, in the first segment
    save(index, tmp_path / "lexical")
    loaded = load(tmp_path / "lexical")
    assert loaded is not None
    assert loaded.document_text(new[0].chunk.document_id) == " ".join(PASSAGES[3:5])
    emptied = loaded.updated({"other": other[0].document_sha256}, lambda names: [])
    assert emptied.count == len(other)
    assert not emptied.search("Marie Curie Nobel", 5) and not emptied.search("Eiffel Tower", 5)
    assert emptied.search("Everest metres", 5)


def test_lexical_cache_follows_the_store_and_is_reused_by_a_new_process(make_assistant, fake_embedder, tmp_path):
    assistant = make_assistant(fake_embedder)
    first = [make_document(f"/docs/{n}.txt", f"doc {n}", PASSAGES[n]) for n in range(4)]
    assistant.index_documents(first)
    assert "Eiffel" in assistant.snapshot().lexical.search("Eiffel Tower height", 1)[0][0].chunk.text
    assistant.index_documents([make_document("/docs/new.txt", "new", "Zebras have black and white stripes.")])
    assert "Zebras" in assistant.snapshot().lexical.search("zebra stripes", 1)[0][0].chunk.text
    assistant.remove(first[0].id)
    assert not assistant.snapshot().lexical.search("Eiffel Tower", 5)
    cache = LexicalCache(assistant.store)
    assert cache.folder.is_dir() and (cache.folder / "state.json").exists()

    def no_reading(*args, **kwargs):
        raise AssertionError("the saved index should have been used")

    assistant.store.iter_chunks = no_reading  # a new cache on an unchanged store reads no chunk
    assert "Zebras" in cache.current(assistant.store.state()).search("zebra stripes", 1)[0][0].chunk.text
    assert not cache.current(assistant.store.state()).search("Eiffel Tower", 5)
