"""Concurrent use of one on-disk index: questions while another process indexes, a second writing process
turned away with a clear message, and several app sessions at once (questions while others upload)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import MagicMock

import pytest
from helpers import HashingEmbedder
from reliability_support import (
    assert_answers_verbatim,
    assert_consistent,
    clean_environment,
    cli_command,
    fake_assistant,
    figure,
    integrity_problem,
    run_cli,
    store_settings,
    topic_text,
    write_corpus,
)

from index.chroma_client import close_connections
from index.errors import IndexBusy
from index.store import ChunkStore

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "ui" / "app.py"


def _about(answer, number: int) -> bool:
    """The answer's passages include the one document that states Project zeta<number>'s approval."""
    return any(f"Project zeta{number} was approved" in passage.text for passage in answer.passages)


def _finds(assistant, number: int) -> bool:
    """The assistant's lexical index (rebuilt when the store changes) holds Project zeta<number>."""
    hits = assistant.snapshot().lexical.search(f"zeta{number}", 1)
    return bool(hits) and f"Project zeta{number} was approved" in hits[0][0].chunk.text


def _big_files(folder: Path, files: int, first: int, seed: int = 0) -> None:
    """`files` files of 20 topics each (about 80 chunks a file), topics numbered from `first`."""
    folder.mkdir(exist_ok=True)
    for number in range(files):
        topics = range(first + number * 20, first + number * 20 + 20)
        text = "\n\n".join(topic_text(topic, 6, seed) for topic in topics)
        (folder / f"part-{number:02d}.txt").write_text(text, encoding="utf-8")


