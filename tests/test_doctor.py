"""`assistant doctor`: one line per item (store, index, embedding model, chat model, OCR) or one JSON object; exit
status 0 exactly when questions can be answered; secrets never shown. Everything here talks to 127.0.0.1 only."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import HashingEmbedder

from assistant.cli import main

TOKEN = "doctor-tok-6e1b9a2f4c3d"
API_KEY = "sk-doctor-key-0f8e7d6c5b"
KEYS = {"ready", "store", "index", "embedding_model", "chat_model", "ocr"}


@pytest.fixture(autouse=True)
def _no_assistant_variables(monkeypatch):
    """Only the flags each test gives (and the variables it sets) configure the command."""
    import os

    for name in list(os.environ):
        if name.startswith("ASSISTANT_"):
            monkeypatch.delenv(name)


@pytest.fixture
def indexed(tmp_path, make_assistant, fake_embedder) -> str:
    """An index folder holding one document, written with the hashing embedder."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "boiler.txt").write_text("The boiler was serviced in May by Ferris and Sons.", encoding="utf-8")
    assistant = make_assistant(fake_embedder)
    assert not assistant.index_paths([notes]).failures
    return assistant.settings.index_path


def _doctor(capsys, *arguments: str, embedder=None) -> tuple[int, dict[str, str], str]:
    """Exit status, each item's line by name, and stderr."""
    status = main([*arguments, "doctor"], embedder=embedder)
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    by_name = {line.split(":", 1)[0]: line for line in lines[:-1]}
    assert set(by_name) == {"store", "index", "embedding model", "chat model", "OCR"}, lines
    by_name["verdict"] = lines[-1]
    return status, by_name, captured.err


def _doctor_json(capsys, *arguments: str, embedder=None) -> tuple[int, dict]:
    status = main([*arguments, "doctor", "--json"], embedder=embedder)
    return status, json.loads(capsys.readouterr().out)


def _free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then let go of)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def answering_server() -> Iterator[tuple[int, list[dict[str, str]]]]:
    """An HTTP server on 127.0.0.1 that answers 401 to every request (a proxy refusing the token, or a chat server
    wanting a key); yields its port and the headers of each request it got."""
    seen: list[dict[str, str]] = []

    class Refuse(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the name http.server calls)
            seen.append(dict(self.headers))
            body = b"<html><body>401 Authorization Required</body></html>"
            self.send_response(401, "Unauthorized")
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


def test_an_indexed_folder_is_ready(indexed, capsys, fake_embedder):
    status, lines, err = _doctor(capsys, "--index", indexed, embedder=fake_embedder)
    assert status == 0, lines
    folder = str(Path(indexed).resolve())
    assert lines["store"].split()[1] == "ok" and folder in lines["store"] and "opens" in lines["store"]
    assert lines["index"].split()[1] == "ok"
    assert "format 4 (current 4)" in lines["index"] and "1 document, 1 chunk" in lines["index"]
    assert "embedding model hashing-test, as configured" in lines["index"]
    assert lines["embedding model"].split()[2] == "ok" and "256 dimensions" in lines["embedding model"]
    assert lines["chat model"].split()[2:4] == ["not", "configured"]
    assert lines["verdict"].startswith("ready:")
    assert err == ""

    status, report = _doctor_json(capsys, "--index", indexed, embedder=fake_embedder)
    assert status == 0 and set(report) == KEYS and report["ready"] is True
    assert report["store"] | {"location": folder, "kind": "folder", "status": "ok", "opens": True} == report["store"]
    index = report["index"]
    assert (index["documents"], index["chunks"], index["formats"], index["format_current"]) == (1, 1, [4], 4)
    assert (index["model"], index["configured_model"], index["model_matches"]) == ("hashing-test",) * 2 + (True,)
    assert report["embedding_model"]["loads"] is True and report["embedding_model"]["dimension"] == 256
    assert report["chat_model"] == report["chat_model"] | {"status": "not configured", "model": None}
    assert {"status", "detail", "mode", "languages", "tesseract"} <= set(report["ocr"])


def test_another_embedding_model_than_the_index_records_is_not_ready(indexed, capsys):
    class OtherModel(HashingEmbedder):
        model_id = "another-model"

    status, lines, _ = _doctor(capsys, "--index", indexed, embedder=OtherModel())
    assert status == 1
    assert lines["index"].split()[1] == "mismatch"
    assert "embedding model hashing-test, but another-model is configured" in lines["index"]
    assert lines["verdict"].startswith("not ready") and "index" in lines["verdict"]


def test_the_real_model_loads_offline_and_a_missing_folder_is_not_created(tmp_path, capsys):
    from index.embedding import packaged_model_path

    folder = tmp_path / "not-yet"
    status, report = _doctor_json(capsys, "--index", str(folder))
    assert status == 0 and report["ready"] is True
    assert not folder.exists()  # the doctor looks; it creates nothing
    assert report["store"]["exists"] is False and report["index"]["status"] == "empty"
    model = report["embedding_model"]
    assert model["status"] == "ok" and model["loads"] is True and model["dimension"] == 384
    assert model["model"] == "all-MiniLM-L6-v2" and model["location"] == str(packaged_model_path())
    assert "loads offline from" in model["detail"]


