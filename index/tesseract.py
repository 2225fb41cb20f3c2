"""Run the Tesseract command on one page image: its words with their boxes (TSV), or the page's orientation.

Tesseract is run directly rather than through a wrapper so that each run gets OMP_THREAD_LIMIT=1: Debian's build
parallelises with OpenMP, and on two shared cores its threads waiting for each other made a page take 4.3 s
instead of 0.8 s (docs/benchmarks.md). The limit is set for the Tesseract process only, never for this one.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
from dataclasses import dataclass

from PIL import Image

PAGE_TIMEOUT_SECONDS = 120  # a page Tesseract cannot finish in two minutes is reported, not waited on forever


class TesseractFailed(Exception):
    """Tesseract did not read the page; the message says why, for a person."""


@dataclass(frozen=True)
class RecognisedWord:
    """A word Tesseract read, where it sits (pixels, from the top left) and how sure it is (0-100)."""

    text: str
    block: int
    paragraph: int
    line: int
    left: int
    top: int
    width: int
    height: int
    confidence: float


def read_words(binary: str, image: Image.Image, language: str, dpi: int) -> list[RecognisedWord]:
    """The words of the page in Tesseract's reading order (automatic page segmentation)."""
    output = _run(binary, image, ["-l", language, "--dpi", str(dpi), "--psm", "3", "tsv"])
    words = []
    for row in csv.DictReader(io.StringIO(output), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text or float(row.get("conf") or -1) < 0:
            continue
        words.append(
            RecognisedWord(
                text,
                int(row["block_num"]),
                int(row["par_num"]),
                int(row["line_num"]),
                int(row["left"]),
                int(row["top"]),
                int(row["width"]),
                int(row["height"]),
                float(row["conf"]),
            )
        )
    return words


def read_rotation(binary: str, image: Image.Image, dpi: int) -> int:
    """Degrees clockwise that turn the page upright, from Tesseract's orientation data; 0 when it cannot tell."""
    try:
        output = _run(binary, image, ["--dpi", str(dpi), "--psm", "0"])
    except TesseractFailed:  # too little text to tell
        return 0
    found = re.search(r"^Rotate:\s*(\d+)", output, re.MULTILINE)
    return int(found.group(1)) if found else 0


def _run(binary: str, image: Image.Image, arguments: list[str]) -> str:
    png = io.BytesIO()
    image.save(png, format="PNG", compress_level=1)
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        finished = subprocess.run(
            [binary, "stdin", "stdout", *arguments],
            input=png.getvalue(),
            capture_output=True,
            env=environment,
            timeout=PAGE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TesseractFailed(f"Tesseract did not finish a page in {PAGE_TIMEOUT_SECONDS} s") from None
    except OSError as exc:
        raise TesseractFailed(f"Tesseract could not be run ({exc.strerror or exc})") from None
    if finished.returncode != 0:
        detail = finished.stderr.decode("utf-8", "replace").strip().splitlines()
        raise TesseractFailed(f"Tesseract failed: {detail[-1] if detail else f'exit status {finished.returncode}'}")
    return finished.stdout.decode("utf-8", "replace")
