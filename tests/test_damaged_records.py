"""One broken document never breaks questions about the others: records damaged by hand in a real Chroma folder
leave their documents out of answers, with a warning, and the next `assistant index` writes them again from their
files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings
from helpers import HashingEmbedder

from index.chroma_client import close_connections

FACTS = {
    "lighthouse.txt": "The lighthouse on the north cape was built in 1874 by the engineer Maria Lund.\n",
    "ferry.txt": "The ferry to Vela leaves the harbour at nine every morning.\n",
    "bridge.txt": "The bridge over the Aller was completed in 1932 and carries eight lanes.\n",
}


def _damage(index: Path) -> None:
    """By hand, in Chroma: one chunk of the lighthouse altered (its text says 1875); the ferry's chunk deleted."""
    client = chromadb.PersistentClient(path=str(index.resolve()), settings=ChromaSettings(anonymized_telemetry=False))
    chunks = client.get_collection("documents")
    records = chunks.get(include=["documents", "metadatas", "embeddings"])
    rows = zip(records["ids"], records["documents"], records["metadatas"], records["embeddings"], strict=True)
    for record_id, text, metadata, embedding in rows:
        name = Path(metadata["source"]).name
        if name == "lighthouse.txt":
            altered = text.replace("1874", "1875")
            chunks.upsert(ids=[record_id], documents=[altered], metadatas=[metadata], embeddings=[embedding])
        elif name == "ferry.txt":
            chunks.delete(ids=[record_id])
    client.close()


def _ask(index: Path, question: str) -> tuple[dict, str]:
    command = [sys.executable, str(Path(__file__).with_name("reliability_cli.py")), "--index", str(index)]
    result = subprocess.run([*command, "ask", question, "--json"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def test_damaged_documents_are_left_out_said_so_and_repaired_by_the_next_run(tmp_path, make_assistant):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    for name, text in FACTS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    assistant = make_assistant(HashingEmbedder())
    assistant.index_paths([corpus])
    index = Path(assistant.settings.index_path)
    close_connections()
    _damage(index)
    shutil.rmtree(index / "assistant-lexical", ignore_errors=True)  # the next process reads every chunk back

    bridge, stderr = _ask(index, "When was the bridge over the Aller completed?")  # a question about the others
    assert bridge["answered"] and any("1932" in citation["quote"] for citation in bridge["citations"])
    assert any("ferry.txt is left out" in warning for warning in bridge["warnings"]), bridge["warnings"]
    assert "warning: ferry.txt is left out" in stderr and "assistant index` on its file repairs it" in stderr

    lighthouse, _ = _ask(index, "When was the lighthouse on the north cape built?")
    assert not any("1875" in citation["quote"] for citation in lighthouse["citations"]), "no altered text quoted"
    assert all(Path(p["source"]).name not in ("lighthouse.txt", "ferry.txt") for p in lighthouse["passages"])
    assert any("lighthouse.txt is left out" in warning for warning in lighthouse["warnings"]), lighthouse["warnings"]
    for answer in (bridge, lighthouse):  # what is quoted is the files' own text
        for citation in answer["citations"]:
            text = Path(citation["source"]).read_text(encoding="utf-8")
            assert text[citation["start"] : citation["end"]] == citation["quote"]

    repaired = make_assistant(HashingEmbedder()).index_paths([corpus])
    assert repaired.notes == ["1 damaged documents were indexed again from their files"]  # the altered one
    assert repaired.count("added") == 1, "the one with a lost chunk: taken out by the run's check, then added"
    close_connections()
    again, stderr = _ask(index, "When was the lighthouse on the north cape built?")
    assert again["warnings"] == [] and "warning" not in stderr
    assert any("1874" in citation["quote"] for citation in again["citations"])
    assert (index / "assistant-damaged-documents.json").read_text() == "{}"
