"""Settings: every default written once, environment values parsed by each field's declared type, clear errors
naming the variable and the value, and a missing chat-provider package named by its extra."""

from __future__ import annotations

import inspect
import sys

import pytest

from assistant.chat_models import create_chat_model
from assistant.errors import ChatModelError
from assistant.evidence import DECLINE_THRESHOLD
from assistant.retrieval import RetrievalSettings
from assistant.settings import Settings, parse_value
from index.chroma_client import StoreSettings
from index.chunking import ChunkingSettings
from index.embedding import EmbedderSettings
from index.formats import MAX_FILE_BYTES
from index.indexer import WRITE_BATCH_CHUNKS, Indexer


@pytest.mark.parametrize("word", ["false", "0", "no", "off", "False", " NO "])
def test_a_bool_setting_reads_false_words_as_false(word):
    assert parse_value("ASSISTANT_FLAG", word, bool) is False


@pytest.mark.parametrize("word", ["true", "1", "yes", "on", "TRUE"])
def test_a_bool_setting_reads_true_words_as_true(word):
    assert parse_value("ASSISTANT_FLAG", word, bool) is True


@pytest.mark.parametrize(
    ("variable", "raw", "expected"),
    [
        ("ASSISTANT_TOP_K", "seven", "ASSISTANT_TOP_K must be a whole number, got 'seven'"),
        ("ASSISTANT_TOP_K", "2.5", "ASSISTANT_TOP_K must be a whole number, got '2.5'"),
        ("ASSISTANT_MAX_FILE_MB", "lots", "ASSISTANT_MAX_FILE_MB must be a number, got 'lots'"),
        ("ASSISTANT_DECLINE_THRESHOLD", "high", "ASSISTANT_DECLINE_THRESHOLD must be a number, got 'high'"),
    ],
)
def test_a_bad_value_names_the_variable_and_the_value(variable, raw, expected):
    with pytest.raises(ValueError) as error:
        Settings.from_env({variable: raw})
    assert str(error.value) == expected


def test_a_bad_bool_names_the_variable():
    with pytest.raises(ValueError, match=r"ASSISTANT_FLAG must be true or false .*, got 'maybe'"):
        parse_value("ASSISTANT_FLAG", "maybe", bool)


def test_values_are_parsed_by_their_declared_type():
    settings = Settings.from_env(
        {"ASSISTANT_TOP_K": "7", "ASSISTANT_MAX_FILE_MB": "2.5", "ASSISTANT_DECLINE_THRESHOLD": "0.3"}
    )
    assert (settings.top_k, settings.max_file_mb, settings.decline_threshold) == (7, 2.5, 0.3)
    assert Settings.from_env({"ASSISTANT_DECLINE_THRESHOLD": ""}).decline_threshold is None, "empty: unset"
    assert Settings.from_env({}, top_k=3, collection=None).top_k == 3, "flags override; None flags are ignored"


def test_the_decline_threshold_is_the_calibrated_one_unless_set(settings, fake_embedder):
    from assistant.core import Assistant

    assert settings.decline_threshold is None
    assert Assistant(settings, embedder=fake_embedder).decline_threshold == DECLINE_THRESHOLD
    chosen = settings.with_changes(decline_threshold=0.0)
    assert Assistant(chosen, embedder=fake_embedder).decline_threshold == 0.0, "0 is a threshold, not a sentinel"


def test_the_settings_defaults_are_the_components_defaults():
    settings = Settings()
    assert settings.store_settings() == StoreSettings()
    assert settings.embedder_settings() == EmbedderSettings()
    assert settings.chunking_settings() == ChunkingSettings()
    assert settings.retrieval_settings() == RetrievalSettings()
    assert settings.max_file_bytes == MAX_FILE_BYTES and settings.write_batch_chunks == WRITE_BATCH_CHUNKS
    indexer = inspect.signature(Indexer).parameters
    assert (indexer["max_file_bytes"].default, indexer["batch_chunks"].default) == (MAX_FILE_BYTES, WRITE_BATCH_CHUNKS)


def test_the_environment_of_settings_rebuilds_them():
    settings = Settings(index_path="/tmp/x", top_k=9, decline_threshold=0.25, chat_model="ollama:x")
    assert Settings.from_env(settings.environment()) == settings
    assert "ASSISTANT_DECLINE_THRESHOLD" not in Settings().environment(), "an unset value stays unset"


def test_a_missing_provider_package_is_named_by_its_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "langchain_ollama", None)  # as if the package were not installed
    with pytest.raises(ChatModelError, match=r"pip install 'quote-assistant\[ollama\]'"):
        create_chat_model(Settings(chat_model="ollama:llama3.1"))
