"""A terminal progress bar for indexing runs (files and chunks)."""

from __future__ import annotations

import sys

from index.models import FileOutcome


class TerminalProgress:
    """Shows files done and chunks embedded on stderr."""

    def __init__(self) -> None:
        self._bar = None
        self._chunks = 0

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()

    def started(self, files: int) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=files, unit="file", file=sys.stderr, disable=None, dynamic_ncols=True)

    def file_done(self, outcome: FileOutcome) -> None:
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix(chunks=self._chunks, refresh=False)

    def chunks_embedded(self, count: int) -> None:
        self._chunks += count
        if self._bar is not None:
            self._bar.set_postfix(chunks=self._chunks)
