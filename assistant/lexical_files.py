"""The lexical index saved beside an on-disk index, in `<index folder>/assistant-lexical/<collection>/`, so that
a new process loads it instead of re-reading every chunk: segments are written once, the state file last."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from assistant.lexical import LexicalIndex, Segment, document_places
from assistant.lexical_rows import load_rows, save_rows

# 2: identifiers also indexed by their underscore-separated parts; 3: rows hold the text after a document;
# 4: rows as columns with the texts in a file of their own, postings mapped, the vocabulary in the state file
FORMAT = 4
FOLDER = "assistant-lexical"
MAPPED = ("indices", "data")  # a segment's postings: read from disk only for the words asked about
SUFFIXES = (".npz", ".rows.json", ".texts", *(f".{name}.npy" for name in MAPPED))


def save(index: LexicalIndex, folder: Path) -> None:
    """Write the segments not yet in `folder` (each file once, its .npz last), then the state with the vocabulary
    (atomically: two processes saving at once leave one whole state or the other)."""
    folder.mkdir(parents=True, exist_ok=True)
    for segment in index.segments:
        if not (folder / f"{segment.name}.npz").exists():
            arrays = save_rows(segment.rows, folder / segment.name)
            for name in MAPPED:  # each file replaced whole, never rewritten in place: others may have it mapped
                temporary = folder / f".{segment.name}.{name}.{os.getpid()}.tmp"
                with open(temporary, "wb") as handle:
                    np.save(handle, getattr(segment, name))
                os.replace(temporary, folder / f"{segment.name}.{name}.npy")
            temporary = folder / f".{segment.name}.npz.{os.getpid()}.tmp"
            with open(temporary, "wb") as handle:
                np.savez(handle, indptr=segment.indptr, lengths=segment.lengths, **arrays)
            os.replace(temporary, folder / f"{segment.name}.npz")
    previous = _read_state(folder)
    names = [segment.name for segment in index.segments]
    words = sorted(index.vocabulary, key=index.vocabulary.__getitem__)
    state = {"format": FORMAT, "documents": index.documents, "segments": names, "vocabulary": words}
    _write_atomically(folder / "state.json", json.dumps(state).encode())
    (folder / "vocabulary.json").unlink(missing_ok=True)  # where format 3 kept it
    for name in set(previous.get("segments", [])) - set(names):
        for suffix in SUFFIXES:
            (folder / f"{name}{suffix}").unlink(missing_ok=True)


def load(folder: Path) -> LexicalIndex | None:
    """The index saved in `folder`, or None when there is none (or it cannot be read). Chunk texts and postings
    stay in their files, mapped: the memory they take is what the answers read."""
    try:
        state = _read_state(folder)
        if state.get("format") != FORMAT:
            return None
        segments = []
        for name in state["segments"]:
            with np.load(folder / f"{name}.npz") as saved:
                indptr, lengths = saved["indptr"], saved["lengths"]
                numbers, offsets = saved["numbers"], saved["text_offsets"]
            indices, data = (np.load(folder / f"{name}.{key}.npy", mmap_mode="r") for key in MAPPED)
            rows = load_rows(folder / name, numbers, offsets)
            segments.append(Segment(name, rows, indptr, indices, data, lengths))
        words: list[str] = state["vocabulary"]
    except (OSError, ValueError, KeyError, TypeError):  # TypeError: columns of another shape
        return None
    documents: dict[str, str] = state["documents"]
    vocabulary = {word: number for number, word in enumerate(words)}
    alive = []
    for segment in segments:
        current = [documents.get(facts.document_id) == facts.sha256 for facts in segment.rows.documents]
        alive.append(np.asarray(current, dtype=bool)[segment.rows.document_rows()])
    df = np.zeros(len(vocabulary), dtype=np.int64)
    total_length, count = 0.0, 0
    for segment, mask in zip(segments, alive, strict=True):
        if mask.all():  # the usual case: no posting needs reading
            df[: segment.width] += np.diff(segment.indptr)
        else:
            chunks, words_of, _ = segment.entries()
            df[: segment.width] += np.bincount(words_of[mask[chunks]], minlength=segment.width)
        total_length += float(segment.lengths[mask].sum())
        count += int(mask.sum())
    places = {doc_id: where for doc_id, where in document_places(segments, alive).items() if doc_id in documents}
    return LexicalIndex(vocabulary, df, tuple(segments), tuple(alive), documents, places, total_length, count)


def _read_state(folder: Path) -> dict:
    try:
        return json.loads((folder / "state.json").read_text())
    except (OSError, ValueError):
        return {}


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
