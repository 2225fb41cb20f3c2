"""Scale: index size on disk and resident memory at 10,000 and 100,000 chunks.

Uses the collections bench/ask_latency.py builds (and builds them when missing: real XQuAD articles plus
generated documents whose vectors are means of real sentence embeddings). Memory is measured in a fresh process
per size, step by step: after the imports, the model, opening Chroma, the lexical index, and 50 answers.

    python bench/scale.py [--sizes 10000,100000] [--json]
    python bench/scale.py --sizes 1000000 --server --runs 2   # through `chroma run`: local lexical cache cold, warm
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import subprocess
import sys
import time
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


def child(size: int, launched: float, port: int | None) -> dict:
    """Run in a fresh process: resident memory after each step of opening and using the collection, and the
    seconds from the process's launch to the end of each step (on a server at `port`, when given)."""
    from ask_latency import COLLECTION, collection_folder

    memory, seconds = {"python and numpy": common.rss_mb()}, {}

    def step(name: str) -> None:
        memory[name], seconds[name] = common.rss_mb(), round(time.time() - launched, 2)

    import torch  # noqa: F401 - measured as a step

    from assistant import Assistant, Settings

    step("imports (assistant, torch)")
    where = {"index_path": str(collection_folder(size))} if port is None else {"chroma_port": port}
    if port is not None:
        where["chroma_host"] = "127.0.0.1"
    assistant = Assistant(Settings.from_env(collection=COLLECTION, **where))
    assistant.embedder.warm_up()
    step("model loaded")
    store = assistant.store
    store.chunk_count()
    step("Chroma opened")
    assistant.snapshot()
    step("lexical index loaded")
    _, questions = common.squad_documents(common.XQUAD)
    asked = random.Random(1).sample(questions, 50)
    assistant.ask(asked[0].question)
    step("first answer")
    for question in asked[1:]:
        assistant.ask(question.question)
    step("after 50 answers")
    return {
        "mode": "embedded" if port is None else "server",
        "seconds_since_launch": seconds,
        "size": size,
        "chunks": store.chunk_count(),
        "documents": len(store.documents()),
        "rss_mb": {name: round(value) for name, value in memory.items()},
        "peak_rss_mb": round(common.peak_rss_mb()),
        "rss_parts_mb_after_50_answers": common.rss_parts_mb(),
        "precision": assistant.embedder.precision,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="Figures: docs/benchmarks.md")
    parser.add_argument("--sizes", default="10000,100000", help="collection sizes in chunks (comma-separated)")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument("--server", action="store_true", help="through `chroma run` over the collection's folder")
    parser.add_argument("--runs", type=int, default=1, help="fresh processes per size, one after the other")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--launched", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.launched, args.port)))
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
        with common.chroma_served(collection_folder(size)) if args.server else contextlib.nullcontext() as port:
            for run in range(args.runs):
                load_before = common.load()
                command = [sys.executable, __file__, "--child", str(size), "--launched", str(time.time())]
                command += ["--port", str(port)] if port else []
                output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                row = json.loads(output.strip().splitlines()[-1])
                row["disk_mb"] = disk_usage(collection_folder(size))
                row["load"] = [load_before, common.load()]
                row["run"] = run + 1
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
        print(f"    resident after 50 answers, by kind (MB): {row['rss_parts_mb_after_50_answers']}")
        print(f"    {row['mode']}, run {row['run']}: seconds since launch {row['seconds_since_launch']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
