"""A page's text with the place of each character on the page, built from a PDF's text layer or from OCR.

The loaders make the document text of a PDF or an image from these pages, and the page view marks a quote with
the same boxes, so that a quote's characters and the boxes drawn over the page always agree.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    """A rectangle on a page in PDF points, origin at the page's bottom left (as PDF coordinates are)."""

    left: float
    bottom: float
    right: float
    top: float


@dataclass(frozen=True)
class PageText:
    """The text of one page; `boxes[i]` is where `text[i]` is drawn (None for a space or line break the reader
    inserted). `ocr` says the text was recognised from the page's image."""

    number: int
    text: str
    boxes: tuple[Box | None, ...]
    ocr: bool = False
    width: float = 0.0  # the page's size in points
    height: float = 0.0

    def boxes_between(self, start: int, end: int) -> list[Box]:
        """The boxes of the characters text[start:end], merged into one box per line and word run."""
        merged: list[Box] = []
        for box in self.boxes[max(start, 0) : max(end, 0)]:
            if box is None:
                continue
            last = merged[-1] if merged else None
            if last is not None and _same_line(last, box) and box.left - last.right < 2 * (last.top - last.bottom):
                merged[-1] = Box(
                    min(last.left, box.left),
                    min(last.bottom, box.bottom),
                    max(last.right, box.right),
                    max(last.top, box.top),
                )
            else:
                merged.append(box)
        return merged


def _same_line(first: Box, second: Box) -> bool:
    overlap = min(first.top, second.top) - max(first.bottom, second.bottom)
    return overlap > 0.5 * min(first.top - first.bottom, second.top - second.bottom)


class PageTextBuilder:
    """Collects (character, box) pairs and gives them back as readable text: line breaks unified, control
    characters dropped, no trailing spaces, at most one blank line in a row, no blank lines around the text."""

    def __init__(self) -> None:
        self._chars: list[str] = []
        self._boxes: list[Box | None] = []
        self._after_return = False

    def add(self, char: str, box: Box | None = None) -> None:
        after_return, self._after_return = self._after_return, char == "\r"
        if char == "\n" and after_return:
            return  # "\r\n" is one line break
        if char in "\r\x0b\x0c\x85\u2028\u2029":
            char = "\n"
        elif char == "\0" or (unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn") and char not in "\t\n"):
            return
        self._chars.append(char)
        self._boxes.append(box if char.strip() else None)

    def add_text(self, text: str, box: Box | None = None) -> None:
        for char in text:
            self.add(char, box)

    def build(self, number: int, *, ocr: bool = False, width: float = 0.0, height: float = 0.0) -> PageText:
        lines = _split_lines(self._chars, self._boxes)
        kept: list[tuple[list[str], list[Box | None]]] = []
        blank_run = 0
        for chars, boxes in lines:
            while chars and chars[-1].isspace():
                chars.pop()
                boxes.pop()
            blank_run = blank_run + 1 if not chars else 0
            if blank_run < 2:
                kept.append((chars, boxes))
        while kept and not kept[0][0]:
            kept.pop(0)
        while kept and not kept[-1][0]:
            kept.pop()
        text_chars: list[str] = []
        text_boxes: list[Box | None] = []
        for index, (chars, boxes) in enumerate(kept):
            if index:
                text_chars.append("\n")
                text_boxes.append(None)
            text_chars.extend(chars)
            text_boxes.extend(boxes)
        start = 0
        while start < len(text_chars) and text_chars[start].isspace():
            start += 1
        text = "".join(text_chars[start:])
        return PageText(number, text, tuple(text_boxes[start:]), ocr, width, height)


def _split_lines(chars: list[str], boxes: list[Box | None]) -> list[tuple[list[str], list[Box | None]]]:
    lines: list[tuple[list[str], list[Box | None]]] = [([], [])]
    for char, box in zip(chars, boxes, strict=True):
        if char == "\n":
            lines.append(([], []))
        else:
            lines[-1][0].append(char)
            lines[-1][1].append(box)
    return lines
