"""Shared by the reliability tests: corpora, the fault-hooked CLI in a subprocess, store checks, a Chroma server."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from helpers import HashingEmbedder

from assistant.core import Assistant
from assistant.settings import Settings
from index.chroma_client import StoreSettings
from index.store import ChunkStore

TESTS = Path(__file__).resolve().parent
HELPER = TESTS / "reliability_cli.py"
WORDS = (
    "apple river stone window garden lamp music harbor paper cloud silver orange forest bridge candle meadow "
    "engine letter valley copper ribbon anchor market winter island tunnel"
).split()


# --- corpora ------------------------------------------------------------------------------------------


def topic_text(number: int, paragraphs: int = 6, seed: int = 0) -> str:
    """A few paragraphs of filler with one distinctive fact: `Project zeta<number> ...`."""
    rng = random.Random(number * 1000 + seed)
    blocks = [
        f"Project zeta{number} was approved by the council of Vel{number} in {1900 + number * 7 + seed}. "
        f"Its budget reached {number * 1000 + 17 + seed} crowns."
    ]
    for _ in range(paragraphs):
        sentences = [
            f"{rng.choice(WORDS).capitalize()} {' '.join(rng.choice(WORDS) for _ in range(rng.randint(8, 16)))}."
            for _ in range(rng.randint(3, 5))
        ]
        blocks.append(" ".join(sentences))
    return "\n\n".join(blocks) + "\n"


def write_corpus(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        suffix = (".txt", ".md", ".html")[number % 3]
        path = folder / f"topic-{number:02d}{suffix}"
        text = topic_text(number)
        if suffix == ".html":
            body = "".join(f"<p>{block}</p>" for block in text.split("\n\n"))
            text = f"<html><head><title>Topic {number}</title></head><body>{body}</body></html>"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def change_corpus(folder: Path, count: int) -> None:
    """Version 2 of a corpus from `write_corpus`: appended, rewritten, deleted and new files."""
    for number in (0, 1):  # appended: their first chunks keep their text and ids
        path = folder / f"topic-{number:02d}.{('txt', 'md')[number]}"
        path.write_text(path.read_text(encoding="utf-8") + "\n" + topic_text(number + 50, 3), encoding="utf-8")
    for number in (3, 4):  # rewritten
        path = folder / f"topic-{number:02d}.{('txt', 'md', 'html')[number % 3]}"
        path.write_text(topic_text(number, seed=1), encoding="utf-8")
    (folder / "topic-06.txt").unlink()  # removed with --prune
    for number in (count, count + 1):  # new
        (folder / f"topic-{number:02d}.txt").write_text(topic_text(number), encoding="utf-8")


# --- the CLI in a subprocess ----------------------------------------------------------------------------


# The small test corpora would fit in one write; small batches give every run several, so kills land between them.
WRITE_BATCH_CHUNKS = "6"


def clean_environment(**extra: str) -> dict[str, str]:
    ours = ("ASSISTANT_", "RELIABILITY_")
    environment = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
    environment["ASSISTANT_WRITE_BATCH_CHUNKS"] = WRITE_BATCH_CHUNKS
    if os.environ.get("ASSISTANT_LEXICAL_CACHE"):  # the test's own cache folder (conftest), not the home's
        environment["ASSISTANT_LEXICAL_CACHE"] = os.environ["ASSISTANT_LEXICAL_CACHE"]
    environment.update(extra)
    return environment


def cli_command(*arguments: str) -> list[str]:
    return [sys.executable, str(HELPER), *arguments]


def run_cli(*arguments: str, cwd: Path, timeout: float = 120, **hooks: str) -> subprocess.CompletedProcess:
    """Run the fault-hooked `assistant` command to its end (or its self-kill)."""
    return subprocess.run(
        cli_command(*arguments),
        cwd=cwd,
        env=clean_environment(**hooks),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def count_writes(*arguments: str, cwd: Path, **hooks: str) -> int:
    """How many Chroma write calls a clean run of the command makes (with these hooks)."""
    counter = cwd / "writes.count"
    result = run_cli(*arguments, cwd=cwd, RELIABILITY_COUNT_FILE=str(counter), **hooks)
    assert result.returncode == 0, result.stderr
    return int(counter.read_text())


# --- store checks ---------------------------------------------------------------------------------------


def store_settings(index: Path, collection: str = "documents") -> StoreSettings:
    return StoreSettings(path=str(index), collection=collection)


def normalized(store: ChunkStore) -> dict[str, dict[str, Any]]:
    """Every stored record (ids, texts, metadata), the manifest's `indexed_at` left out."""
    records = store.records()
    manifest = {
        record_id: (text, {key: value for key, value in metadata.items() if key != "indexed_at"})
        for record_id, (text, metadata) in records["manifest"].items()
    }
    return {"chunks": records["chunks"], "manifest": manifest}


