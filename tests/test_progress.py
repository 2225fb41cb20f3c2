"""Indexing progress that moves as chunks are embedded (the tally, the terminal bar, the app's bar), and counts
written in the right number."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from helpers import HashingEmbedder

from assistant.cli import main
from assistant.models import Answer, AnswerMode, Citation, Passage
from assistant.progress import IndexingTally, TerminalProgress
from assistant.wording import plural
from index.models import FileOutcome, FileStatus
from ui.chat import answer_caption
from ui.progress import BarProgress

SUMMARY = re.compile(r"^\d+ added, \d+ updated, \d+ unchanged, \d+ failed, \d+ removed; \d+ chunks written in [\d.]+s$")


class Recorder:
    """A Progress that keeps every event, and the tally's position after each."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.tally = IndexingTally()
        self.positions: list[float] = []

    def started(self, files: int) -> None:
        self.tally.started(files)
        self._note("started", files)

    def embedding_started(self, sources, chunks: int) -> None:
        self.tally.embedding_started(sources, chunks)
        self._note("embedding", [Path(source).name for source in sources], chunks)

    def chunks_embedded(self, count: int) -> None:
        self.tally.chunks_embedded(count)
        self._note("embedded", count)

    def file_done(self, outcome: FileOutcome) -> None:
        self.tally.file_done(outcome)
        self._note("done", Path(outcome.source).name, outcome.status)

    def pages_ocred(self, count: int) -> None:
        self.tally.pages_ocred(count)
        self._note("ocr", count)

    def _note(self, *event) -> None:
        self.events.append(event)
        self.positions.append(self.tally.position)

    def embedded_counts(self) -> list[int]:
        return [event[1] for event in self.events if event[0] == "embedded"]


def write_long(path: Path, paragraphs: int, topic: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "\n\n".join(
            f"Paragraph {n} of the {topic} report: item {n} was checked, costed and filed." for n in range(paragraphs)
        )
    )
    return path


def test_chunks_embedded_comes_in_pieces_that_add_up_to_the_chunks_written(tmp_path, make_assistant, minilm):
    folder = tmp_path / "docs"
    write_long(folder / "large.txt", 600, "harbour")
    for name in ("alpha", "beta", "gamma"):
        (folder / f"{name}.txt").write_text(f"The {name} note says the meeting moved to room {len(name)}.")
    assistant = make_assistant(minilm)
    recorder = Recorder()
    report = assistant.index_paths([folder], progress=recorder)
    assert report.count("added") == 4 and report.chunks_written > 64
    assert sum(recorder.embedded_counts()) == report.chunks_written  # every chunk's text is different
    (large,) = [i for i, event in enumerate(recorder.events) if event[0] == "embedding" and "large.txt" in event[1]]
    pieces = 0
    while recorder.events[large + 1 + pieces][0] == "embedded":
        pieces += 1
    assert pieces > 1, "the large document's chunks were reported in pieces as they were embedded"
    assert recorder.positions == sorted(recorder.positions) and recorder.positions[-1] == 4
    assert any(0 < position < 4 and position != int(position) for position in recorder.positions)
    assert len([event for event in recorder.events if event[0] == "done"]) == 4


def test_an_embedder_that_reports_nothing_still_adds_up(tmp_path, make_assistant):
    class Quiet(HashingEmbedder):
        def embed_documents(self, texts, on_progress=None):
            return super().embed_documents(texts)

    corpus = write_long(tmp_path / "docs" / "large.txt", 200, "garden")
    recorder = Recorder()
    report = make_assistant(Quiet()).index_paths([corpus.parent], progress=recorder)
    assert recorder.embedded_counts() == [report.chunks_written]
    assert recorder.positions[-1] == 1


def test_the_tally_counts_each_file_once_whenever_its_outcome_comes():
    tally = IndexingTally()
    tally.started(5)
    tally.file_done(FileOutcome("x.txt", FileStatus.UNCHANGED))
    assert tally.position == 1
    tally.embedding_started(["a.txt", "b.txt"], 10)
    tally.chunks_embedded(5)
    assert tally.position == 2  # half of two files' chunks
    tally.chunks_embedded(5)
    tally.embedding_started(["c.txt"], 4)  # the next batch embeds while a and b are written
    tally.chunks_embedded(2)
    assert tally.position == 3.5
    tally.file_done(FileOutcome("a.txt", FileStatus.ADDED, 3))
    tally.file_done(FileOutcome("b.txt", FileStatus.FAILED, reason="the store refused it"))
    assert tally.position == 3.5, "a file counted while it was embedded is not counted again"
    tally.chunks_embedded(2)
    tally.file_done(FileOutcome("c.txt", FileStatus.UPDATED, 4))
    tally.file_done(FileOutcome("y.pdf", FileStatus.FAILED, reason="not a PDF"))
    tally.pages_ocred(2)
    assert (tally.position, tally.fraction, tally.files_done, tally.failed, tally.chunks) == (5, 1.0, 5, 2, 14)
    assert tally.ocr_pages == 2


