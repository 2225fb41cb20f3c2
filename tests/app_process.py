"""A long-lived app process on a Chroma server, for tests/test_two_app_processes.py: one Assistant (the hashed fake
embedder, so that every process embeds alike) answering requests read from stdin, one JSON line each.

    python tests/app_process.py HOST PORT COLLECTION

Requests, one JSON object a line, each answered by one JSON line on stdout:
    {"ask": QUESTION}   -> {"answered", "text", "sources", "citations": [{"source", "document_id", "verbatim"}],
                            "calls": {"Collection.query": 1, ...}, "seconds"}
                           `verbatim`: document_text(document_id)[start:end] == quote, checked after the ask;
                           `calls`: the Chroma client calls the ask itself made (each an HTTP round trip),
                           counted as the chroma_calls fixture of conftest.py counts them
    {"text": DOCUMENT_ID} -> {"served": true, "length"} or {"served": false, "error"}
"""

from __future__ import annotations

import collections
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS.parent), str(TESTS)]

CALLS: collections.Counter[str] = collections.Counter()


def _count_chroma_calls() -> None:
    from chromadb.api.client import Client
    from chromadb.api.models.Collection import Collection
    from helpers import CHROMA_CLIENT_CALLS, CHROMA_READS, CHROMA_WRITES

    for owner, names in ((Collection, CHROMA_READS + CHROMA_WRITES), (Client, CHROMA_CLIENT_CALLS)):
        for name in names:
            original = getattr(owner, name)

            def counted(self, *args, _original=original, _name=f"{owner.__name__}.{name}", **kwargs):
                CALLS[_name] += 1
                return _original(self, *args, **kwargs)

            setattr(owner, name, counted)


def _ask(assistant: Any, question: str) -> dict[str, Any]:
    CALLS.clear()
    began = time.perf_counter()
    answer = assistant.ask(question)
    seconds = time.perf_counter() - began
    calls = dict(CALLS)  # before the checks below, which read the snapshot (no Chroma call when cached)
    citations = [
        {
            "source": citation.source,
            "document_id": citation.document_id,
            "verbatim": assistant.document_text(citation.document_id)[citation.start : citation.end] == citation.quote,
        }
        for citation in answer.citations
    ]
    return {
        "answered": answer.answered,
        "text": answer.text,
        "sources": sorted({citation.source for citation in answer.citations}),
        "citations": citations,
        "calls": calls,
        "seconds": seconds,
    }


def _text(assistant: Any, document_id: str) -> dict[str, Any]:
    try:
        return {"served": True, "length": len(assistant.document_text(document_id))}
    except Exception as error:  # the test asserts the kind of refusal: an unknown document
        return {"served": False, "error": f"{type(error).__name__}: {error}"}


def main(host: str, port: str, collection: str) -> int:
    from helpers import HashingEmbedder

    from assistant.core import Assistant
    from assistant.settings import Settings

    _count_chroma_calls()
    cache = os.environ.get("ASSISTANT_LEXICAL_CACHE", "")  # the test's own folder for the saved lexical index
    settings = Settings(chroma_host=host, chroma_port=int(port), collection=collection, lexical_cache=cache)
    assistant = Assistant(settings, embedder=HashingEmbedder())
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        reply = _ask(assistant, request["ask"]) if "ask" in request else _text(assistant, request["text"])
        print(json.dumps(reply), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
