"""A citation points into the user's own file: plain-text files are indexed as decoded, exactly, and every quote
`assistant ask --json` gives is checked against the file's bytes; HTML, DOCX and PDF citations index the extracted
text, which `assistant show` prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import docx
import pytest
from helpers import SEEDS

NATO = (SEEDS / "nato-stoltenberg-prague.txt").read_text(encoding="utf-8")
MESSY = {
    # name: bytes of a text file holding the same facts in a messy shape
    "crlf.txt": "The lighthouse keeper  \r\nrecords the tides at dawn.\r\n\r\n\r\nThe lamp was replaced in 1911.\r\n",
    "blank-runs.md": "# Harbour\n\n\n\n\n\nThe ferry to Vela leaves at nine.   \n\t\n\n\n\n\n"
    "Tickets cost four euros.\n\n",
    "nbsp.txt": "\u00a0 The bridge\u00a0was completed in 1932.\u2028It carries eight lanes.\u2029\u2029"
    "The toll is gone.",
    "form-feed.txt": "Page one says the granary stores barley.\x0c\nPage two says the mill grinds oats on Fridays.",
    "leading-space.txt": "   The orchard has forty pear trees.\n    Each tree gives about a hundred pears a year.\n",
    "tabs-and-cr.txt": "The well\tis dry in August.\rThe pump was fixed in 2004.\r\r"
    "The village drinks from the spring.",
}
QUESTIONS = [
    "When was the lamp replaced?",
    "When does the ferry to Vela leave?",
    "When was the bridge completed?",
    "When does the mill grind oats?",
    "How many pear trees does the orchard have?",
    "When was the pump fixed?",
]


def _messy_folder(folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    files = {name: text.encode("utf-8") for name, text in MESSY.items()}
    files["bom.txt"] = b"\xef\xbb\xbfThe museum opens at ten on weekdays.\r\n"
    files["utf16.txt"] = "\ufeffThe school has three hundred pupils.\n\nIt was built in 1890.\n".encode("utf-16-le")
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


def _assistant_command(index: Path, *arguments: str, text: bool = True) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("assistant")), "--index", str(index), *arguments]
    return subprocess.run(command, capture_output=True, text=text, timeout=300)


def test_citations_index_the_files_bytes_in_a_folder_of_messy_text_files(tmp_path, make_assistant, minilm, capsys):
    from assistant.cli import main

    files = _messy_folder(tmp_path / "messy")
    assistant = make_assistant(minilm)
    index = Path(assistant.settings.index_path)
    assert main(["--index", str(index), "index", str(tmp_path / "messy")], embedder=minilm) == 0
    assert f"{len(files)} added" in capsys.readouterr().out
    assert main(["--index", str(index), "sources", "--json"]) == 0
    encodings = {Path(doc["source"]).name: doc["encoding"] for doc in json.loads(capsys.readouterr().out)}
    assert encodings["bom.txt"] == "utf-8-sig" and encodings["utf16.txt"] in ("utf-16", "utf-16-le")
    for name, data in files.items():  # the indexed text is the file decoded, character for character
        document = assistant.find_document(name)
        assert assistant.document_text(document.id) == data.decode(encodings[name])
    cited = 0
    for question in [*QUESTIONS, "When does the museum open?", "When was the school built?"]:
        assert main(["--index", str(index), "ask", question, "--json"], embedder=minilm) == 0
        for citation in json.loads(capsys.readouterr().out)["citations"]:
            path = Path(citation["source"])
            text = path.read_bytes().decode(encodings[path.name])  # the user's file, not the assistant's copy
            assert text[citation["start"] : citation["end"]] == citation["quote"], (path.name, citation)
            cited += 1
    assert cited >= 8


def test_show_prints_the_text_citations_index(tmp_path, make_assistant, fake_embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "notes.txt").write_bytes(b"  Line one.\r\nThe ferry leaves at nine.\r\n\r\n")
    page = docx.Document()
    page.add_paragraph("The bridge was completed in 1932.")
    page.save(folder / "bridge.docx")
    assistant = make_assistant(fake_embedder)
    assistant.index_paths([folder])
    index = Path(assistant.settings.index_path)
    whole = _assistant_command(index, "show", "notes.txt", text=False)  # bytes: no newline translation
    assert whole.returncode == 0 and whole.stdout == b"  Line one.\r\nThe ferry leaves at nine.\r\n\r\n"
    span = _assistant_command(index, "show", "notes.txt", "--from", "13", "--to", "38", "--context", "5")
    assert span.returncode == 0, span.stderr
    assert "characters 13-38 of 42 (offsets index the file itself, decoded as utf-8)" in span.stdout
    assert ">>>The ferry leaves at nine.<<<" in span.stdout
    extracted = _assistant_command(index, "show", "bridge.docx")
    assert extracted.stdout == "The bridge was completed in 1932."
    listed = json.loads(_assistant_command(index, "sources", "--json").stdout)
    meaning = {Path(doc["source"]).name: doc["offsets"] for doc in listed}
    assert meaning["bridge.docx"].startswith("the text extracted from the DOCX file")
    outside = _assistant_command(index, "show", "notes.txt", "--from", "40", "--to", "90")
    assert outside.returncode == 1 and "is not inside" in outside.stderr


@pytest.mark.parametrize("padding", [" \n", "\r\n\r\n", "\u00a0\t", "\n\n\n\n\n"])
def test_a_document_with_edge_whitespace_is_indexed_and_rebuilt_exactly(padding, make_assistant, fake_embedder):
    from index.identity import make_document

    text = f"{padding}{NATO.replace(chr(10), chr(13) + chr(10))}{padding}"
    document = make_document("/notes/nato.txt", "nato", text)
    assistant = make_assistant(fake_embedder, chunk_size=300, chunk_overlap=50)
    assert assistant.index_documents([document]).count("added") == 1
    assert assistant.document_text(document.id) == text
    answer = assistant.ask("Where did the NATO foreign ministers meet?")
    assert answer.citations and answer.warnings == []
    assert all(text[c.start : c.end] == c.quote for c in answer.citations)


def test_a_blank_document_is_refused_by_name(make_assistant, fake_embedder):
    from index.identity import make_document

    report = make_assistant(fake_embedder).index_documents([make_document("/notes/blank.txt", "blank", " \r\n\t ")])
    (failure,) = report.failures
    assert failure.source == "/notes/blank.txt" and failure.reason == "no text could be extracted"
