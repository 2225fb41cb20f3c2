"""Reports of damaged documents: a question that finds a document's stored chunks do not rebuild its text (a record
altered or lost in Chroma) reports it here, and the next indexing run indexes it again from its file.

A report names the document and the version (content hash) found damaged. Beside an on-disk index the reports are
a small JSON file (a process that only reads may not write to the Chroma folder); on a Chroma server, a collection
`<name>-damaged`.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Protocol

from index.chroma_client import CollectionMissing, Collections, Connection


class DamageReports(Protocol):
    def report(self, document_id: str, sha256: str, reason: str) -> None:
        """Record that this version of the document could not be read back whole."""
        ...

    def reported(self) -> dict[str, tuple[str, str]]:
        """Reported documents: id -> (the damaged version's sha256, why)."""
        ...

    def clear(self, document_ids: set[str]) -> None:
        """Forget the reports of these documents (indexed again, or removed)."""
        ...


def damage_reports(connection: Connection, collection: str) -> DamageReports:
    if connection.folder is not None:
        return FileReports(connection.folder / f"assistant-damaged-{collection}.json")
    return CollectionReports(connection, f"{collection}-damaged")


class FileReports:
    """Reports in a JSON file beside an on-disk index (replaced atomically; a lost report is made again)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def report(self, document_id: str, sha256: str, reason: str) -> None:
        with self._lock:
            reports = self._read()
            reports[document_id] = {"sha256": sha256, "reason": reason}
            self._write(reports)

    def reported(self) -> dict[str, tuple[str, str]]:
        with self._lock:
            return {key: (str(value["sha256"]), str(value["reason"])) for key, value in self._read().items()}

    def clear(self, document_ids: set[str]) -> None:
        with self._lock:
            reports = self._read()
            if document_ids & set(reports):
                self._write({key: value for key, value in reports.items() if key not in document_ids})

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {key: value for key, value in data.items() if isinstance(value, dict)} if isinstance(data, dict) else {}

    def _write(self, reports: dict[str, dict[str, Any]]) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        temporary.write_text(json.dumps(reports, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)


class CollectionReports:
    """Reports in a collection of a Chroma server (any client may write there)."""

    def __init__(self, connection: Connection, name: str):
        self._connection = connection
        self._name = name

    def report(self, document_id: str, sha256: str, reason: str) -> None:
        record = {"ids": [document_id], "embeddings": [[1.0]], "metadatas": [{"sha256": sha256, "reason": reason}]}
        self._connection.run(lambda c: c(self._name, {}).upsert(**record), "reporting a damaged document")

    def reported(self) -> dict[str, tuple[str, str]]:
        try:
            ids, metadatas = self._connection.run(self._all, "reading the damaged-document reports")
        except CollectionMissing:
            return {}
        return {doc_id: (str(m["sha256"]), str(m["reason"])) for doc_id, m in zip(ids, metadatas, strict=False)}

    def clear(self, document_ids: set[str]) -> None:
        if not document_ids:
            return
        ids = sorted(document_ids)
        try:
            self._connection.run(lambda c: c(self._name).delete(ids=ids), "clearing damaged-document reports")
        except CollectionMissing:
            pass

    def _all(self, collections: Collections) -> tuple[list[str], list[dict[str, Any]]]:
        records = collections(self._name).get(include=["metadatas"])
        return records["ids"], records["metadatas"] or []
