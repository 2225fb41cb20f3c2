"""What the terminal shows while a chat model writes: its draft, on stderr and marked as such, never as the answer.

The verified answer is printed to stdout once the quotes are checked; the draft may hold sentences verification will
drop, so it never goes to stdout. On a terminal the draft's words appear as they come; elsewhere (a pipe, a log)
one line says the model is writing, and how many words it wrote."""

from __future__ import annotations

import sys
from typing import TextIO

DRAFT_LABEL = "Draft from the chat model, not verified yet: "
CHECKING = "Checking its quotes against the documents…"


class DraftDisplay:
    """Shows the pieces of a chat model's draft on `stream` (stderr) while it is written."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.words = 0
        self.started = False

    def add(self, piece: str) -> None:
        if not self.started:
            self.started = True
            self.stream.write(DRAFT_LABEL if self.live else "The chat model is writing its answer…")
        self.words += len(piece.split())
        if self.live:
            self.stream.write(piece)
        self.stream.flush()

    def done(self) -> None:
        """End the draft: a line that says the quotes are being checked (or how much was written)."""
        if not self.started:
            return
        ending = f"\n{CHECKING}\n" if self.live else f" {self.words} words. {CHECKING}\n"
        self.stream.write(ending)
        self.stream.flush()
