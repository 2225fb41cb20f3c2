"""A Chroma server behind a proxy that checks a token and serves TLS: a real `chroma run` and a real nginx on
127.0.0.1 with a self-signed certificate. The right token works end to end (index, ask, the app); a wrong or
missing token and an unknown certificate are refused with one line; the token never shows in any output."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import HashingEmbedder
from reliability_support import chroma_server, free_port, run_cli, stop, write_corpus

from assistant.core import Assistant
from assistant.settings import Settings
from index.chroma_client import connection_for
from index.errors import CertificateRefused, CredentialsRefused

TOKEN = "tok-3f9a1c77e2b54d08a6c1"
API_KEY = "sk-chat-key-5b7e19d2c4a8"
HEADER_TOKEN = "hdr-8c2d4e6f0a1b3c5d7e9f"
QUESTION = "When was Project zeta1 approved by the council?"


def _tool(name: str) -> str:
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}",) if os.access(p, os.X_OK)), None)
    if found is None:
        reason = f"{name} is not installed (bash .ci/install-nginx installs nginx and openssl)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the proxy tests need {reason} under CI=true")
        pytest.skip(reason)
    return found


@dataclass
class Proxy:
    port: int  # checks Authorization: Bearer TOKEN
    header_port: int  # checks X-Api-Key: HEADER_TOKEN
    ca_file: Path

    def flags(self, port: int | None = None) -> list[str]:
        return ["--chroma-host", "127.0.0.1", "--chroma-port", str(port or self.port), "--chroma-ssl"]


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [_tool("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _server_block(port: int, check: str, cert: Path, key: Path, chroma_port: int) -> str:
    return f"""
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        client_max_body_size 64m;
        location / {{
            if ({check}) {{ return 401; }}
            proxy_pass http://127.0.0.1:{chroma_port};
            proxy_http_version 1.1;
            proxy_set_header Host $host;
        }}
    }}"""


def _nginx_config(folder: Path, proxy: Proxy, cert: Path, key: Path, chroma_port: int) -> Path:
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    blocks = _server_block(proxy.port, f'$http_authorization != "Bearer {TOKEN}"', cert, key, chroma_port)
    blocks += _server_block(proxy.header_port, f'$http_x_api_key != "{HEADER_TOKEN}"', cert, key, chroma_port)
    config = folder / "nginx.conf"
    config.write_text(
        f"""{user}
daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log stderr;
events {{ worker_connections 64; }}
http {{
    access_log off;
{temp}
{blocks}
}}
"""
    )
    return config


def _wait_for(port: int, process: subprocess.Popen, log: Path, seconds: float = 20) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nginx did not listen in {seconds}s")


@pytest.fixture(scope="module")
def proxy(tmp_path_factory) -> Iterator[Proxy]:
    nginx = _tool("nginx")
    work = tmp_path_factory.mktemp("proxied-chroma")
    cert, key = _certificate(work)
    with chroma_server(work / "data", work / "chroma.log") as chroma:
        running = Proxy(free_port(), free_port(), cert)
        config = _nginx_config(work, running, cert, key, chroma.port)
        log = work / "nginx.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                [nginx, "-c", str(config), "-p", str(work), "-e", "stderr"], stdout=output, stderr=subprocess.STDOUT
            )
        try:
            _wait_for(running.port, process, log)
            _wait_for(running.header_port, process, log)
            yield running
        finally:
            stop(process)


def _settings(proxy: Proxy, collection: str, **changes) -> Settings:
    values = {
        "chroma_host": "127.0.0.1",
        "chroma_port": proxy.port,
        "chroma_ssl": True,
        "chroma_ca_file": str(proxy.ca_file),
        "chroma_token": TOKEN,
        "collection": collection,
        **changes,
    }
    return Settings(**values)


def _secret_free(*texts: str) -> None:
    for text in texts:
        for secret in (TOKEN, API_KEY, HEADER_TOKEN):
            assert secret not in text, f"a secret was shown: {text[:500]}"


def _refused(result: subprocess.CompletedProcess, words: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    _secret_free(result.stdout, result.stderr)


def test_the_right_token_works_end_to_end_from_python_and_the_command_line(proxy, tmp_path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 4)
    assistant = Assistant(_settings(proxy, "api-docs"), embedder=HashingEmbedder())
    assert assistant.index_paths([corpus]).count("added") == 4
    answer = assistant.ask(QUESTION)
    assert answer.citations and all(
        assistant.document_text(c.document_id)[c.start : c.end] == c.quote for c in answer.citations
    )
    # a token revoked while the process runs: the next call is refused with the same line, not the proxy's page
    session = connection_for(assistant.settings.store_settings())._client._server._session
    session.headers["Authorization"] = "Bearer revoked"
    with pytest.raises(CredentialsRefused, match="^the Chroma server refused the credentials: .* 401"):
        assistant.ask(QUESTION)
    environment = {"ASSISTANT_CHROMA_TOKEN": TOKEN, "ASSISTANT_CHAT_API_KEY": API_KEY}
    flags = [*proxy.flags(), "--chroma-ca-file", str(proxy.ca_file), "--collection", "cli-docs"]
    indexed = run_cli(*flags, "index", str(corpus), cwd=tmp_path, **environment)
    assert indexed.returncode == 0 and "4 added" in indexed.stdout, indexed.stderr
    asked = run_cli(*flags, "ask", "--json", QUESTION, cwd=tmp_path, **environment)
    assert asked.returncode == 0 and json.loads(asked.stdout)["citations"], asked.stderr
    listed = run_cli(*flags, "sources", "--json", cwd=tmp_path, **environment)
    assert listed.returncode == 0, listed.stderr
    _secret_free(indexed.stdout, indexed.stderr, asked.stdout, asked.stderr, listed.stdout, listed.stderr)
    # an https:// URL as the host, and the token in a flag, work the same
    url = f"https://127.0.0.1:{proxy.port}"
    by_url = run_cli(
        "--chroma-host", url, "--chroma-token", TOKEN, "--chroma-ca-file", str(proxy.ca_file), "--collection",
        "cli-docs", "sources", cwd=tmp_path,
    )  # fmt: skip
    assert by_url.returncode == 0 and "4 documents" in by_url.stdout, by_url.stderr
    assert not (tmp_path / ".chroma").exists()


def test_another_header_carries_the_bare_token(proxy, tmp_path):
    write_corpus(tmp_path / "corpus", 2)
    settings = _settings(proxy, "header-docs", chroma_port=proxy.header_port, chroma_token=HEADER_TOKEN)
    settings = settings.with_changes(chroma_token_header="X-Api-Key")
    assistant = Assistant(settings, embedder=HashingEmbedder())
    assert assistant.index_paths([tmp_path / "corpus"]).count("added") == 2
    with pytest.raises(CredentialsRefused, match="refused the credentials"):  # the Bearer form is not what it checks
        Assistant(settings.with_changes(chroma_token_header="Authorization"), embedder=HashingEmbedder()).sources()


@pytest.mark.parametrize("token", ["wrong-token-value", ""], ids=["wrong", "missing"])
def test_a_wrong_or_missing_token_is_refused_with_one_line(proxy, tmp_path, token):
    write_corpus(tmp_path / "corpus", 2)
    flags = [*proxy.flags(), "--chroma-ca-file", str(proxy.ca_file), "--collection", "refused"]
    environment = {"ASSISTANT_CHROMA_TOKEN": token} if token else {}
    for command in (["index", str(tmp_path / "corpus")], ["ask", QUESTION], ["sources"]):
        result = run_cli(*flags, *command, cwd=tmp_path, **environment)
        _refused(result, "the Chroma server refused the credentials: ")
        assert ("no token is set" in result.stderr) == (not token)
        assert token == "" or token not in result.stderr
    with pytest.raises(CredentialsRefused) as raised:
        Assistant(_settings(proxy, "refused", chroma_token=token), embedder=HashingEmbedder()).sources()
    assert str(raised.value).startswith("the Chroma server refused the credentials: ")


def test_an_unknown_certificate_is_refused(proxy, tmp_path):
    result = run_cli(*proxy.flags(), "--collection", "untrusted", "sources", cwd=tmp_path, ASSISTANT_CHROMA_TOKEN=TOKEN)
    _refused(result, "certificate")
    assert "ASSISTANT_CHROMA_CA_FILE" in result.stderr and "(self-signed certificate)" in result.stderr
    with pytest.raises(CertificateRefused, match="not trusted"):
        Assistant(_settings(proxy, "untrusted", chroma_ca_file=""), embedder=HashingEmbedder()).sources()
    missing = run_cli(
        *proxy.flags(), "--chroma-ca-file", str(tmp_path / "none.pem"), "sources", cwd=tmp_path,
        ASSISTANT_CHROMA_TOKEN=TOKEN,
    )  # fmt: skip
    _refused(missing, "does not exist")


def test_the_app_on_a_proxied_server(proxy, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from ui import state

    write_corpus(tmp_path / "corpus", 3)
    Assistant(_settings(proxy, "app-docs"), embedder=HashingEmbedder()).index_paths([tmp_path / "corpus"])
    for name in [name for name in os.environ if name.startswith("ASSISTANT_")]:
        monkeypatch.delenv(name)
    environment = {
        "ASSISTANT_CHROMA_HOST": f"https://127.0.0.1:{proxy.port}",
        "ASSISTANT_CHROMA_TOKEN": TOKEN,
        "ASSISTANT_CHROMA_CA_FILE": str(proxy.ca_file),
        "ASSISTANT_COLLECTION": "app-docs",
        "ASSISTANT_UPLOADS_PATH": str(tmp_path / "uploads"),
        "ASSISTANT_CHAT_API_KEY": API_KEY,
        state.SEEDS_ENV: "",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    embedder = HashingEmbedder()
    monkeypatch.setattr(state, "shared_embedder", lambda settings: embedder)
    state.forget_assistants()
    app = AppTest.from_file(str(state.__file__).replace("state.py", "app.py"), default_timeout=120)
    app.run()
    assert not app.exception, app.exception
    app.chat_input(key="question").set_value(QUESTION).run()
    assert not app.exception, app.exception
    answer = app.session_state[state.CONVERSATION][-1].answer
    assert answer.answered and answer.citations
    shown = [str(element.value) for kind in ("caption", "markdown", "error", "warning") for element in app.get(kind)]
    _secret_free(*shown)
    state.forget_assistants()


def test_the_token_and_the_chat_key_never_show(tmp_path, monkeypatch, capsys, caplog):
    settings = Settings(chroma_host="127.0.0.1", chroma_token=TOKEN, chat_api_key=API_KEY)
    _secret_free(repr(settings), str(settings), repr(settings.store_settings()), settings.store_settings().location)
    assert Settings.from_env(settings.environment()) == settings  # the app still gets them (never printed)
    # eval writes its settings into --out and --json: neither holds the secrets
    from assistant.evaluation.command import add_eval_command, run_eval_command

    squad = tmp_path / "tiny.json"
    context = "The Nile is a river in Africa. It flows north into the Mediterranean Sea."
    qas = [{"id": "q1", "question": "Where does the Nile flow?", "answers": [{"text": "north", "answer_start": 40}]}]
    squad.write_text(json.dumps({"data": [{"title": "Nile", "paragraphs": [{"context": context, "qas": qas}]}]}))
    monkeypatch.setenv("ASSISTANT_CHROMA_TOKEN", TOKEN)
    monkeypatch.setenv("ASSISTANT_CHAT_API_KEY", API_KEY)
    monkeypatch.chdir(tmp_path)
    import argparse

    parser = argparse.ArgumentParser()
    add_eval_command(parser.add_subparsers(dest="command"))
    assert run_eval_command(parser.parse_args(["eval", str(squad), "--json", "--out", str(tmp_path / "out")])) == 0
    captured = capsys.readouterr()
    files = [path.read_bytes().decode("latin-1") for path in (tmp_path / "out").iterdir()]
    _secret_free(captured.out, captured.err, caplog.text, *files)
