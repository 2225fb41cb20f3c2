"""Helpers shared by the bench scripts: the machine, the load on it, the documents, timing and memory."""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.runtime import prefer_passive_openmp  # noqa: E402

prefer_passive_openmp()  # a bench script owns its process: set before anything imports torch

EVAL_DIR = Path(os.environ.get("EVAL_DATA_DIR", ROOT.parent / "shared" / "eval"))
XQUAD = EVAL_DIR / "squad11-xquad-en" / "xquad.en.json"
SQUAD20 = EVAL_DIR / "squad20-dev-half" / "dev-v2.0.json"
SEEDS = ROOT / "seeds"
BENCH_DIR = Path(os.environ.get("BENCH_DIR", ROOT / "bench" / ".data"))


def machine() -> dict:
    """CPU model, cores, memory, accelerator and library versions, for the record."""
    model = platform.processor() or "unknown"
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
        found = re.search(r"Model name:\s*(.+)", lscpu)
        model = found.group(1).strip() if found else model
    except (OSError, subprocess.SubprocessError):
        pass
    flags = Path("/proc/cpuinfo").read_text(errors="ignore").split() if Path("/proc/cpuinfo").exists() else []
    memory_kb = 0
    if Path("/proc/meminfo").exists():
        found = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
        memory_kb = int(found.group(1)) if found else 0
    info = {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024**2, 1),
        "bf16_instructions": sorted({flag for flag in flags if flag in ("amx_bf16", "avx512_bf16")}),
        "python": platform.python_version(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    except ImportError:
        info["gpu"] = "unknown"
    return info


def load() -> float:
    """The 1-minute load average (2 cores: above 2 means other work is competing for the CPU)."""
    return round(os.getloadavg()[0], 2)


def busy_processes(minimum_cpu: float = 20.0) -> list[str]:
    """Other processes using a noticeable share of a core right now (from `ps`)."""
    try:
        out = subprocess.run(["ps", "-eo", "pid,pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True).stdout
    except OSError:
        return []
    rows = []
    for line in out.splitlines()[1:]:
        pid, cpu, command = line.split(None, 2)
        if int(pid) != os.getpid() and float(cpu) >= minimum_cpu:
            rows.append(f"{command}({cpu}%)")
    return rows


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_parts_mb() -> dict[str, float]:
    """Resident memory of this process now by kind, in MB: anonymous (heap, arrays), file-backed (mapped files,
    pages the system can drop) and shared memory."""
    parts = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("RssAnon:", "RssFile:", "RssShmem:")):
            name, value = line.split()[:2]
            parts[name.rstrip(":")] = round(int(value) / 1024, 1)
    return parts


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1e6


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class Stopwatch:
    """Accumulates seconds per named stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def squad_documents(path: Path = XQUAD):
    """The articles of a SQuAD file as Documents, and its questions."""
    from assistant.evaluation.squad import load_squad

    data = load_squad(path)
    return list(data.documents), list(data.questions)


def seed_documents(folder: Path = SEEDS):
    from index.discovery import discover_files
    from index.loaders import load_document

    return [load_document(found.path) for found in discover_files([folder]) if not found.problem]


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))


def save_result(name: str, data: dict) -> Path:
    """Keep the figures of a run in bench/.data/results/NAME.json (bench/plot.py reads them)."""
    folder = BENCH_DIR / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


@contextmanager
def chroma_served(folder: Path, seconds: float = 300) -> Iterator[int]:
    """`chroma run` over `folder` on 127.0.0.1 and a free port (yielded), stopped by its PID afterwards. Nothing
    else may open the folder meanwhile."""
    import socket
    import urllib.request

    # A fixed port (BENCH_CHROMA_PORT) lets later runs find the lexical index a server-mode process saved: its cache
    # folder is named after the server's address.
    port = int(os.environ.get("BENCH_CHROMA_PORT", "0"))
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a fixed port just left by a server is free
        probe.bind(("127.0.0.1", port))
        port = probe.getsockname()[1]
    command = [str(Path(sys.executable).with_name("chroma")), "run", "--path", str(folder), "--port", str(port)]
    log = open(folder.parent / f"chroma-run-{folder.name}.log", "a")  # noqa: SIM115 - closed below
    server = subprocess.Popen([*command, "--host", "127.0.0.1"], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + seconds
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chroma run over {folder} did not start (see {log.name})")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
