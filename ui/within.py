"""The sidebar's "Ask within": the documents the next questions are answered from, kept for the conversation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from index.errors import IndexingError
from index.models import IndexedDocument

WITHIN = "ask_within"  # the chosen documents' sources


def document_labels(documents: Sequence[IndexedDocument]) -> dict[str, str]:
    """source -> what the list shows: the file name, or the whole source where two documents share a file name."""
    names = {document.source: Path(document.source).name or document.source for document in documents}
    shared = Counter(names.values())
    return {source: name if shared[name] == 1 else source for source, name in names.items()}


def render_within(box, assistant) -> list[str] | None:
    """The multiselect of indexed documents; returns the chosen ones' sources, or None to ask within all."""
    try:
        labels = document_labels(assistant.sources())
    except IndexingError:
        labels = {}  # the documents list above says what went wrong
    # A document removed (or in another collection) since it was chosen is no longer an option.
    st.session_state[WITHIN] = [source for source in st.session_state.get(WITHIN, []) if source in labels]
    with box:
        chosen = st.multiselect(
            "Ask within",
            options=sorted(labels, key=lambda source: (labels[source].lower(), source)),
            format_func=labels.__getitem__,
            key=WITHIN,
            placeholder="All documents",
            disabled=not labels,
            help="Answer only from these documents. None chosen: all of them.",
        )
    return list(chosen) or None


def question_placeholder(sources: list[str] | None, most: int = 3) -> str:
    """What the question box says: where the next question is answered from."""
    if not sources:
        return "Ask about your documents"
    names = sorted((Path(source).name or source for source in sources), key=lambda name: (name.lower(), name))
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return f"Ask within {', '.join(names[:most])}{more}"
