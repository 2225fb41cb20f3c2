"""Start-up: `assistant --help`, and a cold `assistant ask` on seeds/ with where its time goes.

"Cold" is a new process (the operating system's file cache stays warm: dropping it needs root). The breakdown
runs the same steps as `assistant ask` in a fresh interpreter, timing each: imports (the project, torch, the
tokenizer, Chroma), model load, opening Chroma, the lexical index, the first answer and a second one.

    python bench/startup.py [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

import common  # first: puts the repository on sys.path and sets the OpenMP wait policy before torch loads

QUESTION = "Where did the NATO foreign ministers meet?"
PROBE = r"""
import json, sys, time
marks = [("start", time.perf_counter())]
def mark(name):
    marks.append((name, time.perf_counter()))
from assistant.cli import build_parser, settings_from
from assistant.runtime import prefer_passive_openmp
prefer_passive_openmp()
mark("import the CLI")
args = build_parser().parse_args(sys.argv[1:])
from assistant.core import Assistant
mark("import the assistant (and Chroma's client)")
import torch
mark("import torch")
import tokenizers, safetensors
mark("import tokenizers, safetensors")
import chromadb
mark("import chromadb (rest)")
assistant = Assistant(settings_from(args))
assistant.embedder.warm_up()
mark("load the model")
assistant.store.state()
mark("open Chroma")
assistant.snapshot()
mark("lexical index (load or build)")
answer = assistant.ask(args.question)
mark("first answer")
assistant.ask(args.question)
mark("second answer")
steps = {name: round(t - marks[i][1], 4) for i, (name, t) in enumerate(marks[1:])}
print(json.dumps({"steps": steps, "answered": answer.answered, "text": answer.text}))
"""


def command() -> list[str]:
    found = shutil.which("assistant", path=os.path.dirname(sys.executable))
    return [found] if found else [sys.executable, "-m", "assistant.cli"]


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=common.ROOT)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr.strip()[-500:]}")
    return seconds, result


def top_imports(env: dict[str, str], index_args: list[str], count: int = 10) -> list[dict]:
    """The slowest top-level imports of the ask path (python -X importtime), cumulative."""
    argv = [sys.executable, "-X", "importtime", "-c", PROBE, *index_args, "ask", QUESTION]
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=common.ROOT)
    rows = []
    for line in result.stderr.splitlines():
        found = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if found and len(found.group(2)) <= 2:
            rows.append({"module": found.group(3), "cumulative_s": int(found.group(1)) / 1e6})
    return sorted(rows, key=lambda row: -row["cumulative_s"])[:count]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="Figures: docs/benchmarks.md")
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    args = parser.parse_args(argv)
    if args.runs <= 0:
        parser.error(f"--runs must be > 0, got {args.runs}")

    env = {key: value for key, value in os.environ.items() if not key.startswith("ASSISTANT_")}
    folder = common.BENCH_DIR / "seeds-index"
    index_args = ["--index", str(folder), "--collection", "seeds"]
    shutil.rmtree(folder, ignore_errors=True)
    index_seconds, _ = timed([*command(), *index_args, "index", str(common.SEEDS)], env)
    load_before = common.load()

    python_start = [timed([sys.executable, "-c", "pass"], env)[0] for _ in range(args.runs)]
    help_runs = [timed([*command(), "--help"], env)[0] for _ in range(args.runs)]
    ask_runs, answer = [], ""
    for _ in range(args.runs):
        seconds, result = timed([*command(), *index_args, "ask", QUESTION], env)
        ask_runs.append(seconds)
        answer = result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""
    breakdowns = [
        json.loads(timed([sys.executable, "-c", PROBE, *index_args, "ask", QUESTION], env)[1].stdout)["steps"]
        for _ in range(args.runs)
    ]
    steps = {name: common.median([b[name] for b in breakdowns]) for name in breakdowns[0]}
    result = {
        "machine": common.machine(),
        "python_start_s": common.median(python_start),
        "help_s": common.median(help_runs),
        "help_max_s": max(help_runs),
        "cold_ask_s": common.median(ask_runs),
        "cold_ask_runs_s": ask_runs,
        "cold_index_seeds_s": index_seconds,
        "steps_s": steps,
        "top_imports": top_imports(env, index_args),
        "answer": answer,
        "load": [load_before, common.load()],
    }
    common.save_result("startup", result)
    if args.json:
        common.print_json(result)
        return 0
    print(f"python -c pass:          {result['python_start_s']:.3f} s (interpreter start, median of {args.runs})")
    print(f"assistant --help:        {result['help_s']:.3f} s (max {result['help_max_s']:.3f} s)")
    print(f"cold assistant ask:      {result['cold_ask_s']:.2f} s (runs {[round(s, 2) for s in ask_runs]})")
    print(f"cold assistant index seeds/: {index_seconds:.2f} s")
    print("where a cold ask spends its time (median, fresh interpreter each run):")
    for name, seconds in steps.items():
        print(f"    {name:45s} {seconds:7.3f} s")
    print("slowest top-level imports (cumulative):")
    for row in result["top_imports"]:
        print(f"    {row['module']:45s} {row['cumulative_s']:7.3f} s")
    print(f"answer: {answer}")
    print(f"load average: {result['load']} (2 cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
