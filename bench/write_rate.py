"""Write rate: chunks per second written to the store into an empty collection and into the collection of a given
size, one after the other under the same load (pre-embedded chunks, 10 documents of 100 chunks per write, as the
indexer writes its batches). What is written into an existing collection is removed afterwards.

    python bench/write_rate.py --size 1000000 [--writes 10] [--empty-writes 100] [--calls] [--sync-threshold N]

`--empty-writes 100` measures the empty side over its first 100,000 chunks (the rate at 0-100k), not 10,000.

`--calls` also times each kind of Chroma call (collection and method) of the writes into the existing collection.

`--sync-threshold N` writes into the existing collection with Chroma's HNSW `sync_threshold` set to N (records between
two saves of its vector index; Chroma's default is 1,000), and sets the collection's value back afterwards.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import common  # first: puts the repository on sys.path and sets the OpenMP wait policy before torch loads


def timed_writes(folder: Path, writes: int, embedder, first_number: int) -> dict:
    """Write `writes` batches into the collection in `folder`; returns the rate, then removes what it wrote."""
    from ask_latency import COLLECTION, WRITE_BATCH_DOCUMENTS, generated_document, sentence_bank

    from assistant import Assistant, Settings
    from index.store import DocumentWrite

    sentences, vectors = sentence_bank(embedder)
    store = Assistant(Settings(index_path=str(folder), collection=COLLECTION), embedder=embedder).store
    before, rng, number = store.chunk_count(), random.Random(first_number), first_number
    batches = []
    for _ in range(writes):
        numbers = range(number, number + WRITE_BATCH_DOCUMENTS)
        batches.append([DocumentWrite(*generated_document(n, 100, sentences, vectors, rng)) for n in numbers])
        number += WRITE_BATCH_DOCUMENTS
    load_before, started = common.load(), time.perf_counter()
    with store.writing():
        for batch in batches:
            store.write_documents(batch, embedder.model_id)
    seconds = time.perf_counter() - started
    written = sum(len(write.chunks) for batch in batches for write in batch)
    store.remove_documents([write.document.id for batch in batches for write in batch])
    return {
        "collection_chunks": before,
        "written": written,
        "chunks_per_s": written / seconds,
        "load": [load_before, common.load()],
    }


@contextlib.contextmanager
def hnsw_sync_threshold(folder: Path, threshold: int | None) -> Iterator[None]:
    """The chunk collection in `folder` saves its vector index every `threshold` records meanwhile."""
    if threshold is None:
        yield
        return
    import chromadb
    from ask_latency import COLLECTION
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=str(folder), settings=Settings(anonymized_telemetry=False))  # as the store
    collection = client.get_collection(COLLECTION)
    before = collection.configuration["hnsw"]["sync_threshold"]
    collection.modify(configuration={"hnsw": {"sync_threshold": threshold}})
    try:
        yield
    finally:
        collection.modify(configuration={"hnsw": {"sync_threshold": before}})


@contextlib.contextmanager
def timed_chroma_calls() -> Iterator[dict[str, list[float]]]:
    """Seconds of every Chroma collection call made meanwhile, by "collection.method"."""
    from chromadb.api.models.Collection import Collection

    seconds: dict[str, list[float]] = collections.defaultdict(list)
    originals = {name: getattr(Collection, name) for name in ("upsert", "get", "delete", "modify", "count")}

    def timed(name: str, original: Any) -> Any:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                seconds[f"{self.name}.{name}"].append(time.perf_counter() - started)

        return call

    for name, original in originals.items():
        setattr(Collection, name, timed(name, original))
    try:
        yield seconds
    finally:
        for name, original in originals.items():
            setattr(Collection, name, original)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="Figures: docs/benchmarks.md")
    parser.add_argument("--size", type=int, default=100000, help="the collection of bench/ask_latency.py to write to")
    parser.add_argument("--writes", type=int, default=10, help="writes of 1,000 chunks each (default 10)")
    parser.add_argument("--calls", action="store_true", help="time each kind of Chroma call of the second writes")
    parser.add_argument("--empty-writes", type=int, help="writes into the empty collection (default: --writes)")
    parser.add_argument("--sync-threshold", type=int, help="Chroma's HNSW sync_threshold for the second writes")
    args = parser.parse_args(argv)
    from ask_latency import collection_folder, ensure_collection

    from assistant.settings import Settings
    from index.embedding import Embedder

    embedder = Embedder(Settings.from_env().embedder_settings())
    ensure_collection(args.size, embedder)
    empty = Path(tempfile.mkdtemp(prefix="write-rate-"))
    try:
        rows = [timed_writes(empty, args.empty_writes or args.writes, embedder, 5_000_000)]
        folder = collection_folder(args.size)
        with hnsw_sync_threshold(folder, args.sync_threshold):
            with timed_chroma_calls() if args.calls else contextlib.nullcontext() as calls:
                rows.append(timed_writes(folder, args.writes, embedder, 6_000_000))
    finally:
        shutil.rmtree(empty, ignore_errors=True)
    ratio = rows[1]["chunks_per_s"] / rows[0]["chunks_per_s"]
    result = {"machine": common.machine(), "writes": rows, "ratio": ratio, "sync_threshold": args.sync_threshold}
    common.save_result("write_rate", result)
    for row in rows:
        into = f"{row['collection_chunks']:,}-{row['collection_chunks'] + row['written']:,} chunks"
        print(f"{into:>24}: {row['chunks_per_s']:.0f} chunks/s (load {row['load']})")
    print(f"ratio {result['ratio']:.2f}")
    for name, spent in sorted((calls or {}).items(), key=lambda item: -sum(item[1])):
        print(f"    {name:28} {len(spent):4} calls, {sum(spent):7.2f} s, {1000 * sum(spent) / len(spent):8.1f} ms each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
