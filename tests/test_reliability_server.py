"""Server mode against a real `chroma run` (127.0.0.1, a free port, stopped by its PID): index, ask, the source
viewer and the app work as on a folder, and losing the server mid-run gives a clear error, then the same command
completes."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
from helpers import HashingEmbedder
from reliability_support import (
    ChromaServer,
    assert_answers_verbatim,
    assert_consistent,
    assert_same_records,
    chroma_server,
    clean_environment,
    cli_command,
    fake_assistant,
    normalized,
    run_cli,
    write_corpus,
)

from assistant.core import Assistant
from assistant.settings import Settings
from index.chroma_client import StoreSettings, close_connections
from index.store import ChunkStore

QUESTIONS = [f"When was Project zeta{number} approved by the council?" for number in (1, 4, 7)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("chroma-server")
    with chroma_server(work / "data", work / "chroma.log") as running:
        yield running


def _on_server(server: ChromaServer, collection: str) -> Assistant:
    settings = Settings(chroma_host="127.0.0.1", chroma_port=server.port, collection=collection)
    return Assistant(settings, embedder=HashingEmbedder())


def _server_store(server: ChromaServer, collection: str) -> ChunkStore:
    return ChunkStore(StoreSettings(host="127.0.0.1", port=server.port, collection=collection))


def test_index_ask_view_and_remove_work_as_on_a_folder(server, tmp_path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 9)
    local = fake_assistant(tmp_path / "index")
    remote = _on_server(server, "same-as-local")
    assert local.index_paths([corpus]).count("added") == remote.index_paths([corpus]).count("added") == 9
    assert_same_records(normalized(remote.store), normalized(local.store))  # the very same records
    for question in QUESTIONS:
        here, there = assert_answers_verbatim(local, question), assert_answers_verbatim(remote, question)
        assert there.text == here.text and there.citations == here.citations
        for citation in there.citations:  # the source viewer shows the document rebuilt from the server
            assert remote.document_text(citation.document_id) == local.document_text(citation.document_id)
    assert remote.index_paths([corpus]).count("unchanged") == 9
    removed = remote.remove("topic-04.md")
    assert removed.source.endswith("topic-04.md") and len(remote.sources()) == 8
    assert assert_consistent(remote.store) == 8
    assert remote.store.pending_writes() == []


def test_a_warm_question_on_a_server_makes_two_round_trips(server, tmp_path, chroma_calls):
    write_corpus(tmp_path / "corpus", 5)  # zeta0 to zeta4: QUESTIONS[1] asks of zeta4
    remote = _on_server(server, "round-trips")
    remote.index_paths([tmp_path / "corpus"])
    assert_answers_verbatim(remote, QUESTIONS[0])
    chroma_calls.clear()
    answer = remote.ask(QUESTIONS[1])
    assert sum(chroma_calls.values()) <= 2 and chroma_calls["Collection.query"] == 1, dict(chroma_calls)
    assert answer.citations and all(
        remote.document_text(c.document_id)[c.start : c.end] == c.quote for c in answer.citations
    )


def test_the_command_line_on_a_server(server, tmp_path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 4)
    flags = [*server.flags, "--collection", "cli-docs"]
    indexed = run_cli(*flags, "index", str(corpus), cwd=tmp_path)
    assert indexed.returncode == 0 and "4 added" in indexed.stdout, indexed.stderr
    listed = run_cli(*flags, "sources", cwd=tmp_path)
    assert listed.returncode == 0 and "4 documents" in listed.stdout, listed.stderr
    asked = run_cli(*flags, "ask", "--json", QUESTIONS[0], cwd=tmp_path)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["passages"], asked.stderr
    text = _server_store(server, "cli-docs").document_text(answer["passages"][0]["document_id"])
    for citation in answer["citations"]:
        assert (
            text[citation["start"] : citation["end"]] == citation["quote"]
            or citation["document_id"] != (answer["passages"][0]["document_id"])
        )
    assert not (tmp_path / ".chroma").exists(), "nothing was written to a local folder"


def test_the_app_on_a_server(server, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from ui import state

    corpus = tmp_path / "corpus"
    write_corpus(corpus, 4)
    _on_server(server, "app-docs").index_paths([corpus])
    _app_environment(monkeypatch, tmp_path, server.port, "app-docs")
    app = AppTest.from_file(str(state.__file__).replace("state.py", "app.py"), default_timeout=120)
    app.run()
    assert not app.exception, app.exception
    app.chat_input(key="question").set_value(QUESTIONS[0]).run()
    assert not app.exception, app.exception
    answer = app.session_state[state.CONVERSATION][-1].answer
    assert answer.answered and answer.citations
    app.button(key="open-0-c1").click().run()
    viewer = next(element.proto.body for element in app.get("html") if 'id="quote"' in element.proto.body)
    assert '<mark id="quote">' in viewer
    captions = [re.sub(r"\\(.)", r"\1", caption.value) for caption in app.caption]
    assert any(f"Chroma server http://127.0.0.1:{server.port}" in caption for caption in captions)
    state.forget_assistants()


def _app_environment(monkeypatch, tmp_path, port: int, collection: str) -> None:
    from ui import state

    for name in [name for name in os.environ if name.startswith("ASSISTANT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ASSISTANT_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("ASSISTANT_CHROMA_PORT", str(port))
    monkeypatch.setenv("ASSISTANT_COLLECTION", collection)
    monkeypatch.setenv("ASSISTANT_UPLOADS_PATH", str(tmp_path / "uploads"))
    monkeypatch.setenv(state.SEEDS_ENV, "")
    embedder = HashingEmbedder()
    monkeypatch.setattr(state, "shared_embedder", lambda settings: embedder)
    state.forget_assistants()


def test_losing_the_server_mid_run_gives_a_clear_error_and_the_next_run_completes(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 12)
    clean = fake_assistant(tmp_path / "clean")
    clean.index_paths([corpus])
    expected = normalized(clean.store)
    close_connections()

    server = ChromaServer(tmp_path / "data", tmp_path / "chroma.log").start()
    try:
        command = [*server.flags, "index", str(corpus)]
        run = subprocess.Popen(  # holds after each write, so the server dies at a known point of the run
            cli_command(*command),
            cwd=tmp_path,
            env=clean_environment(RELIABILITY_PAUSE_AT_WRITES=",".join(str(n) for n in range(1, 500))),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert run.stdin is not None and run.stdout is not None
        store_settings = StoreSettings(host="127.0.0.1", port=server.port)
        while run.stdout.readline().startswith("paused after"):
            if len(ChunkStore(store_settings).documents()) >= 3:
                break
            run.stdin.write("go\n")
            run.stdin.flush()
        server.kill()  # then the run goes on, and its next write finds no server
        out, err = run.communicate(input="go\n", timeout=60)
        assert run.returncode == 1, (out, err)
        assert "Traceback" not in err
        message = err.strip().splitlines()[-1]
        assert message.startswith(f"error: cannot reach the Chroma server at http://127.0.0.1:{server.port}")
        assert "chroma run" in message and "run the same command again" in message
        done = int(re.search(r"(\d+) files were indexed completely", message).group(1))
        assert 2 <= done < 12  # the third was visible, perhaps not yet cleaned up

        close_connections()
        asked = run_cli(*server.flags, "ask", QUESTIONS[0], cwd=tmp_path)  # a question meanwhile: clear error too
        assert asked.returncode == 1 and "error: cannot reach the Chroma server" in asked.stderr, asked.stderr
        _app_environment(monkeypatch, tmp_path, server.port, "documents")
        from streamlit.testing.v1 import AppTest

        from ui import state

        app = AppTest.from_file(str(state.__file__).replace("state.py", "app.py"), default_timeout=120)
        app.run()
        assert not app.exception, app.exception
        assert any("cannot reach the Chroma server" in re.sub(r"\\(.)", r"\1", e.value) for e in app.error)
        state.forget_assistants()

        server = ChromaServer(server.data, server.log, port=server.port).start()  # back on the same port
        assert assert_consistent(ChunkStore(store_settings)) >= done  # what was written is whole
        again = run_cli(*command, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        store = ChunkStore(store_settings)
        assert_same_records(normalized(store), expected)  # as a clean run on a folder writes it
        assert store.pending_writes() == []
    finally:
        server.stop()
