"""What each `assistant` subcommand does once its arguments are parsed and its Assistant is made."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from assistant.core import Assistant
from assistant.draft import DraftDisplay
from assistant.errors import AssistantError, NotFound
from assistant.models import Answer, AnswerMode, Turn
from assistant.progress import TerminalProgress
from assistant.render import document_record, render_answer, render_span
from assistant.wording import plural


def run_index(args: argparse.Namespace, assistant: Assistant) -> int:
    paths = [Path(p) for p in (args.paths or ["seeds"])]
    with TerminalProgress() as progress:
        report = assistant.index_paths(paths, prune=args.prune, rebuild=args.rebuild, progress=progress)
    for failure in report.failures:
        print(f"failed: {failure.source}: {failure.reason}", file=sys.stderr)
    for note in report.notes:
        print(note)
    print(report.summary())
    return 1 if report.failures else 0


def run_ask(args: argparse.Namespace, assistant: Assistant) -> int:
    _require_documents(assistant)
    answer = _answer(assistant, args.question, [], args.within, show_draft=not args.json)
    _warn(answer)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(render_answer(answer))
    return 0


def _answer(
    assistant: Assistant, question: str, history: list[Turn], sources: list[str] | None, show_draft: bool
) -> Answer:
    """The verified answer; a chat model's draft shows on stderr, marked as a draft, while it is written (stdout
    gets the verified answer only)."""
    draft = DraftDisplay() if show_draft and assistant.mode == AnswerMode.CHAT_MODEL else None
    answer: Answer | None = None
    for item in assistant.stream(question, history, sources=sources):
        if isinstance(item, Answer):
            answer = item
        elif draft is not None:
            draft.add(item)
    if draft is not None:
        draft.done()
    if answer is None:
        raise AssistantError("no answer came back")
    return answer


def run_chat(args: argparse.Namespace, assistant: Assistant) -> int:
    _require_documents(assistant)
    history: list[Turn] = []
    if args.within:
        chosen = assistant.resolve_sources(args.within)  # an unknown source stops here, before the first question
        print(f"Asking within: {', '.join(chosen.sources)}")
    print("Ask about your documents. An empty line or Ctrl-D ends the conversation.")
    while True:
        try:
            question = input("\nyou> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        answer = _answer(assistant, question, history, args.within, show_draft=True)
        _warn(answer)
        print(render_answer(answer))
        history.append(Turn(question, answer.text))


def run_sources(args: argparse.Namespace, assistant: Assistant) -> int:
    documents = assistant.sources()
    if args.json:
        print(json.dumps([document_record(doc) for doc in documents], ensure_ascii=False, indent=2))
        return 0
    if not documents:
        print("Nothing is indexed yet. Run `assistant index PATH`.")
        return 0
    print(f"{'id':16}  {'chunks':>6}  {'characters':>10}  {'indexed at (UTC)':25}  source")
    for doc in documents:
        print(f"{doc.id:16}  {doc.chunks:>6}  {doc.characters:>10}  {doc.indexed_at:25}  {doc.source}")
    print(f"{plural(len(documents), 'document')}, {plural(sum(d.chunks for d in documents), 'chunk')}")
    return 0


def run_remove(args: argparse.Namespace, assistant: Assistant) -> int:
    status = 0
    for name in args.documents:
        try:
            removed = assistant.remove(name)
        except NotFound as error:
            print(f"error: {error}", file=sys.stderr)
            status = 1
            continue
        print(f"removed {removed.source} ({plural(removed.chunks, 'chunk')})")
    return status


def run_show(args: argparse.Namespace, assistant: Assistant) -> int:
    document = assistant.find_document(args.document)
    text = assistant.document_text(document.id)
    if args.start is None and args.end is None:
        sys.stdout.write(text)  # exactly: `assistant show X > copy` gives the text citations index
        return 0
    start = 0 if args.start is None else args.start
    end = len(text) if args.end is None else args.end
    print(render_span(document, text, start, end, max(0, args.context)))
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Assistant], int]] = {
    "index": run_index,
    "ask": run_ask,
    "chat": run_chat,
    "sources": run_sources,
    "show": run_show,
    "remove": run_remove,
}


def _warn(answer: Answer) -> None:
    for warning in answer.warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _require_documents(assistant: Assistant) -> None:
    if not assistant.sources():
        location = assistant.settings.store_settings().location
        raise AssistantError(f"the index at {location} is empty: run `assistant index PATH` first")
