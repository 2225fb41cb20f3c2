"""Session state (the conversation, the sidebar's choices) and the heavy resources, loaded once per process."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import streamlit as st

from assistant.core import Assistant
from assistant.models import Answer, AnswerMode, Turn
from assistant.settings import Settings
from index.embedding import Embedder, EmbedderSettings

CONVERSATION = "conversation"
VIEWING = "viewing"
TOP_K = "top_k"
MODE = "answer_mode"
COLLECTION = "collection"
VALID_COLLECTION = "valid_collection"
SEEDS_ENV = "ASSISTANT_UI_SEEDS"  # the sample folder indexed on first run ("" turns it off)
UPLOADS_ENV = "ASSISTANT_UPLOADS_PATH"  # where uploads are saved (default: beside the index)
MODES = tuple(AnswerMode)
_COLLECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]$")


@dataclass(frozen=True)
class Exchange:
    """One question and its answer, with the settings it was asked with (to open its sources later)."""

    question: str
    answer: Answer
    settings: Settings
    top_k: int


@dataclass(frozen=True)
class SourceView:
    """A span of an indexed document to show in the viewer."""

    settings: Settings
    document_id: str
    label: str
    start: int
    end: int
    quote: str


# --- settings ------------------------------------------------------------------------------------------


def base_settings() -> Settings:
    """The settings from ASSISTANT_* variables (set by `assistant ui` from its flags)."""
    return Settings.from_env()


def collection_problem(name: str) -> str:
    """Why `name` cannot be a Chroma collection name, or "" when it can."""
    if not 3 <= len(name) <= 500:
        return "a collection name has 3 to 500 characters"
    if not _COLLECTION_NAME.match(name) or ".." in name:
        return "use letters, digits, '.', '_' or '-', starting and ending with a letter or digit"
    return ""


def init_state(base: Settings) -> None:
    """Defaults for the conversation and the sidebar's widgets, set once per session."""
    st.session_state.setdefault(CONVERSATION, [])
    st.session_state.setdefault(TOP_K, base.top_k)
    st.session_state.setdefault(MODE, AnswerMode.CHAT_MODEL if base.chat_model else AnswerMode.EXTRACTIVE)
    st.session_state.setdefault(COLLECTION, base.collection)
    st.session_state.setdefault(VALID_COLLECTION, base.collection)


def chosen_settings(base: Settings) -> Settings:
    """The base settings with the sidebar's choices applied: collection, answer mode, passages."""
    collection = st.session_state.get(COLLECTION, base.collection)
    if collection_problem(collection):
        collection = st.session_state.get(VALID_COLLECTION, base.collection)
    else:
        st.session_state[VALID_COLLECTION] = collection
    mode = st.session_state.get(MODE, AnswerMode.EXTRACTIVE)
    chat_model = base.chat_model if mode == AnswerMode.CHAT_MODEL else ""
    top_k = int(st.session_state.get(TOP_K, base.top_k))
    return base.with_changes(collection=collection, chat_model=chat_model, top_k=top_k)


def seeds_folder() -> Path | None:
    folder = os.environ.get(SEEDS_ENV, "seeds")
    return Path(folder) if folder else None


def uploads_override() -> str:
    return os.environ.get(UPLOADS_ENV, "")


# --- the conversation ----------------------------------------------------------------------------------


def conversation() -> list[Exchange]:
    return st.session_state.setdefault(CONVERSATION, [])


def history() -> list[Turn]:
    return [Turn(exchange.question, exchange.answer.text) for exchange in conversation()]


def clear_conversation() -> None:
    st.session_state[CONVERSATION] = []
    st.session_state.pop(VIEWING, None)


def view_source(view: SourceView) -> None:
    """Ask for `view` to open in the viewer on this run."""
    st.session_state[VIEWING] = view


def take_view() -> SourceView | None:
    return st.session_state.pop(VIEWING, None)


# --- resources, once per process ------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _embedder(model: str, device: str, precision: str, batch_size: int) -> Embedder:
    embedder = Embedder(EmbedderSettings(model, device, precision, batch_size))
    embedder.warm_up()
    return embedder


def shared_embedder(settings: Settings) -> Embedder:
    """The loaded embedding model for these settings, shared by every Assistant (and by tests)."""
    embedding = settings.embedder_settings()
    return _embedder(embedding.model, embedding.device, embedding.precision, embedding.batch_size)


@st.cache_resource(show_spinner=False)
def _assistant(key: str, _settings: Settings) -> Assistant:
    assistant = Assistant(_settings, embedder=shared_embedder(_settings))
    assistant.warm_up()
    return assistant


def get_assistant(settings: Settings) -> Assistant:
    """The Assistant for these settings (the number of passages is chosen per question, so it is not part of it)."""
    return _assistant(_key(settings), settings)


def forget_assistants() -> None:
    """Drop the cached Assistants (the index changed); the embedding model stays loaded."""
    _assistant.clear()


@st.cache_resource(show_spinner=False)
def _opened() -> tuple[set[str], threading.Lock]:
    return set(), threading.Lock()


def first_open(settings: Settings) -> bool:
    """True only the first time this process opens this index (when the samples may be indexed)."""
    opened, lock = _opened()
    location = settings.store_settings().location
    with lock:
        if location in opened:
            return False
        opened.add(location)
        return True


def _key(settings: Settings) -> str:
    secret = hashlib.sha256(settings.chat_api_key.encode()).hexdigest()[:12] if settings.chat_api_key else ""
    return repr(replace(settings, top_k=1, chat_api_key=secret))
