"""The write journal: an entry names each document write in progress and its writer, so a later run can tell
the leftovers of a writer that died from the work of one still running."""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.writelock import process_token

LEASE_SECONDS = 600.0  # an entry not renewed for this long belongs to a writer that is gone
HEARTBEAT_SECONDS = 60.0

_in_flight: set[str] = set()
_in_flight_lock = threading.Lock()


@dataclass(frozen=True)
class Entry:
    """One write in progress: `sha256` is the version being written ("" for a removal)."""

    id: str
    document_id: str
    sha256: str
    host: str
    pid: int
    token: str
    started: str
    heartbeat: float

    @classmethod
    def from_record(cls, entry_id: str, metadata: dict[str, Any]) -> Entry:
        return cls(
            id=entry_id,
            document_id=str(metadata.get("document_id", "")),
            sha256=str(metadata.get("sha256", "")),
            host=str(metadata.get("host", "")),
            pid=int(metadata.get("pid", 0)),
            token=str(metadata.get("token", "")),
            started=str(metadata.get("started", "")),
            heartbeat=float(metadata.get("heartbeat", 0.0)),
        )

    def metadata(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "sha256": self.sha256,
            "host": self.host,
            "pid": self.pid,
            "token": self.token,
            "started": self.started,
            "heartbeat": self.heartbeat,
        }


def begin(document_id: str, sha256: str) -> Entry:
    """A new entry for a write by this process, marked in flight until `finish`."""
    entry = Entry(
        id=f"{document_id}@{secrets.token_hex(8)}",
        document_id=document_id,
        sha256=sha256,
        host=socket.gethostname(),
        pid=os.getpid(),
        token=process_token(),
        started=_start_time(os.getpid()),
        heartbeat=time.time(),
    )
    with _in_flight_lock:
        _in_flight.add(entry.id)
    return entry


def finish(entry: Entry) -> None:
    with _in_flight_lock:
        _in_flight.discard(entry.id)


def is_live(entry: Entry, *, sole_writer: bool) -> bool:
    """Whether the entry's writer may still be writing.

    `sole_writer`: this process holds the folder's writer lock, so no other process can be writing.
    """
    with _in_flight_lock:
        if entry.id in _in_flight:
            return True
    if sole_writer or entry.token == process_token():
        return False
    if entry.host == socket.gethostname() and not _alive(entry.pid, entry.started):
        return False
    return time.time() - entry.heartbeat < LEASE_SECONDS


def _alive(pid: int, started: str) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not started or _start_time(pid) in ("", started)  # a reused pid has another start time


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or "" where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""
