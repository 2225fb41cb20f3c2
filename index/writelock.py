"""One writing process at a time for an on-disk Chroma folder, and a stamp that tells other processes it changed.

Embedded Chroma keeps part of an index in memory. Measured with chromadb 1.5: two processes writing to one folder
(even taking turns) leave records whose vectors cannot be found, and a process that opened the folder before
another process wrote fails on some reads (filtered queries) and corrupts the folder if it then writes. So a
process writes only while it holds an exclusive `flock` on `<folder>/assistant-writer.lock`, reopens its client
when it takes that lock, and every write renews `<folder>/assistant-writer.stamp` so that readers in other
processes know to reopen theirs.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import socket
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from index.errors import IndexBusy, StoreError

LOCK_FILE = "assistant-writer.lock"
STAMP_FILE = "assistant-writer.stamp"


def process_token() -> str:
    """Names this process (pid and a random part) in lock files and write journals."""
    global _TOKEN
    if not _TOKEN.startswith(f"{os.getpid()}-"):  # a forked child is another process
        _TOKEN = f"{os.getpid()}-{secrets.token_hex(6)}"
    return _TOKEN


_TOKEN = ""


class FolderLock:
    """The exclusive writer lock of one folder, held by this process while any of its threads writes."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / LOCK_FILE
        self._mutex = threading.Lock()
        self._holders = 0
        self._handle: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._holders > 0

    def acquire(self) -> bool:
        """Hold the lock (threads of this process share it); True when this call took it from another process.

        Raises IndexBusy when another process holds it.
        """
        with self._mutex:
            if self._holders:
                self._holders += 1
                return False
            try:
                handle = self.path.open("a+", encoding="utf-8")
            except OSError as error:
                raise StoreError(f"cannot write to the index at {self.folder}: {error.strerror or error}") from None
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise IndexBusy(busy_message(self.folder, self.holder())) from None
            except OSError as error:  # e.g. a network file system without locks
                handle.close()
                raise StoreError(
                    f"cannot lock the index at {self.folder} for writing ({error.strerror or error}); keep the "
                    "index on a local disk, or use a Chroma server (see docs/server-mode.md)"
                ) from None
            handle.seek(0)
            previous = _parse(handle.read())
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(_holder_record()))
            handle.flush()
            self._handle = handle
            self._holders = 1
            return previous.get("token") != process_token()

    def release(self) -> None:
        with self._mutex:
            self._holders -= 1
            if self._holders == 0 and self._handle is not None:
                fcntl.flock(self._handle, fcntl.LOCK_UN)
                self._handle.close()
                self._handle = None

    def holder(self) -> str:
        """Who holds (or last held) the lock, in words."""
        try:
            record = _parse(self.path.read_text(encoding="utf-8"))
        except OSError:
            record = {}
        if not record.get("pid"):
            return "another process"
        where = "" if record.get("host") == socket.gethostname() else f" on {record.get('host')}"
        return f"process {record['pid']}{where} (`{record.get('command', '?')}`, writing since {record.get('since')})"


def busy_message(folder: Path, holder: str) -> str:
    return (
        f"the index at {folder} is being written by {holder}. An on-disk index takes one writing process at a "
        "time: wait for it to finish and run this again, or let a Chroma server hold the index so that several "
        f"processes can write at once (`chroma run --path {folder} --port 8000`, then --chroma-host 127.0.0.1; "
        "see docs/server-mode.md)"
    )


def read_stamp(folder: Path) -> str:
    """The stamp of the last write to the folder ("" when none was recorded)."""
    try:
        return (folder / STAMP_FILE).read_text(encoding="utf-8")
    except OSError:
        return ""


def renew_stamp(folder: Path) -> str:
    """Record that the folder changed (atomically); returns the new stamp."""
    stamp = f"{process_token()}:{secrets.token_hex(8)}"
    temporary = folder / f".{STAMP_FILE}.{os.getpid()}.{threading.get_ident()}"
    temporary.write_text(stamp, encoding="utf-8")
    os.replace(temporary, folder / STAMP_FILE)
    return stamp


def _holder_record() -> dict[str, object]:
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv and sys.argv[0] else "python"
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "token": process_token(),
        "command": command if len(command) <= 120 else command[:117] + "...",
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _parse(text: str) -> dict[str, object]:
    try:
        record = json.loads(text)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}
