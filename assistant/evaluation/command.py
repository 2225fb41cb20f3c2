"""The `assistant eval PATH...` command; importing it is cheap (no torch or Chroma until it runs)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

_SETTINGS_FLAGS = (
    "embedding_model",
    "embedding_precision",
    "device",
    "chat_model",
    "chat_base_url",
    "top_k",
    "chunk_size",
    "chunk_overlap",
    "decline_threshold",
    "sentence_bonus",
)


def add_eval_command(subparsers: Any) -> None:
    """Register `eval PATH...` with its flags on an argparse sub-parsers object."""
    parser = subparsers.add_parser(
        "eval",
        help="measure retrieval, answers, citations and declining on a SQuAD JSON or ClapNQ JSONL set",
        description="Index the files' documents into a private temporary collection (never your index), "
        "ask their questions and report the metrics. Several files (or a folder) of one format make one corpus.",
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="SQuAD v1.1/v2.0 .json file, ClapNQ .jsonl file, or a folder of them (e.g. clapnq-dev/)",
    )
    parser.add_argument("--limit", type=int, help="ask only N questions, sampled with --seed")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --limit sample (default 0)")
    parser.add_argument(
        "--join-chars",
        type=int,
        metavar="N",
        help="join the documents, in file order, into documents of at least N characters (e.g. 100000), gold "
        "spans moved to match, and ask each question within its own joined document",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--out", metavar="DIR", help="write results.jsonl, summary.json and eval.png here")
    parser.add_argument("--top-k", type=int, default=argparse.SUPPRESS, help="passages given to the answerer")
    parser.add_argument("--chunk-size", type=int, help="characters per chunk")
    parser.add_argument("--chunk-overlap", type=int, help="characters shared by neighbouring chunks")
    parser.add_argument("--decline-threshold", type=float, help="evidence below which the answerer declines")
    parser.add_argument("--sentence-bonus", type=float, help="re-ranking weight of a passage's best sentence")
    # Also accepted before the sub-command; SUPPRESS keeps a value given there.
    parser.add_argument("--chat-model", default=argparse.SUPPRESS, help="LangChain chat model (default extractive)")


class _Bar:
    """A tqdm bar on stderr showing questions done and the share handled right so far."""

    def __init__(self, indexing: Any) -> None:
        self.indexing = indexing  # the indexing bar, closed once the questions start
        self._bar: Any = None
        self._right = 0
        self._done = 0

    def started(self, questions: int) -> None:
        from tqdm import tqdm

        self.indexing.__exit__(None, None, None)
        self._bar = tqdm(total=questions, desc="questions", unit="q", file=sys.stderr, disable=None)

    def question_done(self, result: Any) -> None:
        self._done += 1
        self._right += bool(result.hit)
        if self._bar is not None:
            self._bar.set_postfix(right=f"{self._right / self._done:.0%}", refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        self.indexing.__exit__(None, None, None)
        if self._bar is not None:
            self._bar.close()


def run_eval_command(args: argparse.Namespace) -> int:
    """Run the evaluation the parsed flags describe; prints a table (or JSON) and returns the exit status."""
    from assistant.evaluation.loading import eval_files
    from assistant.evaluation.report import format_table, to_json, write_outputs
    from assistant.evaluation.runner import run_eval
    from assistant.progress import TerminalProgress
    from assistant.settings import Settings
    from assistant.wording import plural

    if args.limit is not None and args.limit <= 0:
        raise ValueError(f"--limit must be > 0, got {args.limit}")
    if args.join_chars is not None and args.join_chars <= 0:
        raise ValueError(f"--join-chars must be > 0, got {args.join_chars}")
    settings = Settings.from_env(**{name: getattr(args, name, None) for name in _SETTINGS_FLAGS})
    eval_files(args.paths)  # a missing path fails here, before the model loads
    bar = _Bar(TerminalProgress())
    print(f"indexing {' '.join(args.paths)} into a temporary collection", file=sys.stderr)

    def report_skip(skipped: Any) -> None:
        bar.indexing.__exit__(None, None, None)
        print(f"skipping {skipped.source}: {skipped.reason} ({plural(skipped.questions, 'question')})", file=sys.stderr)

    try:
        run = run_eval(
            args.paths,
            settings,
            limit=args.limit,
            seed=args.seed,
            join_chars=args.join_chars,
            progress=bar,
            index_progress=bar.indexing,
            on_skip=report_skip,
        )
    finally:
        bar.close()
    if args.out:
        for path in write_outputs(run, args.out):
            print(f"wrote {path}", file=sys.stderr)
    print(json.dumps(to_json(run), indent=2) if args.json else format_table(run))
    return 0 if run.results else 1  # nothing could be asked: every document failed to index
