"""Indexing progress shown in the page: the Progress protocol of index/indexer.py on a progress bar."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from assistant.progress import IndexingTally
from assistant.wording import plural
from index.models import FileOutcome


class Bar(Protocol):
    """What st.progress returns: a bar that can be moved and relabelled."""

    def progress(self, value: float, text: str | None = None) -> object: ...


class BarProgress:
    """Moves `bar` as files finish and as their passages are embedded (every few dozen); its label counts files,
    passages and pages read by OCR."""

    def __init__(self, bar: Bar, label: str = "Indexing"):
        self.bar = bar
        self.label = label
        self.tally = IndexingTally()

    def started(self, files: int) -> None:
        self.tally.started(files)
        self._show()

    def file_done(self, outcome: FileOutcome) -> None:
        self.tally.file_done(outcome)
        self._show()

    def embedding_started(self, sources: Sequence[str], chunks: int) -> None:
        self.tally.embedding_started(sources, chunks)

    def chunks_embedded(self, count: int) -> None:
        self.tally.chunks_embedded(count)
        self._show()

    def pages_ocred(self, count: int) -> None:
        self.tally.pages_ocred(count)
        self._show()

    @property
    def fraction(self) -> float:
        return self.tally.fraction

    def text(self) -> str:
        tally = self.tally
        text = (
            f"{self.label}: {tally.files_done:,} of {plural(tally.files, 'file')} done, "
            f"{plural(tally.chunks, 'passage')} embedded"
        )
        return f"{text}, OCR pages: {tally.ocr_pages:,}" if tally.ocr_pages else text

    def _show(self) -> None:
        self.bar.progress(self.fraction, text=self.text())