def figure(name: str, value: object) -> None:
    """Print a measured figure (shown with `pytest -s`; docs/reliability.md quotes them)."""
    print(f"FIGURE {name}: {value}")


def assert_same_records(actual: dict, expected: dict) -> tuple[int, int]:
    """Compare two `normalized` snapshots; returns (chunks lost, chunks duplicated or left over)."""
    lost = len(expected["chunks"].keys() - actual["chunks"].keys())
    extra = len(actual["chunks"].keys() - expected["chunks"].keys())
    figure("chunks compared / lost / extra", f"{len(expected['chunks'])} / {lost} / {extra}")
    assert (lost, extra) == (0, 0), f"{lost} chunks missing, {extra} chunks not in a clean run"
    assert actual["chunks"] == expected["chunks"]
    assert actual["manifest"] == expected["manifest"]
    return lost, extra


def assert_consistent(store: ChunkStore, allowed: dict[str, set[str]] | None = None) -> int:
    """Every visible document is complete: its chunks rebuild exactly the text its manifest entry hashes.

    `allowed` maps a source to the content hashes it may show (e.g. its old and its new version).
    Returns how many documents are visible.
    """
    documents = store.documents()
    for document in documents.values():
        store.document_text(document.id)  # raises unless the chunks rebuild the hashed text
        assert len(list(store.iter_chunks(document.id))) == document.chunks, document.source
        if allowed is not None:
            assert document.sha256 in allowed.get(document.source, set()), f"unexpected version of {document.source}"
    return len(documents)


def fake_assistant(index: Path, **changes: Any) -> Assistant:
    return Assistant(Settings(index_path=str(index)).with_changes(**changes), embedder=HashingEmbedder())


def assert_answers_verbatim(assistant: Assistant, question: str):
    """Ask; every citation must quote the indexed text exactly."""
    answer = assistant.ask(question)
    for citation in answer.citations:
        assert assistant.document_text(citation.document_id)[citation.start : citation.end] == citation.quote
    return answer


def integrity_problem(index: Path, collection: str = "documents") -> str:
    """Open the folder in a fresh process and read every vector and a filtered query: "" when all is well.

    These are the reads that fail ("Error finding id") on a folder two processes wrote to.
    """
    script = (
        "import sys, chromadb\n"
        "c = chromadb.PersistentClient(sys.argv[1])\n"
        "col = c.get_collection(sys.argv[2])\n"
        "n = col.count()\n"
        "got = col.get(include=['embeddings'])\n"
        "assert len(got['ids']) == n, (len(got['ids']), n)\n"
        "if n:\n"
        "    doc = col.get(limit=1, include=['metadatas'])['metadatas'][0]['document_id']\n"
        "    col.query(query_embeddings=[got['embeddings'][0]], n_results=min(n, 5), where={'document_id': doc})\n"
        "print('ok', n)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(index), collection], capture_output=True, text=True, timeout=120
    )
    return "" if result.returncode == 0 else (result.stderr.strip().splitlines() or ["failed"])[-1]


# --- processes ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen, grace: float = 10) -> None:
    """Stop a process we started, by its PID: SIGTERM, then SIGKILL."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


class ChromaServer:
    """`chroma run` on 127.0.0.1 and a free port, stopped (or killed) by its PID."""

    def __init__(self, data: Path, log: Path, port: int | None = None):
        self.data = data
        self.log = log
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    def start(self, seconds: float = 60) -> ChromaServer:
        chroma = Path(sys.executable).with_name("chroma")
        command = [str(chroma), "run", "--path", str(self.data), "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("a") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"chroma run did not answer in {seconds}s")

    def kill(self) -> None:
        """Lose the server at once (SIGKILL), as a crash or a pulled cable would."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)

    @property
    def flags(self) -> list[str]:
        return ["--chroma-host", "127.0.0.1", "--chroma-port", str(self.port)]


@contextmanager
def chroma_server(data: Path, log: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(data, log).start()
    try:
        yield server
    finally:
        server.stop()
