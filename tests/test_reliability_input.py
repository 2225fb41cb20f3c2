"""Hostile input: a folder of bad files beside good ones, indexed by the real command in a subprocess.

Each bad file gets one clear line, nothing crashes, the good files are indexed, and memory stays bounded: a
60 MB one-line file is refused by the size limit before it is read.
"""

from __future__ import annotations

import io
import os
import random
import zipfile
from pathlib import Path

import docx
from helpers import make_pdf
from pypdf import PdfReader, PdfWriter
from reliability_support import (
    assert_answers_verbatim,
    assert_consistent,
    fake_assistant,
    figure,
    run_cli,
    store_settings,
)

from index.store import ChunkStore

GOOD_TEXT = "The lighthouse keeper records the tides at dawn. The lamp was replaced in 1911 after a storm.\n"
UTF16_TEXT = "Die Brücke über den Fluss wurde 1932 eröffnet. Ärzte und Bäcker feierten gemeinsam.\n"
BIG_MB = 60


def _good_files(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "good-notes.txt").write_text(GOOD_TEXT * 3, encoding="utf-8")
    (folder / "good-page.html").write_text(
        "<html><head><title>Orchard</title></head><body><p>The orchard has forty pear trees.</p></body></html>",
        encoding="utf-8",
    )
    document = docx.Document()
    document.add_paragraph("The ferry leaves the harbour every hour on the half hour.")
    document.save(folder / "good-ferry.docx")


def _one_line_file(path: Path, megabytes: float) -> None:
    """Words and spaces, no newline: `megabytes` million bytes written in pieces."""
    piece = ("lorem ipsum dolor sit amet consectetur adipiscing elit " * 1000).encode()
    remaining = int(megabytes * 1_000_000)
    with path.open("wb") as out:
        while remaining > 0:
            out.write(piece[:remaining])
            remaining -= len(piece)


def _zip_bomb(path: Path) -> None:
    """A valid-looking .docx whose one member inflates from about 50 KB to 50 MB."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            zeros = b"\0" * 1_000_000
            for _ in range(50):
                member.write(zeros)


def _encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["A secret page about the vault."]]))))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _bad_files(folder: Path) -> dict[str, str]:
    """Write the bad files; returns each failing file's name and a phrase its reason must hold."""
    rng = random.Random(7)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_text("   \n\n\t \n", encoding="utf-8")
    (folder / "binary.txt").write_bytes(bytes(rng.randrange(256) for _ in range(65_536)))
    (folder / "mostly-nul.md").write_bytes(b"\0" * 4000 + b"hidden words")
    (folder / "nul-bytes.txt").write_bytes(b"The granary\0 stores barley\0 and oats for winter.\n")
    (folder / "truncated.pdf").write_bytes(make_pdf([["Page one."], ["Page two."]])[:300])
    (folder / "encrypted.pdf").write_bytes(_encrypted_pdf())
    _zip_bomb(folder / "bomb.docx")
    (folder / "vanishing.txt").write_text("This file is deleted just before it is read.", encoding="utf-8")
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    os.mkfifo(folder / "pipe.txt")  # reading a pipe would block forever
    _one_line_file(folder / "one-line-60mb.txt", BIG_MB)
    return {
        "empty.txt": "file is empty",
        "blank.md": "no text could be extracted",
        "binary.txt": "binary",
        "mostly-nul.md": "binary",
        "nul-bytes.txt": "holds 2 NUL characters",  # kept, they would shift every offset; dropped, the text lies
        "truncated.pdf": "could not read the PDF",
        "encrypted.pdf": "encrypted",
        "bomb.docx": "zip bomb",
        "vanishing.txt": "file not found",
        "loop.txt": "symbolic link loop",
        "pipe.txt": "not a regular file",
        "one-line-60mb.txt": "over the 50.0 MB limit",
    }


def _odd_but_good_files(folder: Path) -> None:
    """Files that look hostile but hold real text: they must be indexed, correctly."""
    (folder / "utf16-no-bom.txt").write_bytes(UTF16_TEXT.encode("utf-16-le"))
    depth = 50_000
    (folder / "deep.html").write_text(
        "<html><body>" + "<div>" * depth + "<p>The well at the bottom is dry in August.</p>" + "</div>" * depth,
        encoding="utf-8",
    )
    _one_line_file(folder / "one-line-1mb.txt", 1)
    (folder / "cycle").symlink_to(folder, target_is_directory=True)  # a folder loop: walked once


