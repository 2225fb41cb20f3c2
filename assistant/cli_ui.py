"""`assistant ui`: start the Streamlit chat window with the command's settings."""

from __future__ import annotations

import ipaddress
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

from assistant.settings import ENV_PREFIX, Settings


def app_path() -> Path:
    """The Streamlit script, ui/app.py, beside the assistant package."""
    return Path(__file__).resolve().parent.parent / "ui" / "app.py"


def settings_environment(settings: Settings) -> dict[str, str]:
    """ASSISTANT_* variables that rebuild `settings` in the app (Settings.from_env)."""
    environment = settings.environment()
    if not settings.chroma_host:  # the app may run elsewhere than the shell: pin the folder
        environment[ENV_PREFIX + "INDEX_PATH"] = str(Path(settings.index_path).expanduser().resolve())
    return environment


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach: 127.x.x.x, ::1 or localhost."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:  # another host name: it may resolve to any address
        return False


def exposure_warning(host: str, port: int) -> str:
    """What binding `host` opens to others, and how to keep the app on this machine."""
    return (
        f"warning: the chat window will listen on {host}:{port}, which is not a loopback address. Anyone who can "
        "reach that address and port can read, add and remove the indexed documents: the app has no sign-in and "
        "no per-user document sets yet. To keep it on this machine only, leave out --host (or use --host 127.0.0.1)."
    )


def ui_command(settings: Settings, host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path()),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",  # no Deploy button or developer menu, wherever the app is started from
        "minimal",
        "--server.maxUploadSize",
        str(max(1, math.ceil(settings.max_file_mb))),
    ]


def run_ui(settings: Settings, host: str = "127.0.0.1", port: int = 8501) -> int:
    """Run the app until it is stopped; returns Streamlit's exit status."""
    if not app_path().is_file():
        print(f"error: the app is missing ({app_path()})", file=sys.stderr)
        return 1
    environment = {**os.environ, **settings_environment(settings)}
    if not is_loopback(host):
        print(exposure_warning(host, port), file=sys.stderr, flush=True)
    print(f"Starting the chat window at http://{host}:{port} (Ctrl-C stops it)", file=sys.stderr, flush=True)
    process = subprocess.Popen(ui_command(settings, host, port), env=environment)
    try:
        return process.wait()
    except KeyboardInterrupt:  # pass the Ctrl-C on (a terminal sends it to both) and let Streamlit shut down
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait()
        return 130
