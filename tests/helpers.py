"""Helpers the tests share (imported as `helpers`; fixtures live in conftest.py)."""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
EVAL = Path(os.environ.get("EVAL_DATA_DIR", ROOT.parent / "shared" / "eval"))


def require_eval_data() -> Path:
    """The SQuAD sets beside the checkout (or EVAL_DATA_DIR): missing skips locally, fails under CI=true."""
    if not EVAL.is_dir():
        message = f"evaluation data not found at {EVAL} (set EVAL_DATA_DIR)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return EVAL


# One-sentence passages on unrelated subjects, and a question for each (same order).
PASSAGES = [
    "The Eiffel Tower in Paris was completed in 1889 for the World's Fair and is 330 metres tall.",
    "Photosynthesis lets plants turn sunlight, water and carbon dioxide into glucose and oxygen.",
    "The Great Barrier Reef off Queensland is the largest coral reef system on Earth.",
    "Marie Curie won Nobel Prizes in both physics and chemistry for her research on radioactivity.",
    "The Amazon river carries more water to the sea than any other river in the world.",
    "A violin has four strings tuned in fifths and is played with a bow strung with horsehair.",
    "Mount Everest, on the border of Nepal and China, rises 8,849 metres above sea level.",
    "Bread rises because yeast ferments sugars in the dough and releases carbon dioxide gas.",
    "The Apollo 11 mission landed the first people on the Moon in July 1969.",
    "Honey bees communicate the direction of flowers to their hive mates with a waggle dance.",
    "The Rosetta Stone, found in 1799, helped scholars decipher Egyptian hieroglyphs.",
    "Chess players open with moves such as the Sicilian Defence or the Queen's Gambit.",
    "Penicillin, discovered by Alexander Fleming in 1928, was the first widely used antibiotic.",
    "The Sahara is the largest hot desert, covering much of North Africa.",
    "Tokyo's Shinkansen bullet trains have run since 1964 and reach speeds of 320 km/h.",
    "Volcanoes erupt when magma from inside the Earth rises through the crust to the surface.",
]
QUESTIONS = [
    "How tall is the Eiffel Tower?",
    "What do plants produce from sunlight?",
    "Where is the largest coral reef?",
    "Who won Nobel Prizes in physics and chemistry?",
    "Which river carries the most water?",
    "How many strings does a violin have?",
    "What is the height of Everest?",
    "Why does bread dough rise?",
    "When did people first land on the Moon?",
    "How do bees tell others where flowers are?",
    "What helped decipher hieroglyphs?",
    "Which chess openings are common?",
    "Who discovered penicillin?",
    "What is the biggest hot desert?",
    "How fast are Japanese bullet trains?",
    "What makes a volcano erupt?",
]


class HashingEmbedder:
    """Deterministic bag-of-words vectors: fast, no model, enough where ranking quality does not matter."""

    model_id = "hashing-test"
    dimension = 256

    def warm_up(self) -> None:
        pass

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector + 1.0 / np.sqrt(self.dimension)

    def embed_documents(self, texts, on_progress=None):
        """In batches of 32, as the real encoder, each reported to `on_progress`."""
        vectors = []
        for first in range(0, len(texts), 32):
            vectors += [self._vector(text) for text in texts[first : first + 32]]
            if on_progress is not None:
                on_progress(len(texts[first : first + 32]))
        return np.stack(vectors) if vectors else np.zeros((0, self.dimension))

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF with one text line per entry, one page per item."""
    count = len(pages)
    font = 3 + 2 * count
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    for i, lines in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources"
            f" << /Font << /F1 {font} 0 R >> >> /Contents {4 + 2 * i} 0 R >>".encode()
        )
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td", *(f"({line}) Tj T*" for line in lines)]
        stream = "\n".join([*ops, "ET"]).encode()
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return pdf_file(objects)


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF of the given objects (numbered from 1, the first the catalog), with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# Chroma's client API as the chroma_calls fixture (conftest.py) counts it.
CHROMA_READS = ("query", "get", "count", "peek")
CHROMA_WRITES = ("add", "upsert", "update", "delete", "modify")
CHROMA_CLIENT_CALLS = ("get_collection", "get_or_create_collection", "create_collection", "list_collections")


def chroma_writes(calls: Counter[str]) -> int:
    """How many of the counted calls wrote to a collection."""
    return sum(calls[f"Collection.{name}"] for name in CHROMA_WRITES)


def write_earlier_layout(folder: Path, collection: str = "documents") -> None:
    """Rewrite an index folder (no client of this process may hold it open) as index format 3 laid it out: each
    chunk's text a metadata value and no Chroma document; each document of format 3."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(folder.resolve()), settings=ChromaSettings(anonymized_telemetry=False))
    chunks = client.get_collection(collection)
    records = chunks.get(include=["documents", "metadatas", "embeddings"])
    chunks.delete(ids=records["ids"])  # a document cannot be unset: the records are written again without one
    chunks.add(
        ids=records["ids"],
        embeddings=records["embeddings"],
        metadatas=[{**m, "text": d} for m, d in zip(records["metadatas"], records["documents"], strict=True)],
    )
    manifest = client.get_collection(f"{collection}-manifest")
    ids = manifest.get()["ids"]
    manifest.update(ids=ids, metadatas=[{"index_format": 3} for _ in ids])
    chunks.modify(metadata={**(chunks.metadata or {}), "generation": 12345})  # the manifest changed
    client.close()
