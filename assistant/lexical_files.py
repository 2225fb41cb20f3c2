"""The lexical index saved beside an on-disk index, in `<index folder>/assistant-lexical/<collection>/`, so that
a new process loads it instead of re-reading every chunk: segments are written once, the state file last."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from assistant.lexical import LexicalIndex, LexicalRow, Segment, document_places

FORMAT = 3  # 2: identifiers also indexed by their underscore-separated parts; 3: rows hold the text after a document
FOLDER = "assistant-lexical"


def save(index: LexicalIndex, folder: Path) -> None:
    """Write the segments not yet in `folder`, then the vocabulary and the state (atomically, state last)."""
    folder.mkdir(parents=True, exist_ok=True)
    for segment in index.segments:
        if not (folder / f"{segment.name}.npz").exists():
            _write_atomically(folder / f"{segment.name}.rows.json", json.dumps(segment.rows).encode())
            with open(folder / f".{segment.name}.npz.tmp", "wb") as handle:
                np.savez(
                    handle, indptr=segment.indptr, indices=segment.indices, data=segment.data, lengths=segment.lengths
                )
            os.replace(folder / f".{segment.name}.npz.tmp", folder / f"{segment.name}.npz")
    words = sorted(index.vocabulary, key=index.vocabulary.__getitem__)
    _write_atomically(folder / "vocabulary.json", json.dumps(words).encode())
    previous = _read_state(folder)
    names = [segment.name for segment in index.segments]
    state = {"format": FORMAT, "documents": index.documents, "segments": names}
    _write_atomically(folder / "state.json", json.dumps(state).encode())
    for name in set(previous.get("segments", [])) - set(names):
        for suffix in (".npz", ".rows.json"):
            (folder / f"{name}{suffix}").unlink(missing_ok=True)


def load(folder: Path) -> LexicalIndex | None:
    """The index saved in `folder`, or None when there is none (or it cannot be read)."""
    try:
        state = _read_state(folder)
        if state.get("format") != FORMAT:
            return None
        words = json.loads((folder / "vocabulary.json").read_text())
        segments = []
        for name in state["segments"]:
            with np.load(folder / f"{name}.npz") as saved:
                arrays = [saved[key] for key in ("indptr", "indices", "data", "lengths")]
            rows = [LexicalRow(*row) for row in json.loads((folder / f"{name}.rows.json").read_text())]
            segments.append(Segment(name, rows, *arrays))
    except (OSError, ValueError, KeyError, TypeError):  # TypeError: rows of another shape
        return None
    documents: dict[str, str] = state["documents"]
    vocabulary = {word: number for number, word in enumerate(words)}
    alive = tuple(
        np.asarray([documents.get(row.document_id) == row.document_sha256 for row in s.rows], dtype=bool)
        for s in segments
    )
    df = np.zeros(len(vocabulary), dtype=np.int64)
    total_length, count = 0.0, 0
    for segment, mask in zip(segments, alive, strict=True):
        chunks, words, _ = segment.entries()
        df[: segment.width] += np.bincount(words[mask[chunks]], minlength=segment.width)
        total_length += float(segment.lengths[mask].sum())
        count += int(mask.sum())
    places = {doc_id: where for doc_id, where in document_places(segments, alive).items() if doc_id in documents}
    return LexicalIndex(vocabulary, df, tuple(segments), alive, documents, places, total_length, count)


def _read_state(folder: Path) -> dict:
    try:
        return json.loads((folder / "state.json").read_text())
    except (OSError, ValueError):
        return {}


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
