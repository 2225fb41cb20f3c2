"""Indexing progress for people: a tally of a run's progress events, and a terminal bar that shows it."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from assistant.wording import plural
from index.models import FileOutcome, FileStatus


@dataclass
class IndexingTally:
    """Where an indexing run stands, from the events of index/indexer.py's Progress.

    `position` counts files: a file finished without embedding counts when its outcome comes, a file being embedded
    by the share of its batch's chunks done (so the position moves every few dozen chunks, even when one file holds
    them all), and not again when its outcome comes after the write. It never goes back."""

    files: int = 0
    files_done: int = 0
    failed: int = 0
    chunks: int = 0
    ocr_pages: int = 0
    position: float = 0.0
    _settled: int = 0  # files done without being embedded
    _embedded_files: int = 0  # files of the batches embedded before the current one
    _awaiting: Counter[str] = field(default_factory=Counter)  # sources embedded whose outcome has not come
    _batch_files: int = 0
    _batch_chunks: int = 0
    _batch_embedded: int = 0

    def started(self, files: int) -> None:
        self.files = files

    def file_done(self, outcome: FileOutcome) -> None:
        self.files_done += 1
        self.failed += outcome.status == FileStatus.FAILED
        if self._awaiting[outcome.source] > 0:
            self._awaiting[outcome.source] -= 1
        else:
            self._settled += 1
        self._advance()

    def embedding_started(self, sources: Sequence[str], chunks: int) -> None:
        self._embedded_files += self._batch_files  # the previous batch's chunks were all reported
        self._awaiting.update(sources)
        self._batch_files, self._batch_chunks, self._batch_embedded = len(sources), chunks, 0

    def chunks_embedded(self, count: int) -> None:
        self.chunks += count
        self._batch_embedded += count
        self._advance()

    def pages_ocred(self, count: int) -> None:
        self.ocr_pages += count

    @property
    def fraction(self) -> float:
        return min(1.0, self.position / self.files) if self.files else 0.0

    def _advance(self) -> None:
        share = min(1.0, self._batch_embedded / self._batch_chunks) if self._batch_chunks else 1.0
        now = self._settled + self._embedded_files + self._batch_files * share
        self.position = min(float(self.files), max(self.position, now))


class TerminalProgress:
    """A bar on stderr (when it is a terminal) over the run's files, moving as chunks are embedded; files done,
    chunks embedded and pages read by OCR beside it."""

    def __init__(self, stream: TextIO | None = None, *, always: bool = False, redraw_seconds: float = 0.1) -> None:
        """`stream`: where the bar goes (stderr); `always`: show it even when that is not a terminal;
        `redraw_seconds`: the least time between two drawings."""
        self.tally = IndexingTally()
        self._stream = stream
        self._always = always
        self._redraw_seconds = redraw_seconds
        self._bar: Any = None

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()

    def started(self, files: int) -> None:
        from tqdm import tqdm

        self.tally.started(files)
        self._bar = tqdm(
            total=files,
            desc="Indexing",
            bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]",
            file=self._stream or sys.stderr,
            disable=False if self._always else None,  # None: shown only on a terminal
            dynamic_ncols=True,
            mininterval=self._redraw_seconds,
            miniters=0,  # redraw on any movement, whatever the pace so far
        )
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

    def postfix(self) -> str:
        tally = self.tally
        parts = [f"{tally.files_done:,}/{plural(tally.files, 'file')}", plural(tally.chunks, "chunk") + " embedded"]
        if tally.ocr_pages:
            parts.append(f"OCR pages: {tally.ocr_pages:,}")
        return ", ".join(parts)

    def _show(self) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(self.postfix(), refresh=False)
            self._bar.update(self.tally.position - self._bar.n)  # redraws when `redraw_seconds` have passed
