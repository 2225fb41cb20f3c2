"""The sidebar: what is indexed (add, remove), the settings for the next question, and the conversation."""

from __future__ import annotations

import math
from pathlib import Path

import streamlit as st

from assistant.errors import AssistantError
from assistant.models import AnswerMode
from assistant.settings import Settings
from assistant.wording import plural
from index.errors import IndexingError
from index.formats import SUPPORTED_EXTENSIONS
from ui import state
from ui.citations import escape_markdown
from ui.documents import index_uploads, remove_document, uploads_folder
from ui.export import conversation_markdown
from ui.progress import BarProgress

NOTICES = "notices"


def render_settings(box, base: Settings) -> None:
    """Widgets for the number of passages, the answer mode and the collection; read on the next question."""
    with box:
        st.subheader("Settings")
        most = max(20, base.top_k)
        st.slider("Passages per answer", 1, most, key=state.TOP_K, help="How many retrieved passages the answer uses.")
        if base.chat_model:
            st.radio(
                "Answer mode",
                state.MODES,
                key=state.MODE,
                format_func=lambda mode: (
                    base.chat_model if mode == AnswerMode.CHAT_MODEL else "Extractive (quotes only)"
                ),
                help="Extractive answers are made of quotes; the chat model writes an answer and cites passages.",
            )
        else:
            st.caption("Answer mode: extractive (no chat model is configured; set ASSISTANT_CHAT_MODEL).")
        st.text_input("Collection", key=state.COLLECTION, help="The Chroma collection to use; a new name starts empty.")
        problem = state.collection_problem(st.session_state.get(state.COLLECTION, ""))
        if problem:
            st.error(f"Collection name not used: {problem}.")
        location = base.store_settings()
        where = f"Chroma server http://{location.host}:{location.port}" if location.host else location.path
        st.caption(f"Index: {escape_markdown(where)}")


def render_documents(box, assistant, settings: Settings) -> None:
    """The list of indexed documents with a remove button each, the uploads form, and what the last action did."""
    folder = uploads_folder(settings.index_path, settings.collection, state.uploads_override())
    with box:
        st.subheader("Documents")
        listing = st.container()
        _upload_form(assistant, settings, folder)
        for kind, message in st.session_state.get(NOTICES, []):
            getattr(st, kind)(escape_markdown(message))
        with listing:
            _document_list(assistant, settings, folder)


def render_conversation_tools(box, exchanges: list[state.Exchange]) -> None:
    with box:
        st.subheader("Conversation")
        markdown = conversation_markdown([(exchange.question, exchange.answer) for exchange in exchanges])
        st.session_state["export_markdown"] = markdown
        st.download_button(
            "Export as Markdown",
            data=markdown,
            file_name="conversation.md",
            mime="text/markdown",
            disabled=not exchanges,
            on_click="ignore",
            icon=":material/download:",
        )
        st.button(
            "Clear conversation",
            on_click=state.clear_conversation,
            disabled=not exchanges,
            icon=":material/delete_sweep:",
        )


def _document_list(assistant, settings: Settings, folder: Path) -> None:
    try:
        documents = assistant.sources()
    except IndexingError as error:
        st.error(escape_markdown(str(error)))
        return
    if not documents:
        st.caption("Nothing is indexed yet: add documents below.")
        return
    st.caption(f"{plural(len(documents), 'document')} indexed, {plural(sum(d.chunks for d in documents), 'passage')}")
    for document in documents:
        name = Path(document.source).name or document.source
        text, button = st.columns([5, 1], vertical_alignment="center")
        counts = f"{plural(document.chunks, 'passage')} · {plural(document.characters, 'character')}"
        text.markdown(f"**{escape_markdown(name)}**  \n{counts}")
        button.button(
            ":material/delete:",
            key=f"remove-{document.id}",
            help=f"Remove {name} from the index",
            on_click=_remove,
            args=(settings, document.id, folder),
            type="tertiary",
        )


def _upload_form(assistant, settings: Settings, folder: Path) -> None:
    with st.form("upload", clear_on_submit=True, border=False):
        files = st.file_uploader(
            "Add documents",
            type=sorted(extension.lstrip(".") for extension in SUPPORTED_EXTENSIONS),
            accept_multiple_files=True,
            max_upload_size=max(1, math.ceil(settings.max_file_mb)),
            help=f"Up to {settings.max_file_mb:g} MB each. They are saved in {folder}.",
        )
        submitted = st.form_submit_button("Index uploaded files", icon=":material/upload:")
    if not (submitted and files):
        return
    widget = st.progress(0.0, text="Indexing…")
    try:
        uploads = [(file.name, file.getvalue()) for file in files]
        results = index_uploads(assistant, uploads, folder, BarProgress(widget, "Indexing uploads"))
    except (AssistantError, IndexingError, OSError) as error:
        st.session_state[NOTICES] = [("error", f"Indexing failed: {error}")]
        return
    finally:
        widget.empty()
    state.forget_assistants()
    st.session_state[NOTICES] = [("success" if result.ok else "error", result.message()) for result in results]


def _remove(settings: Settings, document_id: str, folder: Path) -> None:
    try:
        removed = remove_document(state.get_assistant(settings), document_id, folder)
    except (AssistantError, IndexingError) as error:
        st.session_state[NOTICES] = [("error", f"Could not remove it: {error}")]
        return
    state.forget_assistants()
    st.session_state[NOTICES] = [("success", f"Removed {Path(removed.source).name}.")]