def test_questions_while_another_process_indexes_and_a_second_writer_is_turned_away(tmp_path):
    """This process indexes, then asks while another process indexes more (held at chosen writes), then
    writes again. Sizes matter: without reopening its client, this process corrupts the folder here
    (measured: "Error finding id" on reading the vectors back)."""
    index = tmp_path / "index"
    first, second = tmp_path / "first", tmp_path / "second"
    _big_files(first, 5, 0)
    _big_files(second, 10, 1000)
    reader = fake_assistant(index)
    reader.index_paths([first])
    assert_answers_verbatim(reader, "When was Project zeta1 approved by the council?")
    # The other process writes each (new) file of `second` with 5 Chroma writes; it holds its run at these moments,
    # mid-file (file 2, 5 and 8 written but not yet visible), while this process checks and asks.
    pauses = (7, 22, 37)
    writer = subprocess.Popen(
        cli_command("--index", str(index), "index", str(second)),
        cwd=tmp_path,
        env=clean_environment(RELIABILITY_PAUSE_AT_WRITES=",".join(map(str, pauses))),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdin is not None and writer.stdout is not None
    seen, refused = [], None
    for pause in pauses:
        assert writer.stdout.readline().strip() == f"paused after {pause} writes"
        assert_answers_verbatim(reader, "When was Project zeta1 approved by the council?")
        assert _finds(reader, 1)
        assert_answers_verbatim(reader, "What was the budget of Project zeta1015?")
        seen.append(assert_consistent(reader.store))
        if refused is None:
            with pytest.raises(IndexBusy) as caught:  # this process may not write meanwhile
                reader.index_paths([first])
            refused = str(caught.value)
            other = run_cli("--index", str(index), "index", str(first), cwd=tmp_path)  # nor may a third process
            assert other.returncode == 1 and "Traceback" not in other.stderr
            assert "is being written by process" in other.stderr and "chroma run" in other.stderr, other.stderr
            question = "What was the budget of Project zeta3?"  # and `assistant ask` in a process of its own works
            cli_ask = run_cli("--index", str(index), "ask", "--json", question, cwd=tmp_path)
            assert cli_ask.returncode == 0, cli_ask.stderr
            assert json.loads(cli_ask.stdout)["passages"], (cli_ask.stdout, cli_ask.stderr)
        writer.stdin.write("go\n")
        writer.stdin.flush()
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert "server" in refused and "docs/server-mode.md" in refused
    figure("documents visible at each check", seen)
    assert seen == [6, 9, 12], "a document appears when it is complete, and never vanishes"

    assert len(reader.sources()) == 15, "the reader sees everything the other process wrote"
    assert _finds(reader, 1015)
    _big_files(first, 5, 0, seed=1)  # every file of the first part changes: new chunks in, old ones out
    assert reader.index_paths([first]).count("updated") == 5  # and it may write again once the other is done
    assert assert_consistent(ChunkStore(store_settings(index))) == 15
    close_connections()
    assert integrity_problem(index) == ""


@contextmanager
def _one_runtime_for_parallel_app_tests(monkeypatch) -> Iterator[None]:
    """AppTest puts a process-wide mock Runtime in place around each run and removes it after, so runs in
    parallel threads pull it from under each other ("Runtime hasn't been created!"). Keep one for the test."""
    import streamlit.testing.v1.app_test as app_test
    from streamlit.components.v2.component_manager import BidiComponentManager
    from streamlit.runtime import Runtime
    from streamlit.runtime.caching.storage.dummy_cache_storage import MemoryCacheStorageManager
    from streamlit.runtime.dataframe_source_manager import DataframeSourceManager
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1.util import patch_config_options

    runtime = MagicMock(spec=Runtime)
    runtime.media_file_mgr = MediaFileManager(MemoryMediaFileStorage("/mock/media"))
    runtime.dataframe_source_mgr = DataframeSourceManager()
    runtime.cache_storage_manager = MemoryCacheStorageManager()
    runtime.bidi_component_registry = BidiComponentManager()
    monkeypatch.setattr(Runtime, "_instance", runtime)
    monkeypatch.setattr(app_test, "Runtime", SimpleNamespace(_instance=None))  # AppTest's swaps land here
    monkeypatch.setattr(app_test, "patch_config_options", lambda options: nullcontext())
    # Each run compiles the script anew (ast.parse, then compile), and CPython 3.11's AST conversion is not safe in
    # two threads at once ("SystemError: AST constructor recursion depth mismatch"): one compilation at a time.
    compiling = threading.Lock()
    real_bytecode = ScriptCache.get_bytecode

    def one_at_a_time(self, script_path):
        with compiling:
            return real_bytecode(self, script_path)

    monkeypatch.setattr(ScriptCache, "get_bytecode", one_at_a_time)
    with patch_config_options({"global.appTest": True}):
        yield


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_app_sessions_ask_and_upload_at_the_same_time(tmp_path, monkeypatch):
    """Four browser sessions at once (Streamlit AppTest in threads, sharing the cached Assistant): two ask three
    questions each while two upload and index files, then ask; no error, and each conversation holds only its own
    questions (the retrieval query of a follow-up is built from the session's own history: no other's words)."""
    from streamlit.testing.v1 import AppTest

    from ui import state

    for name in [name for name in os.environ if name.startswith("ASSISTANT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ASSISTANT_INDEX_PATH", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_UPLOADS_PATH", str(tmp_path / "uploads"))
    monkeypatch.setenv(state.SEEDS_ENV, "")
    embedder = HashingEmbedder()
    monkeypatch.setattr(state, "shared_embedder", lambda settings: embedder)
    state.forget_assistants()
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 6)
    fake_assistant(tmp_path / "index").index_paths([corpus])

    start = threading.Barrier(4)
    failures: list[str] = []
    sessions = {"a": [0, 1, 2], "b": [3, 4, 5], "c": [30, 31], "d": [32, 33]}
    # The first upload's write waits until session a has been answered while it waits: an answer during indexing.
    uploading, answered_meanwhile = threading.Event(), threading.Event()
    during_upload: list[str] = []
    real_write = ChunkStore.write_documents

    def write_once_a_question_was_answered(self, writes, *facts):
        if not uploading.is_set():
            uploading.set()
            if not answered_meanwhile.wait(timeout=100):
                failures.append("no question was answered while an upload was being indexed")
        return real_write(self, writes, *facts)

    monkeypatch.setattr(ChunkStore, "write_documents", write_once_a_question_was_answered)

    def check_conversation(app, name: str, questions: list[str]) -> None:
        if app.exception:
            failures.append(f"{name}: {app.exception}")
            return
        exchanges = app.session_state[state.CONVERSATION]
        if [exchange.question for exchange in exchanges] != questions:
            failures.append(f"{name}: conversation mixed up: {[exchange.question for exchange in exchanges]}")
        others = {f"zeta{n}" for other, numbers in sessions.items() if other != name for n in numbers}
        for exchange in exchanges:
            answer = exchange.answer
            words = set(re.findall(r"zeta\d+", answer.query))
            if answer.question != exchange.question or words & others:
                failures.append(f"{name}: {exchange.question!r} answered as {answer.question!r} ({answer.query!r})")

    def asker(name: str) -> None:
        app = AppTest.from_file(str(APP), default_timeout=120)
        start.wait()
        app.run()
        questions = [f"When was Project zeta{number} approved by the council?" for number in sessions[name]]
        for number, question in enumerate(questions):
            if name == "a" and number == 1 and uploading.wait(timeout=100):
                app.chat_input(key="question").set_value(question).run()
                if not answered_meanwhile.is_set() and app.session_state[state.CONVERSATION][-1].answer.citations:
                    during_upload.append(question)
                answered_meanwhile.set()
            else:
                app.chat_input(key="question").set_value(question).run()
            if app.exception:
                break
        if name == "a":
            answered_meanwhile.set()  # never leave the upload waiting
        check_conversation(app, name, questions)

    def uploader(name: str) -> None:
        app = AppTest.from_file(str(APP), default_timeout=120)
        start.wait()
        app.run()
        files = [(f"upload-{n}.txt", topic_text(n).encode(), "text/plain") for n in sessions[name]]
        app.file_uploader[0].set_value(files)
        app.button(key="FormSubmitter:upload-Index uploaded files").click().run()
        messages = [re.sub(r"\\(.)", r"\1", element.value) for element in app.success]
        if app.exception or len(messages) != len(files) or not all(": added" in message for message in messages):
            failures.append(f"{name}: upload: {app.exception} {messages} {[e.value for e in app.error]}")
        question = f"When was Project zeta{sessions[name][0]} approved by the council?"
        app.chat_input(key="question").set_value(question).run()
        check_conversation(app, name, [question])

    with _one_runtime_for_parallel_app_tests(monkeypatch):
        threads = [threading.Thread(target=asker if name in "ab" else uploader, args=(name,)) for name in sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    state.forget_assistants()
    assert not any(thread.is_alive() for thread in threads), "a session hung"
    assert failures == []
    assert during_upload == ["When was Project zeta1 approved by the council?"], "answered, with a quote, mid-upload"
    store = ChunkStore(store_settings(tmp_path / "index"))
    assert assert_consistent(store) == 10
    assert store.pending_writes() == []
    assert _finds(fake_assistant(tmp_path / "index"), 31)
