"""The chat-model path with a real model, next to the extractive answerer on the same questions.

    python bench/llm_answers.py --base-url http://127.0.0.1:PORT/v1 [--model qwen] [--limit 50] [--out DIR]
    python bench/llm_answers.py --serve [--limit 50]     # assembles the test model and starts llama.cpp itself

For SQuAD 1.1 (XQuAD), SQuAD 2.0 (half; answerable and unanswerable) and ClapNQ dev, the same `--limit` questions
(drawn with seed 0, as `assistant eval --limit`) are asked twice: extractive, then through the chat model. Per set
and answerer: answerable questions answered with a quote holding the gold (ClapNQ: a hit), answered, wrongly
declined, unanswerable declined, citations that fail verification, the share of answer sentences a quote backs,
latency p50 / p95; for the chat model also its own verified answers and the fallback answers (the extractive answer
given in its place) separately, with how often each was right. Tokens per second are measured on the server with
one fixed prompt. Prints a JSON report (and writes it under --out).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import EVAL_DIR, SQUAD20, XQUAD, load

SETS = {"squad11": XQUAD, "squad20": SQUAD20, "clapnq": EVAL_DIR / "clapnq-dev"}


def _sentences(text: str) -> int:
    from assistant.claims import split_claims

    return len(split_claims(text))


def _right_without_closest(result, clapnq: bool) -> bool:  # type: ignore[no-untyped-def]
    """Whether the answer's quotes hold the gold without the closest sentence added beside the model's answer."""
    from assistant.evaluation import metrics

    quotes = [c.quote for c in result.citations if c.n != result.closest]
    matches = metrics.quote_matches_evidence if clapnq else metrics.quote_contains_gold
    return result.answered and matches(quotes, result.gold)


def summarise(run, clapnq: bool = False) -> dict:  # type: ignore[no-untyped-def]
    results = run.results
    answerable = [r for r in results if not r.is_impossible]
    unanswerable = [r for r in results if r.is_impossible]
    answered = [r for r in results if r.answered]

    def share(items: list, condition) -> float | None:  # type: ignore[no-untyped-def]
        return round(sum(1 for r in items if condition(r)) / len(items), 3) if items else None

    sentences = sum(_sentences(r.answer) for r in answered)
    own = [r for r in answerable if r.answered and not r.fallback]
    fallback = [r for r in answerable if r.answered and r.fallback]
    latencies = sorted(r.latency_s * 1000 for r in results)
    return {
        "questions": len(results),
        "answerable right (quote holds gold / hit)": share(answerable, lambda r: r.answered and r.quote_has_gold),
        "answerable answered": share(answerable, lambda r: r.answered),
        "answerable wrongly declined": share(answerable, lambda r: not r.answered),
        "unanswerable declined": share(unanswerable, lambda r: not r.answered),
        "citations failing verification": sum(1 for r in results for c in r.citations if not c.verbatim),
        "answer sentences backed by a quote": round(1 - sum(r.unsupported for r in answered) / sentences, 3)
        if sentences
        else None,
        "own answers (answerable): count, right": [len(own), share(own, lambda r: r.quote_has_gold)],
        "fallback answers (answerable): count, right": [len(fallback), share(fallback, lambda r: r.quote_has_gold)],
        "fallback rate (all answered)": share(answered, lambda r: bool(r.fallback)),
        "closest sentence added (all answered)": share(answered, lambda r: bool(r.closest)),
        "own answers right without the closest sentence": share(own, lambda r: _right_without_closest(r, clapnq)),
        "answerable right without the closest sentence": share(
            answerable, lambda r: r.answered and _right_without_closest(r, clapnq)
        ),
        "mean words per answer": round(statistics.mean(len(r.answer.split()) for r in answered), 1)
        if answered
        else None,
        "latency p50 / p95 ms": [
            round(statistics.median(latencies)),
            round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]),
        ]
        if latencies
        else None,
    }


def tokens_per_second(base_url: str, model: str) -> float:
    """Completion tokens per second for one fixed prompt (the median of three)."""
    body = json.dumps(
        {
            "model": model,
            "messages": [{"role": "user", "content": "Describe a lighthouse in about eighty words."}],
            "max_tokens": 120,
            "temperature": 0,
        }
    ).encode()
    rates = []
    for _ in range(3):
        request = urllib.request.Request(
            f"{base_url}/chat/completions", body, {"Content-Type": "application/json"}, method="POST"
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=300) as response:
            usage = json.loads(response.read())["usage"]
        rates.append(usage["completion_tokens"] / (time.perf_counter() - started))
    return round(statistics.median(rates), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="", help="an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1")
    parser.add_argument("--model", default="qwen")
    parser.add_argument("--serve", action="store_true", help="assemble the test model and start llama.cpp here")
    parser.add_argument("--limit", type=int, default=50, help="questions per set")
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS))
    parser.add_argument("--out", default="", help="a folder for report.json")
    args = parser.parse_args(argv)
    from assistant import Settings
    from assistant.evaluation.runner import run_eval
    from index.embedding import Embedder

    with contextlib.ExitStack() as stack:
        base_url = args.base_url
        if args.serve:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            import llm_server

            log = Path(tempfile.gettempdir()) / "llm-answers-server.log"
            base_url = stack.enter_context(llm_server.serve(llm_server.model_file(), log))
            args.model = llm_server.MODEL_ALIAS
        if not base_url:
            parser.error("give --base-url or --serve")
        load_before = load()
        embedder = Embedder(Settings.from_env().embedder_settings())
        report: dict = {"model": args.model, "limit": args.limit, "tokens/s": tokens_per_second(base_url, args.model)}
        for name in args.sets.split(","):
            plain = Settings.from_env().with_changes(chat_model="", chat_base_url="")
            chat = plain.with_changes(chat_model=args.model, chat_base_url=base_url)
            report[name] = {}
            for label, settings in (("extractive", plain), ("chat model", chat)):
                run = run_eval(SETS[name], settings, limit=args.limit, embedder=embedder)
                report[name][label] = summarise(run, clapnq=name == "clapnq")
                print(f"{name} {label}: {json.dumps(report[name][label])}", file=sys.stderr)
        report["load"] = f"{load_before} -> {load()}"
    print(json.dumps(report, indent=2))
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
