"""The source viewer: the whole document, rebuilt from the index, scrolled to the highlighted quote."""

from __future__ import annotations

import streamlit as st

from assistant.errors import AssistantError
from assistant.page_view import MarkedPage, has_page_view
from index.errors import IndexingError
from ui.citations import SCROLL_TO_QUOTE, document_html, escape_markdown
from ui.page_image import SCROLL_TO_BOX, page_html
from ui.state import SourceView, get_assistant

MAX_SHOWN = 1_000_000  # characters of a very long document shown around the quote


@st.dialog("Source document", width="large")
def show_source(view: SourceView) -> None:
    """Open the document of `view` with its span highlighted and scrolled into view."""
    try:
        text = get_assistant(view.settings).document_text(view.document_id)
    except (AssistantError, IndexingError, LookupError) as error:
        st.warning(escape_markdown(f"This document can no longer be shown ({error})."))
        return
    start, end = locate(text, view)
    if start < 0:
        st.warning("The document changed since this answer: the quote is no longer in it.")
        start = end = 0
    page = _marked_page(view, start, end) if start < end else None
    text, start, end, note = _limit(text, start, end)
    if page is None:
        _show_text(view.label, text, start, end, note)
        return
    page_tab, text_tab = st.tabs([f"Page {page.number}", "Text"])
    with page_tab:
        st.html(page_html(page, view.label))
        st.html(SCROLL_TO_BOX, unsafe_allow_javascript=True)
    with text_tab:
        _show_text(view.label, text, start, end, note)


def _show_text(label: str, text: str, start: int, end: int, note: str) -> None:
    if note:
        st.caption(note)
    st.html(document_html(label, text, start, end))
    st.html(SCROLL_TO_QUOTE, unsafe_allow_javascript=True)


def _marked_page(view: SourceView, start: int, end: int) -> MarkedPage | None:
    """The quote's page, when the document has pages to show (a PDF or a scan); a note when it cannot be shown."""
    assistant = get_assistant(view.settings)
    try:
        document = assistant.snapshot().state.documents.get(view.document_id)
        if document is None or not has_page_view(document):
            return None
        return assistant.page_with_quote(view.document_id, start, end, view.quote[: end - start])
    except (AssistantError, IndexingError, LookupError) as error:
        st.caption(escape_markdown(f"The page cannot be shown: {error}"))
        return None


def locate(text: str, view: SourceView) -> tuple[int, int]:
    """Where the quote is in `text`: at its recorded offsets, else its first occurrence, else (-1, -1)."""
    if text[view.start : view.end] == view.quote:
        return view.start, view.end
    found = text.find(view.quote) if view.quote else -1
    return (found, found + len(view.quote)) if found >= 0 else (-1, -1)


def _limit(text: str, start: int, end: int) -> tuple[str, int, int, str]:
    if len(text) <= MAX_SHOWN:
        return text, start, end, ""
    left = max(0, min(start - MAX_SHOWN // 2, len(text) - MAX_SHOWN))
    shown = text[left : left + MAX_SHOWN]
    note = f"A long document: characters {left:,} to {left + len(shown):,} of {len(text):,} are shown."
    return shown, start - left, end - left, note