def _failures(stderr: str) -> dict[str, str]:
    failures = {}
    for line in stderr.splitlines():
        if line.startswith("failed: "):
            source, _, reason = line[len("failed: ") :].partition(": ")
            failures[Path(source).name] = reason
    return failures


def test_bad_files_get_clear_reasons_and_good_files_are_indexed(tmp_path):
    corpus = tmp_path / "corpus"
    _good_files(corpus)
    expected = _bad_files(corpus)
    _odd_but_good_files(corpus)
    index = tmp_path / "index"
    named = [str(corpus), str(corpus / ".." / "corpus" / "good-notes.txt"), str(tmp_path / "missing.txt")]
    result = run_cli("--index", str(index), "index", *named, cwd=tmp_path, RELIABILITY_VANISH="vanishing.txt")
    assert result.returncode == 1, result.stderr  # failures are reported with a non-zero status
    assert "Traceback" not in result.stderr
    failures = _failures(result.stderr)
    assert set(failures) == {*expected, "missing.txt"}, result.stderr
    for name, phrase in expected.items():
        assert phrase in failures[name], f"{name}: {failures[name]}"
    assert "6 added" in result.stdout and f"{len(expected) + 1} failed" in result.stdout, result.stdout

    store = ChunkStore(store_settings(index))
    assert assert_consistent(store) == 6, "each good file once (the `..` path and the folder loop add nothing)"
    assistant = fake_assistant(index)
    texts = {Path(doc.source).name: assistant.document_text(doc.id) for doc in assistant.sources()}
    assert texts["utf16-no-bom.txt"] == UTF16_TEXT, "the decoded file, exactly"
    assert texts["deep.html"] == "The well at the bottom is dry in August."
    assert len(texts["one-line-1mb.txt"]) > 990_000
    answer = assert_answers_verbatim(assistant, "When was the lamp replaced?")
    assert any("1911" in citation.quote for citation in answer.citations)


def test_a_60_mb_one_line_file_is_refused_without_reading_it(tmp_path):
    """Peak memory of the indexing process with the big file beside good ones, against the good ones alone."""
    peaks = {}
    for case in ("good only", "with the big file"):
        corpus = tmp_path / case.replace(" ", "-")
        _good_files(corpus)
        if case != "good only":
            _one_line_file(corpus / "one-line.txt", BIG_MB)
        rss = tmp_path / f"{corpus.name}.rss"
        index = tmp_path / f"{corpus.name}-index"
        result = run_cli("--index", str(index), "index", str(corpus), cwd=tmp_path, RELIABILITY_RSS_FILE=str(rss))
        assert "3 added" in result.stdout, result.stderr
        peaks[case] = int(rss.read_text()) * 1024
    assert "one-line.txt: file is 60.0 MB, over the 50.0 MB limit" in result.stderr
    growth = peaks["with the big file"] - peaks["good only"]
    alone, beside = peaks["good only"] / 1e6, peaks["with the big file"] / 1e6
    figure("peak RSS, good files alone / with the 60 MB file beside them (MB)", f"{alone:.0f} / {beside:.0f}")
    assert growth < 20_000_000, f"peak memory grew by {growth / 1e6:.0f} MB for a {BIG_MB} MB file"


def test_upload_names_with_dot_dot_stay_in_the_uploads_folder(tmp_path, fake_embedder):
    from ui.documents import index_uploads

    assistant = fake_assistant(tmp_path / "index")
    folder = tmp_path / "uploads" / "documents"
    uploads = [
        ("../../escape.txt", b"The tunnel opens at six in the morning."),
        ("..\\..\\windows.md", b"The canal freezes in January."),
        ("/etc/passwd.txt", b"The mill grinds rye on Tuesdays."),
    ]
    results = index_uploads(assistant, uploads, folder)
    assert [result.status for result in results] == ["added", "added", "added"], results
    assert sorted(path.name for path in folder.iterdir()) == ["escape.txt", "passwd.txt", "windows.md"]
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "uploads" / "escape.txt").exists()
    assert all(Path(doc.source).parent == folder.resolve() for doc in assistant.sources())
