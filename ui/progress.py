"""Indexing progress shown in the page: the Progress protocol of index/indexer.py on a progress bar."""

from __future__ import annotations

from typing import Protocol

from index.models import FileOutcome, FileStatus


class Bar(Protocol):
    """What st.progress returns: a bar that can be moved and relabelled."""

    def progress(self, value: float, text: str | None = None) -> object: ...


class BarProgress:
    """Moves `bar` as files finish; its label counts files and embedded chunks."""

    def __init__(self, bar: Bar, label: str = "Indexing"):
        self.bar = bar
        self.label = label
        self.files = 0
        self.done = 0
        self.chunks = 0
        self.failed = 0

    def started(self, files: int) -> None:
        self.files = files
        self._show()

    def file_done(self, outcome: FileOutcome) -> None:
        self.done += 1
        self.failed += outcome.status == FileStatus.FAILED
        self._show()

    def chunks_embedded(self, count: int) -> None:
        self.chunks += count
        self._show()

    @property
    def fraction(self) -> float:
        if not self.files:
            return 0.0
        return min(1.0, self.done / self.files)

    def text(self) -> str:
        return f"{self.label}: {self.done} of {self.files} files done, {self.chunks} passages embedded"

    def _show(self) -> None:
        self.bar.progress(self.fraction, text=self.text())