def test_an_embedding_model_that_is_not_there_fails(tmp_path, capsys):
    missing = tmp_path / "no-such-model"
    missing.mkdir()  # a folder without a model in it
    status, lines, _ = _doctor(capsys, "--index", str(tmp_path / "i"), "--embedding-model", str(missing))
    assert status == 1
    assert lines["embedding model"].split()[2] == "failed" and "does not load offline" in lines["embedding model"]
    assert "embedding model" in lines["verdict"]


def test_a_chat_server_that_is_not_there_is_not_reachable_but_not_needed(tmp_path, capsys, fake_embedder):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    flags = ("--index", str(tmp_path / "i"), "--chat-model", "openai:local-model", "--chat-base-url", url)
    status, lines, _ = _doctor(capsys, *flags, embedder=fake_embedder)
    assert status == 0  # extractive answers still work
    assert lines["chat model"].split()[2:4] == ["not", "reachable"]
    assert f"{url} not reachable" in lines["chat model"]
    status, report = _doctor_json(capsys, *flags, embedder=fake_embedder)
    assert report["chat_model"]["reachable"] is False and report["chat_model"]["status"] == "not reachable"


def test_any_http_answer_counts_as_reachable_and_no_key_is_sent(
    tmp_path, capsys, fake_embedder, answering_server, monkeypatch
):
    port, seen = answering_server
    monkeypatch.setenv("ASSISTANT_CHAT_API_KEY", API_KEY)
    url = f"http://127.0.0.1:{port}/v1"
    flags = ("--index", str(tmp_path / "i"), "--chat-model", "openai:local-model", "--chat-base-url", url)
    status, lines, err = _doctor(capsys, *flags, embedder=fake_embedder)
    assert status == 0 and lines["chat model"].split()[2] == "ok"
    assert f"{url} reachable (HTTP 401)" in lines["chat model"] and "API key set" in lines["chat model"]
    assert seen and all("Authorization" not in headers for headers in seen)
    assert API_KEY not in lines["chat model"] + err


def test_a_refused_token_shows_in_one_line_and_no_secret_shows_anywhere(
    tmp_path, capsys, fake_embedder, answering_server, monkeypatch
):
    port, seen = answering_server
    monkeypatch.setenv("ASSISTANT_CHROMA_TOKEN", TOKEN)
    monkeypatch.setenv("ASSISTANT_CHAT_API_KEY", API_KEY)
    flags = ("--chroma-host", "127.0.0.1", "--chroma-port", str(port), "--chat-model", "openai:m")
    flags += ("--chat-base-url", f"http://127.0.0.1:{port}/v1")
    status, lines, err = _doctor(capsys, *flags, embedder=fake_embedder)
    assert status == 1
    store = lines["store"]
    assert store.split()[1:3] == ["not", "reachable"]
    assert f"server http://127.0.0.1:{port}" in store and "TLS off" in store
    assert "token: set (header Authorization)" in store
    assert "the Chroma server refused the credentials" in store and "answered 401" in store
    assert lines["index"].split()[1:3] == ["not", "checked"]
    assert any(headers.get("Authorization") == f"Bearer {TOKEN}" for headers in seen)  # it was sent, not shown
    status, report = _doctor_json(capsys, *flags, embedder=fake_embedder)
    assert status == 1 and report["ready"] is False and set(report) == KEYS
    assert report["store"]["token"] == "set" and report["chat_model"]["api_key"] == "set"
    everything = "\n".join([*lines.values(), err, json.dumps(report), capsys.readouterr().err])
    assert TOKEN not in everything and API_KEY not in everything


def test_ocr_is_optional(tmp_path, capsys, fake_embedder, monkeypatch):
    import index.ocr

    flags = ("--index", str(tmp_path / "i"))
    monkeypatch.setenv("ASSISTANT_OCR", "off")
    status, lines, _ = _doctor(capsys, *flags, embedder=fake_embedder)
    assert status == 0 and lines["OCR"].split()[1:3] == ["not", "configured"] and "ASSISTANT_OCR=off" in lines["OCR"]
    monkeypatch.setenv("ASSISTANT_OCR", "auto")
    monkeypatch.setattr(index.ocr.shutil, "which", lambda name: None)
    index.ocr._installed_languages.cache_clear()
    try:
        status, lines, _ = _doctor(capsys, *flags, embedder=fake_embedder)
    finally:
        index.ocr._installed_languages.cache_clear()
    assert status == 0 and lines["OCR"].split()[1] == "missing" and "Tesseract is not installed" in lines["OCR"]


def test_the_configured_ocr_languages_are_checked(tmp_path, capsys, fake_embedder, monkeypatch):
    import index.ocr

    if index.ocr.missing_languages("eng") != []:
        pytest.skip("Tesseract with English data is not installed (bash .ci/install-tesseract)")
    monkeypatch.setenv("ASSISTANT_OCR_LANG", "eng")
    status, lines, _ = _doctor(capsys, "--index", str(tmp_path / "i"), embedder=fake_embedder)
    assert lines["OCR"].split()[1] == "ok" and "language eng installed" in lines["OCR"]
    monkeypatch.setenv("ASSISTANT_OCR_LANG", "eng+zzz")
    status, lines, _ = _doctor(capsys, "--index", str(tmp_path / "i"), embedder=fake_embedder)
    assert status == 0 and lines["OCR"].split()[1] == "missing"
    assert "lacks zzz" in lines["OCR"] and "tesseract-ocr-zzz" in lines["OCR"]
