"""Escaped HTML for answers, quotes in their passages and whole documents (document text never runs)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

MARKER = re.compile(r"\[(\d+)\]")
QUOTE_ID = "quote"

CSS = """
<style>
.qa-text { line-height: 1.6; overflow-wrap: anywhere; }
.qa-marker { color: #1c5fb8; font-weight: 600; font-size: 0.8em; vertical-align: super; margin-left: 1px; }
.qa-unsupported { text-decoration: underline wavy #c0392b; text-underline-offset: 3px; }
.qa-unsupported-tag { color: #c0392b; font-size: 0.75em; font-weight: 600; margin-left: 2px; }
.qa-draft { opacity: 0.75; }
.qa-draft-tag { color: #8a6d3b; font-size: 0.8em; font-weight: 600; }
.qa-card { border-left: 3px solid #f0b400; background: rgba(240, 180, 0, 0.06); padding: 0.45rem 0.75rem;
  margin: 0.2rem 0 0.1rem 0; border-radius: 0 6px 6px 0; line-height: 1.55; overflow-wrap: anywhere; }
.qa-card-label { font-size: 0.85em; font-weight: 600; opacity: 0.75; margin-bottom: 0.2rem; }
.qa-passage { opacity: 0.92; }
.qa-neutral { border-left-color: #9aa5b1; background: rgba(128, 128, 128, 0.06); }
.qa-declined { border-left: 3px solid #1c5fb8; padding-left: 0.6rem; font-style: italic; }
.qa-warning { border-left-color: #c0392b; background: rgba(192, 57, 43, 0.06); }
.qa-warning ul { margin: 0.2rem 0 0 1.2rem; padding: 0; }
mark.qa-quote, mark#quote { background: #ffe066; color: #111; padding: 0 2px; border-radius: 3px; }
.qa-doc { max-height: 62vh; overflow-y: auto; border: 1px solid #ddd; border-radius: 6px; padding: 0.75rem 1rem;
  line-height: 1.6; overflow-wrap: anywhere; background: #fff; color: #222; }
.qa-doc-title { font-weight: 600; margin-bottom: 0.4rem; overflow-wrap: anywhere; }
</style>
"""


def scroll_into_view(selector: str) -> str:
    """A script that scrolls the first element matching `selector` (a constant of this app, never document text)
    into the middle of its scrolling box, once it is there and laid out (images inside loaded)."""
    return f"""
<script>
(function () {{
  var tries = 0;
  function scroll() {{
    var target = document.querySelector({json.dumps(selector)});
    var images = target ? target.parentElement.querySelectorAll("img") : [];
    var loaded = Array.prototype.every.call(images, function (image) {{ return image.complete; }});
    if (target && loaded) {{ target.scrollIntoView({{block: "center"}}); return; }}
    if (++tries < 60) {{ setTimeout(scroll, 100); }}
  }}
  setTimeout(scroll, 50);
}})();
</script>
"""


# Runs in the page, not in the document: it only scrolls the highlighted quote into the middle of the viewer.
SCROLL_TO_QUOTE = scroll_into_view("mark#quote")


def escape_markdown(text: str) -> str:
    """Text for Streamlit's Markdown (alerts, captions): every ASCII punctuation mark backslash-escaped."""
    return "".join(f"\\{ch}" if ch.isascii() and not ch.isalnum() and not ch.isspace() else ch for ch in text)


def escape_text(text: str) -> str:
    """Escape `text` for HTML, keeping its line breaks (no blank line survives, so no markdown kicks in)."""
    return html.escape(text, quote=True).replace("\n", "<br>")


def highlight_html(text: str, start: int, end: int, *, mark_id: str | None = None) -> str:
    """`text` with `text[start:end]` wrapped in <mark>; every piece escaped."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    start, end = min(start, end), max(start, end)
    attribute = f' id="{html.escape(mark_id, quote=True)}"' if mark_id else ' class="qa-quote"'
    return f"{escape_text(text[:start])}<mark{attribute}>{escape_text(text[start:end])}</mark>{escape_text(text[end:])}"


@dataclass(frozen=True)
class Window:
    """A slice of a text around a span, with the span's offsets inside the slice."""

    text: str
    start: int
    end: int
    cut_before: bool
    cut_after: bool


def context_window(text: str, start: int, end: int, radius: int = 240) -> Window:
    """The span with about `radius` characters either side, cut at spaces."""
    left = max(0, start - radius)
    right = min(len(text), end + radius)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    return Window(text[left:right], start - left, end - left, left > 0, right < len(text))


def quote_in_passage_html(label: str, passage: str, start: int, end: int, *, radius: int = 240) -> str:
    """A citation card: its label, then the quote highlighted inside its surrounding passage."""
    window = context_window(passage, start, end, radius)
    body = highlight_html(window.text, window.start, window.end)
    before = "… " if window.cut_before else ""
    after = " …" if window.cut_after else ""
    return (
        f'<div class="qa-card"><div class="qa-card-label">{html.escape(label)}</div>'
        f'<div class="qa-passage">{before}{body}{after}</div></div>'
    )


def passage_html(label: str, text: str, limit: int = 400) -> str:
    """A card for a retrieved passage (no quote inside it), shortened to about `limit` characters."""
    shown = text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"
    return (
        f'<div class="qa-card qa-neutral"><div class="qa-card-label">{html.escape(label)}</div>'
        f'<div class="qa-passage">{escape_text(shown)}</div></div>'
    )


def answer_html(text: str, unsupported: Iterable[str] = (), *, declined: bool = False) -> str:
    """The answer text, escaped, with its [n] markers styled and unsupported sentences marked."""
    spans = _spans_of(text, unsupported)
    pieces, position = [], 0
    for start, end in spans:
        pieces.append(_with_markers(text[position:start]))
        pieces.append(
            f'<span class="qa-unsupported" title="No passage supports this sentence">{_with_markers(text[start:end])}'
            '</span><span class="qa-unsupported-tag">(unsupported)</span>'
        )
        position = end
    pieces.append(_with_markers(text[position:]))
    kind = "qa-text qa-declined" if declined else "qa-text"
    return f'<div class="{kind}">{"".join(pieces)}</div>'


def document_html(title: str, text: str, start: int, end: int) -> str:
    """The whole document in a scrollable box, the quote marked with id="quote"."""
    return (
        f'<div class="qa-doc-title">{html.escape(title)}</div>'
        f'<div class="qa-doc">{highlight_html(text, start, end, mark_id=QUOTE_ID)}</div>'
    )


def plain_html(text: str) -> str:
    """Any text (a question, a message) shown as text."""
    return f'<div class="qa-text">{escape_text(text)}</div>'


def _with_markers(text: str) -> str:
    return MARKER.sub(r'<span class="qa-marker">[\1]</span>', escape_text(text))


def _spans_of(text: str, sentences: Iterable[str]) -> list[tuple[int, int]]:
    """Non-overlapping spans of the given sentences in `text`, in order."""
    spans: list[tuple[int, int]] = []
    for sentence in sentences:
        sentence = sentence.strip()
        found = text.find(sentence) if sentence else -1
        if found != -1:
            spans.append((found, found + len(sentence)))
    spans.sort()
    kept: list[tuple[int, int]] = []
    for span in spans:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def unsupported_html(sentences: Iterable[str]) -> str:
    """A warning box listing the sentences no passage supports."""
    items = "".join(f"<li>{escape_text(sentence)}</li>" for sentence in sentences)
    return (
        '<div class="qa-card qa-warning"><div class="qa-card-label">Not supported by the documents '
        f"(no verified quote), check before relying on these:</div><ul>{items}</ul></div>"
    )


def draft_html(text: str) -> str:
    """A chat model's draft while it is written: marked as not yet checked, its text escaped like any answer."""
    return (
        f'<div class="qa-draft"><div class="qa-draft-tag">Draft · checking the quotes…</div>{answer_html(text)}</div>'
    )
