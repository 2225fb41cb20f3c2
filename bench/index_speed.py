"""Indexing speed: this project's indexer against the LangChain recipe, on the same documents in the same run.

The recipe: RecursiveCharacterTextSplitter(1000, 150), HuggingFaceEmbeddings (MiniLM, float32, the packaged model
folder), langchain_chroma.Chroma.add_documents in batches of 1000. Ours: Assistant.index_documents with the
settings from the environment (ASSISTANT_*), precision auto (bf16 on a CPU with AMX/AVX-512 BF16). Both models
are loaded and warmed up before any timing; each round indexes into a fresh Chroma folder, opened before the
clock starts. Rounds alternate which system goes first, so drifting load hits both alike.

    python bench/index_speed.py                      # XQuAD articles + seeds/, 3 rounds
    python bench/index_speed.py --quality            # also recall@5 of bf16 vs float32 on the XQuAD questions
    python bench/index_speed.py --levers             # also embedding-only levers and Chroma batch sizes
    python bench/index_speed.py --squad ../shared/eval/squad20-dev-half/dev-v2.0.json --rounds 1
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import common  # first: puts the repository on sys.path and sets the OpenMP wait policy before torch loads
import numpy as np

RECIPE_CHUNK_SIZE, RECIPE_CHUNK_OVERLAP = 1000, 150


class TimedEmbedder:
    """Wraps an Embedder and adds the seconds spent in embed_documents to a stopwatch."""

    def __init__(self, inner, watch: common.Stopwatch) -> None:
        self._inner = inner
        self._watch = watch
        self.texts = 0

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    def embed_documents(self, texts, on_progress=None):
        self.texts += len(texts)
        with self._watch.stage("embed"):
            return self._inner.embed_documents(texts, on_progress)


def recipe_embeddings():
    """HuggingFaceEmbeddings on the packaged MiniLM folder, float32, warmed up."""
    from langchain_huggingface import HuggingFaceEmbeddings

    from index.embedding import packaged_model_path

    embeddings = HuggingFaceEmbeddings(model_name=str(packaged_model_path()))
    embeddings.embed_documents(["warm up the model", "and its first batch shapes"] * 4)
    return embeddings


def run_recipe(documents, embeddings, folder: str) -> dict:
    """Split, embed and store the documents the LangChain way; returns the timings."""
    from langchain_chroma import Chroma
    from langchain_core.documents import Document as LCDocument
    from langchain_core.embeddings import Embeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    watch = common.Stopwatch()

    class Timed(Embeddings):
        def embed_documents(self, texts):
            with watch.stage("embed"):
                return embeddings.embed_documents(texts)

        def embed_query(self, text):
            return embeddings.embed_query(text)

    store = Chroma(collection_name="recipe", embedding_function=Timed(), persist_directory=folder)
    started = time.perf_counter()
    with watch.stage("split"):
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=RECIPE_CHUNK_SIZE, chunk_overlap=RECIPE_CHUNK_OVERLAP, add_start_index=True
        )
        sources = [LCDocument(page_content=d.text, metadata={"document_id": d.id}) for d in documents]
        chunks = splitter.split_documents(sources)
    for first in range(0, len(chunks), 1000):
        store.add_documents(chunks[first : first + 1000])
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "chunks": len(chunks), "stages": watch.seconds, "store": store}


def run_ours(documents, embedder, folder: str) -> dict:
    """Index the documents with Assistant.index_documents; returns the timings and the assistant."""
    from assistant import Assistant, Settings

    watch = common.Stopwatch()
    timed = TimedEmbedder(embedder, watch)
    assistant = Assistant(Settings.from_env(index_path=folder, collection="bench", chroma_host=""), embedder=timed)
    store = assistant.store  # Chroma opened before the clock, as for the recipe
    write = store.write_documents

    def timed_write(*args, **kwargs):
        with watch.stage("write (background thread)"):
            return write(*args, **kwargs)

    store.write_documents = timed_write
    started = time.perf_counter()
    report = assistant.index_documents(documents)
    seconds = time.perf_counter() - started
    if report.failures:
        raise RuntimeError(f"indexing failed: {report.failures[0].reason}")
    return {
        "seconds": seconds,
        "chunks": report.chunks_written,
        "embedded": timed.texts,
        "stages": watch.seconds,
        "assistant": assistant,
    }


def compare(documents, embedder, embeddings, rounds: int) -> dict:
    """Index the same documents with both systems, alternating which goes first."""
    characters = sum(len(d.text) for d in documents)
    rows = []
    for number in range(rounds):
        order = ("recipe", "ours") if number % 2 == 0 else ("ours", "recipe")
        row: dict = {"round": number + 1}
        for system in order:
            with tempfile.TemporaryDirectory(prefix=f"bench-{system}-", ignore_cleanup_errors=True) as folder:
                load_before = common.load()
                if system == "recipe":
                    result = run_recipe(documents, embeddings, folder)
                else:
                    result = run_ours(documents, embedder, folder)
                result.pop("store", None)
                result.pop("assistant", None)
                result["chars_per_s"] = characters / result["seconds"]
                result["chunks_per_s"] = result["chunks"] / result["seconds"]
                result["load"] = [load_before, common.load()]
                row[system] = result
        row["ratio"] = row["ours"]["chars_per_s"] / row["recipe"]["chars_per_s"]
        rows.append(row)
        print(
            f"round {number + 1}: recipe {row['recipe']['chars_per_s']:,.0f} chars/s "
            f"({row['recipe']['chunks_per_s']:.1f} chunks/s, load {row['recipe']['load']}), "
            f"ours {row['ours']['chars_per_s']:,.0f} chars/s ({row['ours']['chunks_per_s']:.1f} chunks/s, "
            f"load {row['ours']['load']}), ratio {row['ratio']:.2f}",
            file=sys.stderr,
            flush=True,
        )
    return {"characters": characters, "documents": len(documents), "rounds": rows}


# --- retrieval quality ---------------------------------------------------------------------------------------


def recall_at(assistant, questions, k: int = 5) -> dict:
    """Share of answerable questions with a gold span inside a top-k chunk: hybrid and dense-only."""
    from assistant.evaluation.metrics import gold_rank

    hybrid = dense = 0
    answerable = [q for q in questions if q.answers]
    for question in answerable:
        gold = [(g.document_id, g.start, g.end) for g in question.answers]
        passages = assistant.retrieve(question.question, k=k)
        rank = gold_rank([(p.document_id, p.start, p.end) for p in passages], gold)
        hybrid += rank is not None and rank <= k
        hits = assistant.store.query(assistant.embedder.embed_query(question.question), k)
        rank = gold_rank([(s.chunk.document_id, s.chunk.start, s.chunk.end) for s, _ in hits], gold)
        dense += rank is not None and rank <= k
    return {"questions": len(answerable), "hybrid": hybrid / len(answerable), "dense": dense / len(answerable)}


def recipe_recall(store, questions, k: int = 5) -> float:
    from assistant.evaluation.metrics import gold_rank

    answerable = [q for q in questions if q.answers]
    hits = 0
    for question in answerable:
        found = store.similarity_search(question.question, k=k)
        spans = [
            (c.metadata["document_id"], c.metadata["start_index"], c.metadata["start_index"] + len(c.page_content))
            for c in found
        ]
        rank = gold_rank(spans, [(g.document_id, g.start, g.end) for g in question.answers])
        hits += rank is not None and rank <= k
    return hits / len(answerable)


def quality(documents, questions, embeddings, batch_size: int) -> dict:
    """Recall@5 of our index built and queried in float32 and in bf16 (and of the recipe, for reference)."""
    from index.embedding import Embedder, EmbedderSettings

    result: dict = {}
    for precision in ("float32", "bfloat16"):
        embedder = Embedder(EmbedderSettings(precision=precision, batch_size=batch_size))
        embedder.warm_up()
        embedder.embed_documents(["warm up"] * 16)
        with tempfile.TemporaryDirectory(prefix=f"bench-quality-{precision}-", ignore_cleanup_errors=True) as folder:
            run = run_ours(documents, embedder, folder)
            recall = recall_at(run["assistant"], questions)
        recall["index_chunks_per_s"] = run["chunks"] / run["seconds"]
        result[precision] = recall
        print(f"{precision}: recall@5 {recall}", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-quality-recipe-", ignore_cleanup_errors=True) as folder:
        run = run_recipe(documents, embeddings, folder)
        result["recipe_dense"] = recipe_recall(run["store"], questions)
    result["hybrid_difference"] = result["bfloat16"]["hybrid"] - result["float32"]["hybrid"]
    result["dense_difference"] = result["bfloat16"]["dense"] - result["float32"]["dense"]
    return result


# --- levers --------------------------------------------------------------------------------------------------


def embedding_levers(texts: list[str], repeats: int) -> list[dict]:
    """Embedding-only throughput by precision, batch size, threads and length sorting."""
    import torch

    from index.embedding import Embedder, EmbedderSettings

    models = {}
    for precision in ("float32", "bfloat16"):
        embedder = Embedder(EmbedderSettings(precision=precision))
        embedder.warm_up()
        embedder.embed_documents(texts[:64])
        models[precision] = embedder
    configs = [("float32", 32, 2, True)]
    configs += [("bfloat16", size, 2, True) for size in (16, 32, 64, 128)]
    configs += [("bfloat16", 32, 1, True), ("bfloat16", 32, 2, False)]
    default_threads = torch.get_num_threads()
    shuffled = random.Random(0).sample(texts, len(texts))
    rates: dict[tuple, list[float]] = {config: [] for config in configs}
    for _ in range(repeats):
        for config in configs:
            precision, size, threads, sort = config
            torch.set_num_threads(min(threads, default_threads))
            started = time.perf_counter()
            if sort:  # the encoder orders a call's texts by token count, then batches them
                models[precision].encoder.encode(texts, size)
            else:  # batches in document order, each padded to its longest text
                for first in range(0, len(shuffled), size):
                    models[precision].encoder.encode(shuffled[first : first + size], size)
            rates[config].append(len(texts) / (time.perf_counter() - started))
            torch.set_num_threads(default_threads)
    rows = []
    for (precision, size, threads, by_length), values in rates.items():
        rows.append(
            {
                "precision": precision,
                "batch_size": size,
                "threads": threads,
                "sorted_by_length": by_length,
                "chunks_per_s_median": common.median(values),
                "chunks_per_s_best": max(values),
                "load": common.load(),
            }
        )
        print(f"embedding lever {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def chroma_levers(vectors: np.ndarray, texts: list[str], total: int = 5000) -> list[dict]:
    """Chroma upsert throughput by batch size, on `total` chunks (real texts and vectors, repeated), with the text
    as the Chroma document (as the store keeps it, full-text indexed) and, at 1,000 per call, as a metadata value
    (as index formats 3 and before kept it)."""
    import chromadb
    from chromadb.config import Settings

    rows = []
    repeat = -(-total // len(texts))
    all_texts = (texts * repeat)[:total]
    all_vectors = np.concatenate([vectors] * repeat)[:total]
    layouts = [(size, "document") for size in (100, 500, 1000, 2500, 5000)] + [(1000, "metadata")]
    for size, text_in in layouts:
        with tempfile.TemporaryDirectory(prefix="bench-chroma-", ignore_cleanup_errors=True) as folder:
            client = chromadb.PersistentClient(path=folder, settings=Settings(anonymized_telemetry=False))
            size = min(size, client.get_max_batch_size())
            collection = client.get_or_create_collection(
                "bench", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
            started = time.perf_counter()
            for first in range(0, total, size):
                ids = [f"chunk-{i}" for i in range(first, min(total, first + size))]
                texts_now = all_texts[first : first + size]
                metadatas = [{"document_id": f"doc-{i // 40}", "start": i, "end": i + 800} for i in range(len(ids))]
                if text_in == "metadata":
                    metadatas = [dict(metadata, text=text) for metadata, text in zip(metadatas, texts_now, strict=True)]
                collection.upsert(
                    ids=ids,
                    embeddings=all_vectors[first : first + size],
                    documents=texts_now if text_in == "document" else None,
                    metadatas=metadatas,
                )
            seconds = time.perf_counter() - started
        rows.append({"upsert_batch": size, "text_in": text_in, "chunks_per_s": total / seconds, "load": common.load()})
        print(f"chroma lever {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="Figures: docs/benchmarks.md")
    parser.add_argument("--squad", action="append", type=Path, help=f"SQuAD file(s) to index (default {common.XQUAD})")
    parser.add_argument("--no-seeds", action="store_true", help="leave out the seeds/ folder")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of both systems (default 3)")
    parser.add_argument("--quality", action="store_true", help="also recall@5, bf16 against float32")
    parser.add_argument("--levers", action="store_true", help="also embedding and Chroma levers")
    parser.add_argument("--repeats", type=int, default=2, help="repeats of each embedding lever (default 2)")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    args = parser.parse_args(argv)
    if args.rounds <= 0:
        parser.error(f"--rounds must be > 0, got {args.rounds}")

    from assistant.settings import Settings
    from index.chunking import chunk_document
    from index.embedding import Embedder

    files = args.squad or [common.XQUAD]
    documents, questions = [], []
    for path in files:
        found, asked = common.squad_documents(path)
        documents += found
        questions += asked
    if not args.no_seeds:
        documents += common.seed_documents()
    settings = Settings.from_env()
    print(f"machine {common.machine()}; load {common.load()}; busy {common.busy_processes()}", file=sys.stderr)

    started = time.perf_counter()
    embedder = Embedder(settings.embedder_settings())
    embedder.warm_up()
    embedder.embed_documents(["warm up the model", "and its first batch shapes"] * 8)
    embeddings = recipe_embeddings()
    print(f"models loaded in {time.perf_counter() - started:.1f}s (not timed below)", file=sys.stderr)

    result: dict = {
        "machine": common.machine(),
        "files": [str(path) for path in files] + ([] if args.no_seeds else [str(common.SEEDS)]),
        "precision": embedder.precision,
        "batch_size": settings.embedding_batch_size,
        "chunking": {"size": settings.chunk_size, "overlap": settings.chunk_overlap},
    }
    result.update(compare(documents, embedder, embeddings, args.rounds))
    if args.quality:
        result["quality"] = quality(documents, questions, embeddings, settings.embedding_batch_size)
    if args.levers:
        texts = [chunk.text for d in documents for chunk in chunk_document(d, settings.chunking_settings())]
        sample = texts[:320]
        result["embedding_levers"] = embedding_levers(sample, args.repeats)
        result["chroma_levers"] = chroma_levers(embedder.embed_documents(sample), sample)
    common.save_result("index_speed", result)
    if args.json:
        common.print_json(result)
    else:
        print_summary(result)
    return 0


def print_summary(result: dict) -> None:
    rows = result["rounds"]
    ours = [row["ours"] for row in rows]
    recipe = [row["recipe"] for row in rows]
    print(f"documents: {result['documents']}, characters: {result['characters']:,}, precision {result['precision']}")
    for name, runs in (("LangChain recipe", recipe), ("ours", ours)):
        chars = common.median([r["chars_per_s"] for r in runs])
        chunks = common.median([r["chunks_per_s"] for r in runs])
        stages = {key: round(common.median([r["stages"].get(key, 0.0) for r in runs]), 2) for key in runs[0]["stages"]}
        print(
            f"{name:17s} {chars:10,.0f} chars/s {chunks:7.1f} chunks/s ({runs[0]['chunks']} chunks, "
            f"median {common.median([r['seconds'] for r in runs]):.1f}s; stages {stages})"
        )
    ratios = [row["ratio"] for row in rows]
    print(f"ratio ours/recipe (chars/s): median {common.median(ratios):.2f}, rounds {[round(r, 2) for r in ratios]}")
    loads = [load for row in rows for system in ("ours", "recipe") for load in row[system]["load"]]
    print(f"load average during the rounds: {min(loads)} to {max(loads)} (2 cores)")
    if "quality" in result:
        q = result["quality"]
        print(
            f"recall@5 on {q['float32']['questions']} questions: hybrid float32 {q['float32']['hybrid']:.4f} "
            f"bf16 {q['bfloat16']['hybrid']:.4f} (diff {q['hybrid_difference']:+.4f}); dense float32 "
            f"{q['float32']['dense']:.4f} bf16 {q['bfloat16']['dense']:.4f} (diff {q['dense_difference']:+.4f}); "
            f"recipe dense {q['recipe_dense']:.4f}"
        )
    for row in result.get("embedding_levers", []):
        print(
            f"embed {row['precision']:8s} batch {row['batch_size']:3d} threads {row['threads']} "
            f"sorted {row['sorted_by_length']!s:5s}: {row['chunks_per_s_median']:6.1f} chunks/s "
            f"(best {row['chunks_per_s_best']:.1f}, load {row['load']})"
        )
    for row in result.get("chroma_levers", []):
        print(
            f"chroma upsert batch {row['upsert_batch']:5d}, text as {row.get('text_in', 'document'):8s}: "
            f"{row['chunks_per_s']:7.0f} chunks/s (load {row['load']})"
        )


if __name__ == "__main__":
    sys.exit(main())
