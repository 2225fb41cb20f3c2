"""The `assistant` command: index documents, ask questions, chat, list and remove sources, open the app."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.settings import Settings
    from index.embedding import Embedder

DEFAULT_PATHS = ["seeds"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant", description="Answer questions about your documents, with exact quotes as proof."
    )
    parser.add_argument("--index", dest="index_path", help="Chroma folder (default: ASSISTANT_INDEX_PATH or .chroma)")
    parser.add_argument("--collection", help="collection name (default: ASSISTANT_COLLECTION or documents)")
    parser.add_argument("--chroma-host", help="use the Chroma server on this host instead of a folder")
    parser.add_argument("--chroma-port", type=int, help="Chroma server port (default: ASSISTANT_CHROMA_PORT)")
    parser.add_argument(
        "--chroma-token",
        help="token sent to the Chroma server (prefer ASSISTANT_CHROMA_TOKEN: a flag shows in the process list)",
    )
    parser.add_argument("--chroma-token-header", help="header carrying the token (default Authorization: Bearer)")
    parser.add_argument("--chroma-ssl", action="store_true", default=None, help="use https for the Chroma server")
    parser.add_argument("--chroma-ca-file", help="CA bundle that signed the Chroma server's certificate")
    parser.add_argument("--embedding-model", help="sentence-transformers model name or folder")
    parser.add_argument("--precision", dest="embedding_precision", choices=["auto", "float32", "bfloat16"])
    parser.add_argument("--device", help="auto, cpu or cuda")
    parser.add_argument(
        "--chat-model", help='LangChain chat model, e.g. "ollama:llama3.1" (default: extractive answers)'
    )
    parser.add_argument("--chat-base-url", help="base URL of an OpenAI-compatible server")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    index = commands.add_parser("index", help="index files and folders (default: seeds/)")
    index.add_argument("paths", nargs="*", default=None, help="files or folders (default: seeds)")
    index.add_argument("--prune", action="store_true", help="remove indexed documents whose files are gone")
    index.add_argument(
        "--rebuild", action="store_true", help="empty the collection first (to index it with another embedding model)"
    )

    ask = commands.add_parser("ask", help="ask one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    ask.add_argument("--top-k", type=int, help="passages given to the answerer (default: ASSISTANT_TOP_K)")
    _add_within(ask)

    chat = commands.add_parser("chat", help="ask questions in a terminal conversation")
    chat.add_argument("--top-k", type=int)
    _add_within(chat)

    sources = commands.add_parser("sources", help="list what is indexed")
    sources.add_argument("--json", action="store_true", help="every document's facts as JSON (encoding, pages, ...)")
    show = commands.add_parser("show", help="print a document's indexed text, which citations' offsets index")
    show.add_argument("document", help="document id, path or file name")
    show.add_argument("--from", dest="start", type=int, help="start of a span (a citation's start)")
    show.add_argument("--to", dest="end", type=int, help="end of the span (a citation's end)")
    show.add_argument("--context", type=int, default=200, help="characters shown either side of the span")
    remove = commands.add_parser("remove", help="take documents out of the index")
    remove.add_argument("documents", nargs="+", help="document id, path or file name")

    ui = commands.add_parser("ui", help="open the chat window in the browser")
    ui.add_argument("--port", type=int, default=8501)
    ui.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this machine only; any other lets others use the app)",
    )

    doctor = commands.add_parser("doctor", help="check what is installed and configured, and that answering works")
    doctor.add_argument("--json", action="store_true", help="print the same as a JSON object")

    from assistant.evaluation.command import add_eval_command

    add_eval_command(commands)
    return parser


def _add_within(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--in",
        dest="within",
        action="append",
        metavar="SOURCE",
        help="answer only from this document (id, path or file name, as `remove` takes it) or the documents under "
        "this folder; repeat it for several (default: all documents)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with the flags the command was given on top."""
    from assistant.settings import Settings

    names = (
        "index_path",
        "collection",
        "chroma_host",
        "chroma_port",
        "chroma_token",
        "chroma_token_header",
        "chroma_ssl",
        "chroma_ca_file",
        "embedding_model",
        "embedding_precision",
        "device",
        "chat_model",
        "chat_base_url",
    )
    overrides = {name: getattr(args, name, None) for name in names}
    if getattr(args, "top_k", None):
        overrides["top_k"] = args.top_k
    return Settings.from_env(**overrides)


def main(argv: Sequence[str] | None = None, *, embedder: Embedder | None = None) -> int:
    """Run the `assistant` command; `embedder` replaces the configured embedding model (programs and tests that
    already hold one)."""
    from assistant.runtime import prefer_passive_openmp

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    prefer_passive_openmp()  # before anything loads torch
    try:
        return _dispatch(args, embedder)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # one clear line instead of a traceback
        from assistant.errors import AssistantError
        from index.errors import IndexingError

        if isinstance(error, (AssistantError, IndexingError, ValueError, OSError)):
            print(f"error: {error}", file=sys.stderr)
            return 1
        raise


def _dispatch(args: argparse.Namespace, embedder: Embedder | None) -> int:
    if args.command == "eval":
        from assistant.evaluation.command import run_eval_command

        return run_eval_command(args)
    settings = settings_from(args)
    if args.command == "ui":
        from assistant.cli_ui import run_ui

        return run_ui(settings, host=args.host, port=args.port)
    if args.command == "doctor":
        from assistant.doctor import run_doctor

        return run_doctor(settings, as_json=args.json, embedder=embedder)
    from assistant import cli_commands
    from assistant.core import Assistant

    command = cli_commands.COMMANDS[args.command]
    return command(args, Assistant(settings, embedder=embedder))


if __name__ == "__main__":
    sys.exit(main())
