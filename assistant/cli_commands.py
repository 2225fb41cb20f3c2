"""What each `assistant` subcommand does once its arguments are parsed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.progress import TerminalProgress
from assistant.render import render_answer
from assistant.settings import Settings


def _assistant(settings: Settings):
    from assistant.core import Assistant

    return Assistant(settings)


def run_index(args: argparse.Namespace, settings: Settings) -> int:
    paths = [Path(p) for p in (args.paths or ["seeds"])]
    assistant = _assistant(settings)
    with TerminalProgress() as progress:
        report = assistant.index_paths(paths, prune=args.prune, progress=progress)
    for failure in report.failures:
        print(f"failed: {failure.source}: {failure.reason}", file=sys.stderr)
    print(report.summary())
    return 1 if report.failures else 0


def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    assistant = _assistant(settings)
    _require_documents(assistant)
    if args.json:
        answer = assistant.ask(args.question)
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    answer = None
    for item in assistant.stream(args.question):
        if isinstance(item, str):
            if assistant.mode == "llm":
                print(item, end="", flush=True)
        else:
            answer = item
    if assistant.mode == "llm":
        print("\n")
    print(render_answer(answer, include_text=assistant.mode != "llm"))
    return 0


def run_chat(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.models import Turn

    assistant = _assistant(settings)
    _require_documents(assistant)
    history: list[Turn] = []
    print("Ask about your documents. An empty line or Ctrl-D ends the conversation.")
    while True:
        try:
            question = input("\nyou> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        answer = assistant.ask(question, history=history)
        print(render_answer(answer))
        history.append(Turn(question, answer.text))


def run_sources(args: argparse.Namespace, settings: Settings) -> int:
    documents = _assistant(settings).sources()
    if not documents:
        print("Nothing is indexed yet. Run `assistant index PATH`.")
        return 0
    print(f"{'id':16}  {'chunks':>6}  {'characters':>10}  {'indexed at (UTC)':25}  source")
    for doc in documents:
        print(f"{doc.id:16}  {doc.chunks:>6}  {doc.characters:>10}  {doc.indexed_at:25}  {doc.source}")
    print(f"{len(documents)} documents, {sum(d.chunks for d in documents)} chunks")
    return 0


def run_remove(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.errors import NotFound

    assistant = _assistant(settings)
    status = 0
    for name in args.documents:
        try:
            removed = assistant.remove(name)
        except NotFound as error:
            print(f"error: {error}", file=sys.stderr)
            status = 1
            continue
        print(f"removed {removed.source} ({removed.chunks} chunks)")
    return status


def _require_documents(assistant) -> None:
    from assistant.errors import AssistantError

    if not assistant.store.documents():
        raise AssistantError(
            f"the index at {assistant.settings.store_settings().location} is empty: run `assistant index PATH` first"
        )
