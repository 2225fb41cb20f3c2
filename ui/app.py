"""The chat window: `streamlit run ui/app.py` (or `assistant ui`). Page layout only; the parts live beside it."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script by Streamlit: make `ui`, `assistant` and `index` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st

from assistant.core import Assistant
from assistant.errors import AssistantError
from assistant.runtime import prefer_passive_openmp
from assistant.settings import Settings
from index.errors import IndexingError
from ui import state
from ui.chat import ask, render_conversation
from ui.citations import CSS, escape_markdown
from ui.documents import seed_if_empty
from ui.progress import BarProgress
from ui.sidebar import render_conversation_tools, render_documents, render_settings
from ui.viewer import show_source
from ui.within import question_placeholder, render_within


def main() -> None:
    prefer_passive_openmp()  # this script owns the process; nothing has loaded torch before the first run
    st.set_page_config(page_title="Ask your documents", page_icon=":material/format_quote:")
    st.html(CSS)
    st.title("Ask your documents")
    st.caption("Every answer is proved with exact quotes: open one to see it highlighted in its document.")
    try:
        base = state.base_settings()
    except ValueError as error:
        st.error(escape_markdown(f"The settings are not valid: {error}"))
        st.stop()
    state.init_state(base)

    with st.sidebar:
        documents_box, within_box = st.container(), st.container()
        settings_box, conversation_box = st.container(), st.container()
    render_settings(settings_box, base)
    settings = state.chosen_settings(base)

    assistant = _load(settings)
    _seed_on_first_run(assistant, settings)
    render_documents(documents_box, assistant, settings)
    sources = render_within(within_box, assistant)

    exchanges = state.conversation()
    has_documents = bool(assistant.sources())
    if not has_documents:
        st.info("Nothing is indexed yet. Add documents in the sidebar, then ask about them.")
    render_conversation(exchanges)
    placeholder = question_placeholder(sources)
    question = st.chat_input(placeholder, disabled=not has_documents, key="question", max_chars=2000)
    if question:
        ask(assistant, question, exchanges, settings.top_k, sources)
    render_conversation_tools(conversation_box, exchanges)

    view = state.take_view()
    if view is not None:
        show_source(view)


def _load(settings: Settings) -> Assistant:
    """The Assistant for these settings; a spinner shows while the model and the index load the first time."""
    with st.spinner("Loading the embedding model and opening the index…"):
        try:
            return state.get_assistant(settings)
        except (AssistantError, IndexingError, OSError, ValueError) as error:
            st.error(escape_markdown(f"Could not open the index at {settings.store_settings().location}: {error}"))
            st.stop()


def _seed_on_first_run(assistant: Assistant, settings: Settings) -> None:
    """Index the sample folder (seeds/) the first time an empty index is opened, with a progress bar."""
    seeds = state.seeds_folder()
    if seeds is None or not seeds.is_dir() or not state.first_open(settings):
        return
    label = escape_markdown(f"Indexing the sample documents in {seeds}/ (first run)")
    widget = st.progress(0.0, text=label)
    try:
        report = seed_if_empty(assistant, seeds, BarProgress(widget, label))
    except (AssistantError, IndexingError, OSError) as error:
        st.error(escape_markdown(f"Could not index the sample documents: {error}"))
        return
    finally:
        widget.empty()
    if report is not None:
        state.forget_assistants()
        st.toast(f"Indexed the sample documents: {report.summary()}")


main()
