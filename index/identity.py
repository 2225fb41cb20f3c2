"""Stable identifiers: the same source and text always give the same ids."""

from __future__ import annotations

import hashlib
from pathlib import Path

from index.models import Document, PageSpan


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def path_source(path: Path) -> str:
    """The source a file is indexed under: its resolved path."""
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):  # e.g. a symlink loop
        return str(path.absolute())


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_id(source: str) -> str:
    """Derive a document id from its source (a resolved path or an upload name)."""
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def chunk_id(doc_id: str, chunk_text: str, ordinal: int) -> str:
    return f"{doc_id}:{ordinal:05d}:{sha256_text(chunk_text)[:12]}"


def make_document(
    source: str,
    title: str,
    text: str,
    pages: tuple[PageSpan, ...] = (),
    *,
    file_type: str = "",
    encoding: str = "",
    file_hash: str = "",
) -> Document:
    """Build a Document with its id and content hash filled in."""
    return Document(
        id=document_id(source),
        source=source,
        title=title,
        text=text,
        sha256=sha256_text(text),
        pages=pages,
        file_type=file_type,
        encoding=encoding,
        file_sha256=file_hash,
    )
