"""The real `assistant` command with the hashed fake embedder, and fault hooks, for the reliability tests.

    python tests/reliability_cli.py --index DIR index FOLDER     # same arguments as `assistant`

Hooks, read from the environment (all optional):
    RELIABILITY_KILL_AFTER_WRITES=N   SIGKILL this process right after its N-th write call to Chroma returns
    RELIABILITY_PAUSE_AT_WRITES=N,M   after the N-th (M-th, ...) write call returns, print "paused after N writes"
                                      and wait for a line on stdin: the test acts while this process is mid-run
    RELIABILITY_HOLD_AT_EXIT=1        when the command is done, print "done" and wait for stdin to close (a test
                                      that kills at a random moment always finds the process alive)
    RELIABILITY_COUNT_FILE=PATH       at exit, write how many write calls were made
    RELIABILITY_RSS_FILE=PATH         at exit, write the peak resident memory in KiB
    RELIABILITY_VANISH=NAME           delete the file called NAME just before it is loaded
    RELIABILITY_RELAYOUT_BATCH=N      move chunk texts of an earlier index format N records per write (more writes)

The writes counted are the calls of Collection's write methods, and the record updates of index/relayout.py (which
go to Chroma's client below Collection).
"""

from __future__ import annotations

import atexit
import os
import resource
import signal
import sys
import threading
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS.parent), str(TESTS)]

WRITE_METHODS = ("add", "upsert", "update", "delete", "modify")
_writes = 0
_writes_lock = threading.Lock()


def _count_writes(kill_after: int, pauses: set[int]) -> None:
    from chromadb.api.models.Collection import Collection

    import index.relayout

    def counted(original):
        def wrapper(*args, **kwargs):
            global _writes
            result = original(*args, **kwargs)
            with _writes_lock:
                _writes += 1
                if kill_after and _writes >= kill_after:
                    os.kill(os.getpid(), signal.SIGKILL)
                if _writes in pauses:
                    print(f"paused after {_writes} writes", flush=True)
                    sys.stdin.readline()
            return result

        return wrapper

    for name in WRITE_METHODS:
        setattr(Collection, name, counted(getattr(Collection, name)))
    index.relayout.update_records = counted(index.relayout.update_records)


def _vanish(name: str) -> None:
    import index.loaders

    real = index.loaders.load_document

    def load_or_vanish(path, **options):
        if Path(path).name == name:
            Path(path).unlink(missing_ok=True)
        return real(path, **options)

    index.loaders.load_document = load_or_vanish


def _report(count_file: str, rss_file: str) -> None:
    if count_file:
        Path(count_file).write_text(str(_writes))
    if rss_file:
        Path(rss_file).write_text(str(_peak_rss_kib()))


def _peak_rss_kib() -> int:
    """This process's peak resident memory. VmHWM where Linux has it: ru_maxrss also counts the memory of the
    parent this process was forked from (Linux keeps the high-water mark across exec), which hides ours."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str]) -> int:
    from helpers import HashingEmbedder

    from assistant.cli import main as cli_main

    environ = os.environ
    kill_after = int(environ.get("RELIABILITY_KILL_AFTER_WRITES") or 0)
    pauses = {int(n) for n in (environ.get("RELIABILITY_PAUSE_AT_WRITES") or "").split(",") if n}
    _count_writes(kill_after, pauses)
    if environ.get("RELIABILITY_RELAYOUT_BATCH"):
        import index.relayout

        index.relayout.BATCH_CHUNKS = int(environ["RELIABILITY_RELAYOUT_BATCH"])
    if environ.get("RELIABILITY_VANISH"):
        _vanish(environ["RELIABILITY_VANISH"])
    atexit.register(_report, environ.get("RELIABILITY_COUNT_FILE", ""), environ.get("RELIABILITY_RSS_FILE", ""))
    status = cli_main(argv, embedder=HashingEmbedder())
    if environ.get("RELIABILITY_HOLD_AT_EXIT"):
        print("done", flush=True)
        sys.stdin.read()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