def test_the_terminal_bar_shows_the_share_done_files_chunks_and_ocr_pages():
    stream = io.StringIO()
    with TerminalProgress(stream, always=True, redraw_seconds=0) as progress:
        progress.started(2)
        progress.embedding_started(["a.txt", "b.txt"], 64)
        progress.chunks_embedded(32)
        assert lines(stream)[-1].startswith("Indexing:  50%|")
        assert "0/2 files, 32 chunks embedded]" in lines(stream)[-1]
        progress.pages_ocred(3)
        assert lines(stream)[-1].endswith("0/2 files, 32 chunks embedded, OCR pages: 3]")
        progress.chunks_embedded(32)
        progress.file_done(FileOutcome("a.txt", FileStatus.ADDED, 40))
        progress.file_done(FileOutcome("b.txt", FileStatus.ADDED, 24))
    final = lines(stream)[-1]
    assert final.startswith("Indexing: 100%|") and "2/2 files, 64 chunks embedded, OCR pages: 3]" in final


def test_indexing_one_large_file_moves_the_terminal_bar_many_times(tmp_path, make_assistant, fake_embedder):
    corpus = write_long(tmp_path / "docs" / "large.txt", 1600, "railway")
    stream = io.StringIO()
    with TerminalProgress(stream, always=True, redraw_seconds=0) as progress:
        report = make_assistant(fake_embedder).index_paths([corpus], progress=progress)
    shares = [int(line.split("%")[0].split()[-1]) for line in lines(stream)]
    assert report.chunks_written > 96 and len(set(shares)) > 3, shares
    assert shares == sorted(shares) and shares[-1] == 100
    assert lines(stream)[-1].endswith(f"1/1 file, {report.chunks_written} chunks embedded]")


def test_the_index_command_keeps_its_summary_line_and_counts_in_the_right_number(tmp_path, capsys):
    note = tmp_path / "docs" / "note.txt"
    note.parent.mkdir()
    note.write_text("The boiler was serviced on 3 March.")
    index = ["--index", str(tmp_path / "index")]
    assert main([*index, "index", str(note.parent)], embedder=HashingEmbedder()) == 0
    assert SUMMARY.match(capsys.readouterr().out.splitlines()[-1])
    assert main([*index, "sources"], embedder=HashingEmbedder()) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 document, 1 chunk"
    assert main([*index, "remove", "note.txt"], embedder=HashingEmbedder()) == 0
    assert capsys.readouterr().out.strip() == f"removed {note} (1 chunk)"


def test_the_app_bar_moves_with_the_passages():
    class Bar:
        def __init__(self) -> None:
            self.shown: list[tuple[float, str | None]] = []

        def progress(self, value: float, text: str | None = None) -> None:
            self.shown.append((value, text))

    bar = Bar()
    progress = BarProgress(bar, "Indexing")
    progress.started(1)
    progress.pages_ocred(2)
    progress.embedding_started(["scan.pdf"], 3)
    progress.chunks_embedded(1)
    progress.chunks_embedded(2)
    progress.file_done(FileOutcome("scan.pdf", FileStatus.ADDED, 3))
    assert [round(value, 2) for value, _ in bar.shown] == [0, 0, 0.33, 1, 1]
    assert bar.shown[2][1] == "Indexing: 0 of 1 file done, 1 passage embedded, OCR pages: 2"
    assert bar.shown[-1][1] == "Indexing: 1 of 1 file done, 3 passages embedded, OCR pages: 2"


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [(0, "quote", "0 quotes"), (1, "verified quote", "1 verified quote"), (2, "passage", "2 passages")]
    + [(1024, "chunk", "1,024 chunks"), (1, "copy", "1 copy")],
)
def test_plural(count, noun, expected):
    assert plural(count, noun) == expected
    assert plural(3, "copy", "copies") == "3 copies"


def test_the_caption_counts_the_passages_the_quotes_come_from():
    passages = [_passage(rank, f"Sentence {rank} is here. Another one follows.") for rank in range(5)]
    first, second = passages[1], passages[3]
    citations = [_citation(1, first, 0, 21), _citation(2, first, 22, 45), _citation(3, second, 0, 21)]
    answer = Answer("q", "text [1] [2] [3]", citations, passages, answered=True)
    assert answer.cited_passages() == [first, second]
    assert answer_caption(answer) == "3 verified quotes from 2 passages · extractive answer"
    one = Answer("q", "text [1]", citations[:1], passages, answered=True, mode=AnswerMode.CHAT_MODEL)
    assert answer_caption(one) == "1 verified quote from 1 passage · chat model answer"
    declined = Answer("q", "The documents do not contain an answer.", [], passages, answered=False)
    assert answer_caption(declined) == "No verified quote · extractive answer"


def _passage(rank: int, text: str) -> Passage:
    start = 100 * rank
    return Passage(f"chunk-{rank}", "doc", "/d/notes.txt", "notes", start, start + len(text), text, None, rank, 1.0)


def _citation(n: int, passage: Passage, start: int, end: int) -> Citation:
    quote = passage.text[start:end]
    return Citation(n, "doc", passage.source, "notes", passage.start + start, passage.start + end, quote, None, 0.9)


def lines(stream: io.StringIO) -> list[str]:
    """What the bar drew, one drawing each (tqdm redraws over the line with a carriage return)."""
    return [line.strip() for line in re.split(r"[\r\n]", stream.getvalue()) if line.strip()]
