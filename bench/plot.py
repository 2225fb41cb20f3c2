"""Plot latency and throughput against collection size from the saved bench results (docs/benchmarks.png).

Reads bench/.data/results/ask_latency.json (and index_speed.json when there): run bench/ask_latency.py first.

    python bench/plot.py [--out docs/benchmarks.png]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import common  # first: puts the repository on sys.path and sets the OpenMP wait policy before torch loads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="Figures: docs/benchmarks.md")
    parser.add_argument("--out", type=Path, default=common.ROOT / "docs" / "benchmarks.png")
    args = parser.parse_args(argv)
    results = common.BENCH_DIR / "results"
    if not (results / "ask_latency.json").exists():
        parser.error(f"no {results / 'ask_latency.json'}: run bench/ask_latency.py first")
    ask = json.loads((results / "ask_latency.json").read_text())
    speed = json.loads((results / "index_speed.json").read_text()) if (results / "index_speed.json").exists() else None

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(ask["sizes"], key=lambda row: row["chunks"])
    chunks = [row["chunks"] for row in sizes]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(chunks, [row["p50_ms"] for row in sizes], marker="o", color="tab:blue", label="ask p50")
    left.plot(chunks, [row["p95_ms"] for row in sizes], marker="o", color="tab:orange", label="ask p95")
    proposed = [row.get("with_proposed_changes") for row in sizes]
    if all(proposed):
        label = "with the proposed core/store changes"
        left.plot(chunks, [p["p50_ms"] for p in proposed], "--o", color="tab:blue", label=f"p50 {label}")
        left.plot(chunks, [p["p95_ms"] for p in proposed], "--o", color="tab:orange", label=f"p95 {label}")
    for name in ("embed query", "dense search (Chroma)", "embed sentences"):
        if name in sizes[0]["stages"]:
            values = [row["stages"][name]["p50_ms"] for row in sizes]
            left.plot(chunks, values, marker=".", linestyle=":", linewidth=1, label=f"{name} p50")
    left.axhline(50, color="grey", linestyle="--", linewidth=0.8)
    left.axhline(100, color="grey", linestyle="--", linewidth=0.8)
    left.set_xscale("log")
    left.set_xlabel("collection size (chunks)")
    left.set_ylabel("milliseconds")
    left.set_title("ask latency, model loaded (targets 50 / 100 ms)")
    left.legend(fontsize=8)

    asks = [row["asks_per_s"] for row in sizes]
    right.plot(chunks, asks, marker="o", color="tab:green", label="asks/s (one at a time)")
    if all(proposed):
        label = "asks/s with the proposed changes"
        right.plot(chunks, [p["asks_per_s"] for p in proposed], "--o", color="tab:green", label=label)
    right.set_xscale("log")
    right.set_xlabel("collection size (chunks)")
    right.set_ylabel("asks per second", color="tab:green")
    right.set_ylim(0, max(asks) * 1.15)  # from zero: a 7% change should look like one
    writes = sizes[-1]["build"].get("writes", [])  # the largest collection's build
    if writes:
        other = right.twinx()
        label = "chunks/s written to the store (pre-embedded)"
        at = [w["collection_chunks"] for w in writes]
        other.plot(at, [w["chunks_per_s"] for w in writes], color="tab:purple", marker=".", label=label)
        if speed:
            ours = common.median([r["ours"]["chunks_per_s"] for r in speed["rounds"]])
            recipe = common.median([r["recipe"]["chunks_per_s"] for r in speed["rounds"]])
            label = f"indexing with embedding, empty store: ours {ours:.0f}/s"
            other.axhline(ours, color="tab:blue", linestyle="--", linewidth=1, label=label)
            label = f"the same, LangChain recipe {recipe:.0f}/s"
            other.axhline(recipe, color="tab:red", linestyle="--", linewidth=1, label=label)
        other.set_ylabel("chunks per second", color="tab:purple")
        other.set_yscale("log")
        other.legend(fontsize=8, loc="lower left")
    right.set_title("throughput against collection size")
    right.legend(fontsize=8, loc="upper right")
    machine = ask["machine"]
    figure.suptitle(f"{machine['cpu']}, {machine['cores']} cores, precision {ask['precision']}", fontsize=9)
    figure.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
