"""Answer latency: `ask` (retrieval plus the extractive answer) with the model loaded, by collection size.

Each collection (kept in bench/.data/collections/, reused by later runs and by bench/scale.py) holds the 48 XQuAD
articles, chunked and embedded for real, plus generated documents of 100 chunks up to the wanted size. A generated
chunk is real text (sentences drawn at random from the SQuAD files) and its vector is the normalised mean of the
real embeddings of its sentences, so the store, HNSW and BM25 see realistic data without embedding 100,000 chunks
(hours on 2 cores). The questions are XQuAD questions, asked in a seeded random order.

    python bench/ask_latency.py                          # 1,000, 10,000 and 100,000 chunks
    python bench/ask_latency.py --sizes 10000 --questions 300
    python bench/ask_latency.py --sizes 100000 --within  # also asked within one chosen document
    python bench/ask_latency.py --sizes 1000000 --server  # through `chroma run` over the collection's folder
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import shutil
import sys
import time
from pathlib import Path

import common  # first: puts the repository on sys.path and sets the OpenMP wait policy before torch loads
import numpy as np

COLLECTION = "bench"
CHUNKS_PER_DOCUMENT = 100
WRITE_BATCH_DOCUMENTS = 10
CHUNK_CHARACTERS = 700
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
WITHIN_PASSES = {
    "within_article": "one document, the question's article",
    "within_generated": "one document of 100 chunks, not the question's",
}


def collection_folder(size: int) -> Path:
    return common.BENCH_DIR / "collections" / f"chunks-{size}"


def sentence_bank(embedder) -> tuple[list[str], np.ndarray]:
    """Every sentence of the SQuAD files with its real embedding (cached in bench/.data/sentences.npz)."""
    cache = common.BENCH_DIR / "sentences.npz"
    if cache.exists():
        with np.load(cache) as saved:
            return [str(s) for s in saved["sentences"]], saved["vectors"]
    sentences = []
    for path in (common.SQUAD20, common.XQUAD):
        documents, _ = common.squad_documents(path)
        sentences += [s for d in documents for s in _SENTENCE.split(d.text) if 20 <= len(s) <= 400]
    sentences = sorted(set(sentences))
    print(f"embedding {len(sentences)} sentences once for the generated chunks", file=sys.stderr, flush=True)
    vectors = embedder.embed_documents(sentences).astype(np.float32)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, sentences=np.asarray(sentences), vectors=vectors)
    return sentences, vectors


def generated_document(number: int, count: int, sentences: list[str], vectors: np.ndarray, rng: random.Random):
    """A document of `count` chunks, its chunks with exact offsets, and their vectors."""
    from index.identity import chunk_id, make_document
    from index.models import Chunk

    texts, rows = [], []
    for _ in range(count):
        picked: list[int] = []
        while sum(len(sentences[i]) + 1 for i in picked) < CHUNK_CHARACTERS:
            picked.append(rng.randrange(len(sentences)))
        texts.append(" ".join(sentences[i] for i in picked))
        mean = vectors[picked].mean(axis=0)
        rows.append(mean / np.linalg.norm(mean))
    document = make_document(f"generated/{number:06d}.txt", f"generated {number}", "\n\n".join(texts))
    chunks, offset = [], 0
    for ordinal, text in enumerate(texts):
        chunks.append(
            Chunk(chunk_id(document.id, text, ordinal), document.id, ordinal, offset, offset + len(text), text)
        )
        offset += len(text) + 2
    return document, chunks, np.stack(rows).astype(np.float32)


def ensure_collection(size: int, embedder, rebuild: bool = False) -> dict:
    """Build the collection of `size` chunks unless a complete one is there; returns its build record."""
    from assistant import Assistant, Settings
    from index.store import DocumentWrite

    folder = collection_folder(size)
    record_path = folder / "bench-collection.json"
    if record_path.exists() and not rebuild:
        return json.loads(record_path.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    sentences, vectors = sentence_bank(embedder)
    assistant = Assistant(Settings(index_path=str(folder), collection=COLLECTION), embedder=embedder)
    documents, _ = common.squad_documents(common.XQUAD)
    started = time.perf_counter()
    report = assistant.index_documents(documents)
    real_seconds = time.perf_counter() - started
    store, total = assistant.store, report.chunks_written
    rng = random.Random(size)
    writes, number = [], 0
    print(f"building {folder} ({size:,} chunks)", file=sys.stderr, flush=True)
    with store.writing():
        while total < size:
            started, block = time.perf_counter(), 0
            while total < size and block < max(1000, size // 10):
                batch = []  # 10 documents of 100 chunks per write, as the indexer writes its batches
                while total < size and len(batch) < WRITE_BATCH_DOCUMENTS:
                    keep = min(CHUNKS_PER_DOCUMENT, size - total)
                    batch.append(DocumentWrite(*generated_document(number, keep, sentences, vectors, rng)))
                    total += keep
                    block += keep
                    number += 1
                store.write_documents(batch, embedder.model_id)
            seconds = time.perf_counter() - started
            writes.append({"collection_chunks": total, "chunks_per_s": block / seconds, "load": common.load()})
            print(f"  {total:,} chunks ({block / seconds:.0f} chunks/s written)", file=sys.stderr, flush=True)
    record = {
        "size": size,
        "chunks": store.chunk_count(),
        "documents": len(store.documents()),
        "real_chunks": report.chunks_written,
        "real_indexing_s": real_seconds,
        "writes": writes,
        "built": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    record_path.write_text(json.dumps(record, indent=2))
    return record


class Stages:
    """Wraps the parts of `ask` to time each one, per question."""

    def __init__(self, assistant) -> None:
        import assistant.evidence as evidence
        from assistant.lexical import LexicalIndex
        from assistant.snapshot import IndexSnapshot

        self.watch = common.Stopwatch()
        self._restore: list = []
        timed = self._timed
        store, embedder = assistant.store, assistant.embedder
        self._patch(embedder, "embed_query", timed("embed query", embedder.embed_query))
        self._patch(embedder, "embed_documents", timed("embed sentences", embedder.embed_documents))
        self._patch(store, "query", timed("dense search (Chroma)", store.query))
        self._patch(store, "vectors_of", timed("dense search: chosen documents' vectors", store.vectors_of))
        self._patch(LexicalIndex, "search", timed("lexical search (BM25)", LexicalIndex.search))
        self._patch(evidence, "score_sentences", timed("sentence scoring", evidence.score_sentences))
        self._patch(store, "state", timed("index snapshot (generation)", store.state))
        text = IndexSnapshot.document_text
        self._patch(IndexSnapshot, "document_text", timed("quote check (document text)", text))

    def _timed(self, name: str, function):
        watch = self.watch

        def wrapper(*args, **kwargs):
            with watch.stage(name):
                return function(*args, **kwargs)

        return wrapper

    def _patch(self, owner, name: str, value) -> None:
        attributes = vars(owner)
        self._restore.append((owner, name, name in attributes, attributes.get(name)))
        setattr(owner, name, value)

    def undo(self) -> None:
        for owner, name, had, original in reversed(self._restore):
            if had:
                setattr(owner, name, original)
            else:
                delattr(owner, name)


def timed_asks(assistant, questions: list, sources_of=lambda question: None) -> dict:
    """p50/p95 of `ask` over the questions, each asked within the documents `sources_of(question)` names (None:
    all), with the time of each stage."""
    stages = Stages(assistant)
    latencies, per_stage, answered = [], [], 0
    load_before = common.load()
    for question in questions:
        sources = sources_of(question)
        stages.watch.seconds.clear()
        started = time.perf_counter()
        answer = assistant.ask(question.question, sources=sources)
        latencies.append(time.perf_counter() - started)
        per_stage.append(dict(stages.watch.seconds))
        answered += answer.answered
    stages.undo()
    names = sorted({name for row in per_stage for name in row})
    other = [lat - sum(row.values()) for lat, row in zip(latencies, per_stage, strict=True)]
    columns = {name: [row.get(name, 0.0) for row in per_stage] for name in names}
    columns["other (fusion, answer, citations)"] = other
    return {
        "questions": len(latencies),
        "answered": answered,
        "p50_ms": 1000 * common.percentile(latencies, 50),
        "p95_ms": 1000 * common.percentile(latencies, 95),
        "mean_ms": 1000 * float(np.mean(latencies)),
        "asks_per_s": len(latencies) / sum(latencies),
        "stages": {
            name: {"p50_ms": 1000 * common.percentile(values, 50), "mean_ms": 1000 * float(np.mean(values))}
            for name, values in columns.items()
        },
        "load": [load_before, common.load()],
    }


def measure(
    size: int,
    embedder,
    questions: list,
    warm: int = 5,
    within: bool = False,
    support: bool = False,
    port: int | None = None,
    time_rebuild: bool = True,
) -> dict:
    """Open the collection, time the lexical index (rebuilt and loaded), then ask the questions; with `within`,
    ask them again within one chosen document: the article the question was written from (it holds the answer),
    then a generated document of 100 chunks drawn at random (it does not)."""
    from assistant import Assistant, Settings
    from assistant.lexical_cache import LexicalCache

    folder = collection_folder(size)
    started = time.perf_counter()
    where = {"index_path": str(folder)} if port is None else {"chroma_host": "127.0.0.1", "chroma_port": port}
    settings = Settings(collection=COLLECTION, support_model=support, **where)  # type: ignore[arg-type]
    assistant = Assistant(settings, embedder=embedder)
    store = assistant.store
    open_seconds = time.perf_counter() - started
    started = time.perf_counter()
    if time_rebuild:
        LexicalCache(store, persist=False).current(store.state())
    rebuild_seconds = time.perf_counter() - started if time_rebuild else None
    LexicalCache(store).current(store.state())  # saves it when nothing is saved yet
    started = time.perf_counter()
    assistant.warm_up()  # loads the saved lexical index
    load_seconds = time.perf_counter() - started
    for question in questions[:warm]:
        assistant.ask(question.question)
        if within:
            assistant.ask(question.question, sources=[question.document_id])
    figures = timed_asks(assistant, questions[warm:])
    if within:
        figures["within_article"] = timed_asks(assistant, questions[warm:], lambda question: [question.document_id])
        generated = sorted(doc.id for doc in store.documents().values() if doc.source.startswith("generated/"))
        rng = random.Random(size)
        figures["within_generated"] = timed_asks(assistant, questions[warm:], lambda question: [rng.choice(generated)])
    figures.update(
        size=size,
        chunks=store.chunk_count(),
        documents=len(store.documents()),
        open_store_s=open_seconds,
        lexical_rebuild_s=rebuild_seconds,
        lexical_load_s=load_seconds,
        rss_mb=common.rss_mb(),
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="Figures: docs/benchmarks.md")
    parser.add_argument("--sizes", default="1000,10000,100000", help="collection sizes in chunks (comma-separated)")
    parser.add_argument("--questions", type=int, default=200, help="questions timed per size (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--support", action="store_true", help="answer with the support models on (assistant/support.py)"
    )
    parser.add_argument("--rebuild", action="store_true", help="build the collections again")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument(
        "--no-rebuild", action="store_true", help="do not time a rebuild of the lexical index (minutes at 1M chunks)"
    )
    parser.add_argument("--server", action="store_true", help="ask through `chroma run` over each collection's folder")
    parser.add_argument(
        "--within",
        action="store_true",
        help="also ask each question within one chosen document: its own article, then a generated one",
    )
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size]
    if not sizes or min(sizes) < 400 or args.questions <= 0:
        parser.error("sizes must be >= 400 chunks (the real articles) and --questions > 0")

    from assistant.settings import Settings
    from index.chroma_client import close_connections
    from index.embedding import Embedder

    print(f"machine {common.machine()}; load {common.load()}; busy {common.busy_processes()}", file=sys.stderr)
    embedder = Embedder(Settings.from_env().embedder_settings())
    embedder.warm_up()
    _, questions = common.squad_documents(common.XQUAD)
    asked = random.Random(args.seed).sample(questions, min(len(questions), args.questions + 5))
    result: dict = {"machine": common.machine(), "precision": embedder.precision, "sizes": []}
    for size in sizes:
        build = ensure_collection(size, embedder, args.rebuild)
        close_connections()  # the folder is served by `chroma run` next, with --server: no other client may open it
        with common.chroma_served(collection_folder(size)) if args.server else contextlib.nullcontext() as port:
            rebuild = not args.no_rebuild
            figures = measure(
                size, embedder, asked, within=args.within, support=args.support, port=port, time_rebuild=rebuild
            )
        figures["mode"] = "server" if args.server else "embedded"
        figures["build"] = build
        result["sizes"].append(figures)
        print(
            f"{size:>7,} chunks: ask p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms "
            f"(load {figures['load']})",
            file=sys.stderr,
            flush=True,
        )
    common.save_result("ask_latency", result)
    if args.json:
        common.print_json(result)
        return 0
    print(f"precision {result['precision']}; {args.questions} questions per size, model loaded, warm caches")
    for figures in result["sizes"]:
        rebuilt = "-" if figures["lexical_rebuild_s"] is None else f"{figures['lexical_rebuild_s']:.2f}"
        print(
            f"{figures['chunks']:>7,} chunks / {figures['documents']:,} documents ({figures['mode']}): ask p50 "
            f"{figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, {figures['asks_per_s']:.1f} asks/s; lexical "
            f"index rebuilt {rebuilt} s, loaded {figures['lexical_load_s']:.2f} s; "
            f"RSS {figures['rss_mb']:.0f} MB; load {figures['load']}"
        )
        _print_stages(figures)
        for key, what in WITHIN_PASSES.items():
            if key in figures:
                within = figures[key]
                print(
                    f"  asked within {what}: p50 {within['p50_ms']:.1f} ms, p95 {within['p95_ms']:.1f} ms, "
                    f"{within['asks_per_s']:.1f} asks/s; answered {within['answered']} of {within['questions']} "
                    f"(within all documents: {figures['answered']}); load {within['load']}"
                )
                _print_stages(within)
    return 0


def _print_stages(figures: dict) -> None:
    for name, stage in figures["stages"].items():
        print(f"    {name:40s} p50 {stage['p50_ms']:6.2f} ms  mean {stage['mean_ms']:6.2f} ms")


if __name__ == "__main__":
    sys.exit(main())
