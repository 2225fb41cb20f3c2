"""`assistant ui` starts Streamlit on ui/app.py with the command's settings passed through ASSISTANT_* variables."""

import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import build_parser, main
from assistant.cli_ui import app_path, settings_environment, ui_command
from assistant.settings import Settings


def test_the_environment_rebuilds_the_settings(tmp_path):
    settings = Settings(index_path=str(tmp_path / "idx"), collection="notes", top_k=7, chat_model="ollama:x")
    environment = settings_environment(settings)
    assert Settings.from_env(environment) == settings
    relative = settings_environment(Settings(index_path="rel-index"))
    assert Path(relative["ASSISTANT_INDEX_PATH"]).is_absolute()


def test_the_command_binds_the_host_and_port_headless():
    command = ui_command(Settings(), "127.0.0.1", 8600)
    assert command[:5] == [sys.executable, "-m", "streamlit", "run", str(app_path())]
    assert app_path() == Path(__file__).resolve().parent.parent / "ui" / "app.py" and app_path().is_file()
    pairs = dict(zip(command[5::2], command[6::2], strict=True))
    assert pairs["--server.address"] == "127.0.0.1"
    assert pairs["--server.port"] == "8600"
    assert pairs["--server.headless"] == "true"
    assert pairs["--browser.gatherUsageStats"] == "false"
    assert pairs["--client.toolbarMode"] == "minimal"  # no Deploy button or developer menu


def test_ui_defaults_to_localhost():
    args = build_parser().parse_args(["ui"])
    assert (args.host, args.port) == ("127.0.0.1", 8501)


def test_run_ui_passes_flags_and_returns_the_exit_status(monkeypatch, tmp_path):
    seen = {}

    class FakeProcess:
        def __init__(self, command, env):
            seen["command"], seen["env"] = command, env

        def wait(self, timeout=None):
            return 3

    monkeypatch.setattr(subprocess, "Popen", FakeProcess)
    monkeypatch.delenv("ASSISTANT_COLLECTION", raising=False)
    status = main(["--index", str(tmp_path / "i"), "--collection", "mine", "ui", "--port", "8700"])
    assert status == 3
    assert seen["env"]["ASSISTANT_INDEX_PATH"] == str((tmp_path / "i").resolve())
    assert seen["env"]["ASSISTANT_COLLECTION"] == "mine"
    assert "8700" in seen["command"] and "127.0.0.1" in seen["command"]


def _run_ui_capturing(monkeypatch, capsys, tmp_path, *flags: str) -> tuple[list[str], str]:
    """Run `assistant ui` with Streamlit replaced: the command it would start, and what it printed on stderr."""
    started = []

    class FakeProcess:
        def __init__(self, command, env):
            started.append(command)

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakeProcess)
    assert main(["--index", str(tmp_path / "i"), "ui", *flags]) == 0
    assert len(started) == 1
    return started[0], capsys.readouterr().err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "notes.example.org"])
def test_binding_another_address_warns_that_anyone_reaching_it_can_use_the_documents(
    monkeypatch, capsys, tmp_path, host
):
    command, err = _run_ui_capturing(monkeypatch, capsys, tmp_path, "--host", host, "--port", "8702")
    assert command[command.index("--server.address") + 1] == host  # it still starts, as asked
    warning = err.splitlines()[0]
    assert warning.startswith(f"warning: the chat window will listen on {host}:8702, which is not a loopback")
    assert "Anyone who can reach that address and port can read, add and remove the indexed documents" in warning
    assert "no per-user document sets yet" in warning
    assert "leave out --host (or use --host 127.0.0.1)" in warning
    assert err.index("warning:") < err.index("Starting the chat window")


@pytest.mark.parametrize("flags", [(), ("--host", "127.0.0.1"), ("--host", "127.0.1.1"), ("--host", "localhost"),
                                   ("--host", "::1"), ("--host", "[::1]")])  # fmt: skip
def test_a_loopback_address_starts_without_a_warning(monkeypatch, capsys, tmp_path, flags):
    command, err = _run_ui_capturing(monkeypatch, capsys, tmp_path, *flags)
    assert "warning" not in err.lower()
    assert err.startswith("Starting the chat window at http://")
