"""Scale: index size on disk and resident memory at 10,000 and 100,000 chunks.

Uses the collections bench/ask_latency.py builds (and builds them when missing: real XQuAD articles plus
generated documents whose vectors are means of real sentence embeddings). Memory is measured in a fresh process
per size, step by step: after the imports, the model, opening Chroma, the lexical index, and 50 answers.

    python bench/scale.py [--sizes 10000,100000] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

import common  # first: puts the repository on sys.path and sets the OpenMP wait policy before torch loads


def disk_usage(folder: Path) -> dict[str, float]:
    """MB on disk by part: Chroma's SQLite file, its vector segments, the saved lexical index, the rest."""
    parts = {"chroma sqlite": 0.0, "chroma vector segments": 0.0, "lexical index": 0.0, "other": 0.0}
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        size = path.stat().st_blocks * 512 / 1e6  # allocated, as du counts
        relative = path.relative_to(folder).parts
        if relative[0].startswith("chroma.sqlite3"):
            parts["chroma sqlite"] += size
        elif relative[0] == "assistant-lexical":
            parts["lexical index"] += size
        elif len(relative) > 1:
            parts["chroma vector segments"] += size
        else:
            parts["other"] += size
    parts["total"] = sum(parts.values())
    return {name: round(value, 1) for name, value in parts.items()}


def child(size: int) -> dict:
    """Run in a fresh process: resident memory after each step of opening and using the collection."""
    from ask_latency import COLLECTION, collection_folder

    memory = {"python and numpy": common.rss_mb()}
    import torch  # noqa: F401 - measured as a step

    from assistant import Assistant, Settings

    memory["imports (assistant, torch)"] = common.rss_mb()
    assistant = Assistant(Settings.from_env(index_path=str(collection_folder(size)), collection=COLLECTION))
    assistant.embedder.warm_up()
    memory["model loaded"] = common.rss_mb()
    store = assistant.store
    store.chunk_count()
    memory["Chroma opened"] = common.rss_mb()
    assistant.snapshot()
    memory["lexical index loaded"] = common.rss_mb()
    _, questions = common.squad_documents(common.XQUAD)
    for question in random.Random(1).sample(questions, 50):
        assistant.ask(question.question)
    memory["after 50 answers"] = common.rss_mb()
    return {
        "size": size,
        "chunks": store.chunk_count(),
        "documents": len(store.documents()),
        "rss_mb": {name: round(value) for name, value in memory.items()},
        "peak_rss_mb": round(common.peak_rss_mb()),
        "precision": assistant.embedder.precision,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="Figures: docs/benchmarks.md")
    parser.add_argument("--sizes", default="10000,100000", help="collection sizes in chunks (comma-separated)")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    sizes = [int(size) for size in args.sizes.split(",") if size]
    from ask_latency import collection_folder, ensure_collection

    missing = [size for size in sizes if not (collection_folder(size) / "bench-collection.json").exists()]
    if missing:
        from assistant.settings import Settings
        from index.embedding import Embedder

        embedder = Embedder(Settings.from_env().embedder_settings())
        for size in missing:
            ensure_collection(size, embedder)
    rows = []
    for size in sizes:
        load_before = common.load()
        output = subprocess.run(
            [sys.executable, __file__, "--child", str(size)], capture_output=True, text=True, check=True
        ).stdout
        row = json.loads(output.strip().splitlines()[-1])
        row["disk_mb"] = disk_usage(collection_folder(size))
        row["load"] = [load_before, common.load()]
        rows.append(row)
    result = {"machine": common.machine(), "sizes": rows}
    common.save_result("scale", result)
    if args.json:
        common.print_json(result)
        return 0
    for row in rows:
        print(f"{row['chunks']:,} chunks in {row['documents']:,} documents (precision {row['precision']}):")
        print(f"    disk MB: {row['disk_mb']}")
        print(f"    resident MB: {row['rss_mb']}; peak {row['peak_rss_mb']} MB; load {row['load']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
