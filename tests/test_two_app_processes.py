"""Several app processes on one real `chroma run` (127.0.0.1, a free port, stopped by its PID): a document indexed,
or removed, by one process (the `assistant` command) is seen by a long-lived app process (tests/app_process.py) at
its very next question, and a warm question there still costs one generation check and one query."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    TESTS,
    ChromaServer,
    chroma_server,
    clean_environment,
    figure,
    run_cli,
    stop,
    write_corpus,
)

SEEN_WITHIN = 5.0  # seconds from the writing process's exit to an answer that reflects its change
EVERY = 0.2  # seconds between the questions asked meanwhile
REPLY_TIMEOUT = 120.0  # seconds to wait for the app process to start, or to answer one request

FACT_FILE = "lighthouse-log.txt"
FACT = (
    "The Kestrel Point lighthouse was repainted cobalt blue by the keeper Orsolya Brandt in 1921.\n\n"
    "Orsolya Brandt kept the Kestrel Point light burning through the storm of 1923 without relief.\n"
)
FACT_QUESTION = "Who repainted the Kestrel Point lighthouse?"
OTHER_QUESTIONS = [f"When was Project zeta{number} approved by the council?" for number in (1, 2, 3)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("chroma-server")
    with chroma_server(work / "data", work / "chroma.log") as running:
        yield running


class AppProcess:
    """tests/app_process.py in a subprocess: requests go in as JSON lines, replies come back as JSON lines."""

    def __init__(self, server: ChromaServer, collection: str, cwd: Path):
        self.log = cwd / f"app-{collection}.log"
        with self.log.open("w") as errors:
            self.process = subprocess.Popen(
                [sys.executable, str(TESTS / "app_process.py"), "127.0.0.1", str(server.port), collection],
                cwd=cwd,
                env=clean_environment(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        self._replies: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        assert self._reply() == {"ready": True}

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._replies.put(line)

    def _reply(self) -> dict[str, Any]:
        try:
            return json.loads(self._replies.get(timeout=REPLY_TIMEOUT))
        except queue.Empty:
            raise AssertionError(f"no reply from the app process in {REPLY_TIMEOUT}s:\n{self.log_tail()}") from None

    def request(self, **request: str) -> dict[str, Any]:
        assert self.process.poll() is None, f"the app process exited:\n{self.log_tail()}"
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return self._reply()

    def ask(self, question: str) -> dict[str, Any]:
        reply = self.request(ask=question)
        assert all(citation["verbatim"] for citation in reply["citations"]), reply  # document_text[start:end] == quote
        return reply

    def log_tail(self) -> str:
        return self.log.read_text()[-3000:]

    def stop(self, grace: float = 10) -> None:
        """By its PID: stdin closed (it ends its loop), then SIGTERM, then SIGKILL."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            stop(self.process, grace)


def _cites(reply: dict[str, Any], name: str) -> bool:
    return any(Path(source).name == name for source in reply["sources"])


def _until(app: AppProcess, question: str, done, since: float) -> tuple[float, int, dict[str, Any]]:
    """Ask every EVERY seconds until `done(reply)`, for at most twice SEEN_WITHIN; returns the seconds from `since`
    to that reply, the number of questions asked, and the reply."""
    asked = 0
    while True:
        reply = app.ask(question)
        asked += 1
        delay = time.monotonic() - since
        if done(reply) or delay > 2 * SEEN_WITHIN:
            return delay, asked, reply
        time.sleep(EVERY)


def _assert_warm(app: AppProcess, question: str) -> dict[str, int]:
    """Nothing changed since the last question: one generation check and one query, as in
    test_reliability_server.py::test_a_warm_question_on_a_server_makes_two_round_trips."""
    calls = app.ask(question)["calls"]
    assert sum(calls.values()) <= 2 and calls.get("Collection.query") == 1, calls
    return calls


def _index_corpus(server: ChromaServer, collection: str, tmp_path: Path, *extra: Path) -> list[str]:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 4)
    flags = [*server.flags, "--collection", collection]
    indexed = run_cli(*flags, "index", str(corpus), *map(str, extra), cwd=tmp_path)
    assert indexed.returncode == 0, indexed.stderr
    return flags


def _write_fact(tmp_path: Path) -> Path:
    path = tmp_path / "new" / FACT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FACT, encoding="utf-8")
    return path


def test_a_document_indexed_by_one_process_is_answered_by_another_at_its_next_question(server, tmp_path):
    flags = _index_corpus(server, "two-processes-add", tmp_path)
    app = AppProcess(server, "two-processes-add", tmp_path)
    try:
        warm = app.ask(OTHER_QUESTIONS[0])  # warms the app process: its snapshot, lexical index and texts
        assert warm["answered"] and warm["citations"], warm
        _assert_warm(app, OTHER_QUESTIONS[1])
        before = app.ask(FACT_QUESTION)
        assert not _cites(before, FACT_FILE), before

        indexed = run_cli(*flags, "index", str(_write_fact(tmp_path)), cwd=tmp_path)  # process A, to its exit
        exited = time.monotonic()
        assert indexed.returncode == 0 and "1 added" in indexed.stdout, indexed.stderr
        delay, asked, seen = _until(app, FACT_QUESTION, lambda reply: _cites(reply, FACT_FILE), exited)
        figure("new document answered by the other process after (s)", f"{delay:.2f} ({asked} question(s))")
        figure("Chroma calls of that first question after the change", seen["calls"])
        assert seen["answered"] and _cites(seen, FACT_FILE), seen
        assert "Orsolya Brandt" in seen["text"], seen
        assert delay <= SEEN_WITHIN, f"seen after {delay:.2f}s and {asked} questions"

        calls = _assert_warm(app, OTHER_QUESTIONS[2])  # nothing changed since: the warm cost again
        figure("Chroma calls of a warm question afterwards", calls)
    finally:
        app.stop()


def test_a_document_removed_by_one_process_is_gone_from_another_at_its_next_question(server, tmp_path):
    fact = _write_fact(tmp_path)
    flags = _index_corpus(server, "two-processes-remove", tmp_path, fact)
    app = AppProcess(server, "two-processes-remove", tmp_path)
    try:
        cited = app.ask(FACT_QUESTION)  # warm, and citing the document about to go
        assert cited["answered"] and _cites(cited, FACT_FILE), cited
        fact_id = next(c["document_id"] for c in cited["citations"] if Path(c["source"]).name == FACT_FILE)
        assert app.request(text=fact_id)["served"]
        _assert_warm(app, OTHER_QUESTIONS[0])

        removed = run_cli(*flags, "remove", FACT_FILE, cwd=tmp_path)  # process A, to its exit
        exited = time.monotonic()
        assert removed.returncode == 0, removed.stderr
        delay, asked, after = _until(app, FACT_QUESTION, lambda reply: not _cites(reply, FACT_FILE), exited)
        figure("removed document gone from the other process after (s)", f"{delay:.2f} ({asked} question(s))")
        figure("Chroma calls of that first question after the removal", after["calls"])
        figure("that answer: answered / sources", f"{after['answered']} / {[Path(s).name for s in after['sources']]}")
        assert not _cites(after, FACT_FILE), after  # it declines, or cites other documents
        assert "Orsolya" not in after["text"], after
        assert delay <= SEEN_WITHIN, f"still cited after {delay:.2f}s and {asked} questions"
        text = app.request(text=fact_id)
        assert not text["served"] and fact_id in text["error"], text  # the source viewer no longer shows it

        calls = _assert_warm(app, OTHER_QUESTIONS[1])
        figure("Chroma calls of a warm question after the removal", calls)
    finally:
        app.stop()
