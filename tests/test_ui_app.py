"""The Streamlit app's logic, driven by AppTest against a real Chroma index in tmp_path."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant import Assistant, Settings
from assistant.models import Answer, Citation
from ui import state

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "ui" / "app.py"
NATO = ROOT / "seeds" / "nato-stoltenberg-prague.txt"
QUESTION = "Where did the NATO foreign ministers meet?"
PAYLOAD = "<script>window.__pwned = 1</script><img src=x onerror=\"document.title='pwned'\">"


@pytest.fixture
def settings(app_environment) -> Settings:
    """A fresh index in tmp_path holding the NATO sample; the app reads it through ASSISTANT_* variables."""
    settings = Settings.from_env()
    _assistant(settings).index_paths([NATO])
    return settings


def _assistant(settings: Settings) -> Assistant:
    return Assistant(settings, embedder=state.shared_embedder(settings))


def _app() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.run()
    assert not app.exception, app.exception
    return app


def _ask(app: AppTest, question: str) -> Answer:
    app.chat_input(key="question").set_value(question).run()
    assert not app.exception, app.exception
    return app.session_state[state.CONVERSATION][-1].answer


def _html(app: AppTest) -> list[str]:
    return [element.proto.body for element in app.get("html")]


def _unescape(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def _texts(app: AppTest) -> str:
    """Every Markdown text on the page (captions, alerts), with backslash escapes removed."""
    parts = [element.value for element in (*app.markdown, *app.caption, *app.success, *app.error, *app.info)]
    return _unescape("\n".join(str(part) for part in parts))


def _messages(elements) -> list[str]:
    return [_unescape(element.value) for element in elements]


def test_ask_shows_the_answer_with_its_markers_and_matching_citations(settings):
    app = _app()
    answer = _ask(app, QUESTION)
    assert answer.answered and answer.citations
    bodies = _html(app)
    assert any("informal meeting of NATO foreign ministers in Prague" in body and "[1]" in body for body in bodies)
    text = _assistant(settings).document_text(answer.citations[0].document_id)
    for citation in answer.citations:
        assert f"[{citation.n}]" in answer.text
        assert text[citation.start : citation.end] == citation.quote
        card = next(body for body in bodies if f"[{citation.n}] nato-stoltenberg-prague.txt" in body)
        assert f'<mark class="qa-quote">{html.escape(citation.quote)}</mark>' in card
        assert app.button(key=f"open-0-c{citation.n}").label == f"Open [{citation.n}] in the document"
    used = len(answer.cited_passages())  # the passages its quotes come from, not the passages retrieved
    assert 0 < used <= len(answer.citations)
    quotes = f"{len(answer.citations)} verified quote{'s' if len(answer.citations) > 1 else ''}"
    assert f"{quotes} from {used} passage{'s' if used > 1 else ''} · extractive answer" in _texts(app)


def test_a_follow_up_uses_the_conversation(settings):
    app = _app()
    _ask(app, QUESTION)
    follow_up = _ask(app, "And when was that?")
    assert QUESTION in follow_up.query
    assert any("Friday" in citation.quote for citation in follow_up.citations)
    assert [exchange.question for exchange in app.session_state[state.CONVERSATION]] == [QUESTION, "And when was that?"]
    assert len(app.chat_message) == 4


def test_opening_a_citation_shows_the_whole_document_with_the_quote_marked(settings):
    app = _app()
    answer = _ask(app, QUESTION)
    app.button(key="open-0-c1").click().run()
    assert not app.exception
    viewer = next(body for body in _html(app) if 'id="quote"' in body)
    quote = answer.citations[0].quote
    assert f'<mark id="quote">{html.escape(quote)}</mark>' in viewer
    document = _assistant(settings).document_text(answer.citations[0].document_id)
    start = document.index(quote)
    assert html.escape(document[:start]).replace("\n", "<br>") in viewer  # the whole text before the quote
    assert any("scrollIntoView" in body for body in _html(app))


def test_a_declined_answer_says_so_and_shows_the_closest_passages(settings):
    app = _app()
    answer = _ask(app, "What is the best recipe for banana bread with walnuts?")
    assert not answer.answered
    assert any(answer.text in body for body in _html(app))
    assert "closest passages" in _texts(app)
    assert "No verified quote · extractive answer" in _texts(app)
    cards = [body for body in _html(app) if "qa-card" in body and "nato-stoltenberg-prague.txt" in body]
    assert len(cards) == min(3, len(answer.passages)) > 0
    assert any(button.key and button.key.startswith("open-0-p") for button in app.button)


def test_upload_a_good_and_a_bad_file(settings, tmp_path):
    app = _app()
    good = b"# Club notes\n\nThe chess club meets every Thursday in the library annex.\n"
    app.file_uploader[0].set_value(
        [("../../no\ttes.md", good, "text/markdown"), ("broken.pdf", b"this is not a pdf", "application/pdf")]
    )
    app.button(key="FormSubmitter:upload-Index uploaded files").click().run()
    assert not app.exception
    assert any("notes.md: added" in message for message in _messages(app.success))
    assert any(message.startswith("broken.pdf: ") for message in _messages(app.error))
    assert "2 documents indexed" in _texts(app)
    folder = tmp_path / "uploads" / settings.collection
    assert sorted(path.name for path in folder.iterdir()) == ["notes.md"]
    sources = [Path(doc.source).name for doc in _assistant(settings).sources()]
    assert sorted(sources) == ["nato-stoltenberg-prague.txt", "notes.md"]
    answer = _ask(app, "When does the chess club meet?")
    assert any("every Thursday" in citation.quote for citation in answer.citations)


def test_remove_a_document(settings, tmp_path):
    app = _app()
    (document,) = _assistant(settings).sources()
    app.button(key=f"remove-{document.id}").click().run()
    assert not app.exception
    assert _assistant(settings).sources() == []
    assert any("Removed nato-stoltenberg-prague.txt." in message for message in _messages(app.success))
    assert "Nothing is indexed yet" in _texts(app)
    assert app.chat_input(key="question").disabled
    assert NATO.exists()  # a file outside the uploads folder is never deleted


def test_removing_an_upload_deletes_its_saved_file(settings, tmp_path):
    app = _app()
    app.file_uploader[0].set_value(("memo.txt", b"The memo says the office closes at noon.", "text/plain"))
    app.button(key="FormSubmitter:upload-Index uploaded files").click().run()
    saved = tmp_path / "uploads" / settings.collection / "memo.txt"
    assert saved.is_file()
    memo = next(doc for doc in _assistant(settings).sources() if doc.source.endswith("memo.txt"))
    app.button(key=f"remove-{memo.id}").click().run()
    assert not saved.exists()


def test_export_and_clear_the_conversation(settings):
    app = _app()
    assert app.get("download_button")[0].proto.disabled
    answer = _ask(app, QUESTION)
    (download,) = app.get("download_button")
    assert not download.proto.disabled and download.proto.label == "Export as Markdown"
    markdown = app.session_state["export_markdown"]
    assert f"## 1. {QUESTION}" in markdown
    assert f"> {answer.citations[0].quote}" in markdown
    clear = next(button for button in app.button if button.label == "Clear conversation")
    clear.click().run()
    assert app.session_state[state.CONVERSATION] == []
    assert len(app.chat_message) == 0


def test_settings_apply_to_the_next_question(settings, tmp_path):
    app = _app()
    assert str(tmp_path / "index") in _texts(app)
    assert not app.radio  # no chat model configured: extractive only
    app.slider(key=state.TOP_K).set_value(2).run()
    answer = _ask(app, QUESTION)
    assert app.session_state[state.CONVERSATION][-1].top_k == 2
    assert len(answer.passages) <= 2
    app.text_input(key=state.COLLECTION).set_value("x!").run()
    assert any("Collection name not used" in message for message in _messages(app.error))
    assert "1 document indexed" in _texts(app)
    app.text_input(key=state.COLLECTION).set_value("other-docs").run()
    assert "Nothing is indexed yet" in _texts(app)


def test_the_chat_model_is_offered_only_when_configured(settings, monkeypatch):
    monkeypatch.setenv("ASSISTANT_CHAT_MODEL", "ollama:llama3.1")
    app = _app()
    (mode,) = app.radio
    assert list(mode.options) == ["Extractive (quotes only)", "ollama:llama3.1"]


def test_the_first_run_indexes_the_samples(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("ASSISTANT_"):
            monkeypatch.delenv(name)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "sample.txt").write_text("The sample says the river floods every spring.")
    monkeypatch.setenv("ASSISTANT_INDEX_PATH", str(tmp_path / "index"))
    monkeypatch.setenv(state.SEEDS_ENV, str(seeds))
    app = _app()
    assert any("Indexed the sample documents" in toast.value for toast in app.toast)
    assert [Path(doc.source).name for doc in _assistant(Settings.from_env()).sources()] == ["sample.txt"]
    answer = _ask(app, "When does the river flood?")
    assert answer.answered


def test_unsupported_sentences_and_markup_in_documents_are_shown_as_text(settings):
    app = _app()
    quote = f"Prague {PAYLOAD} hosted it."
    citation = Citation(1, "doc", "/x/evil.txt", "evil.txt", 0, len(quote), quote, None, 0.9)
    answer = Answer("q", f"{quote} [1] The moon is made of cheese.", [citation], [], True, mode="llm")
    answer.unsupported.append("The moon is made of cheese.")
    app.session_state[state.CONVERSATION] = [state.Exchange("q", answer, settings, 5)]
    app.run()
    bodies = "\n".join(_html(app))
    assert "<script" not in bodies and "<img" not in bodies
    assert html.escape(PAYLOAD) in bodies
    assert '<span class="qa-unsupported"' in bodies and "Not supported by the documents" in bodies


def test_answers_stream_into_the_page():
    def page():
        import streamlit as st

        from assistant.models import Answer
        from ui.chat import ask

        class Streaming:
            settings = None
            mode = "llm"

            def stream(self, question, history, top_k=None, sources=None):
                yield "Prague "
                yield "it was."
                yield Answer(question, "Prague it was.", [], [], True, mode="llm")

        st.session_state.setdefault("conversation", [])
        ask(Streaming(), "Where?", st.session_state["conversation"], 3)

    app = AppTest.from_function(page, default_timeout=30)
    app.run()
    assert not app.exception
    assert app.session_state["conversation"][0].answer.text == "Prague it was."
    assert any("Prague it was." in element.proto.body for element in app.get("html"))


def test_documents_left_out_of_an_answer_are_noted_under_it():
    def page():
        import streamlit as st

        from assistant.models import Answer
        from ui.chat import ask

        class LeavingOneOut:
            settings = None
            mode = "extractive"

            def stream(self, question, history, top_k=None, sources=None):
                warning = "notes.txt is left out of this answer: its stored chunks no longer rebuild its text"
                yield Answer(question, "Prague.", [], [], True, warnings=[warning])

        st.session_state.setdefault("conversation", [])
        ask(LeavingOneOut(), "Where?", st.session_state["conversation"], 3)

    app = AppTest.from_function(page, default_timeout=30)
    app.run()
    assert not app.exception
    (warning,) = [element.value.replace("\\", "") for element in app.warning]
    assert warning.startswith("notes.txt is left out of this answer")


def test_a_chat_model_answer_streams_and_flags_unsupported_sentences(settings, monkeypatch):
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    import assistant.chat_models

    reply = "The foreign ministers met in Prague [1]. The moon is made of green cheese [1]."
    fake = GenericFakeChatModel(messages=iter([AIMessage(content=reply)]))
    monkeypatch.setattr(assistant.chat_models, "create_chat_model", lambda settings: fake)
    monkeypatch.setenv("ASSISTANT_CHAT_MODEL", "fake:model")
    app = _app()
    assert app.radio[0].value == "llm"
    answer = _ask(app, QUESTION)
    assert answer.mode == "llm" and answer.citations
    assert answer.unsupported == ["The moon is made of green cheese."]
    bodies = "\n".join(_html(app))
    assert '<span class="qa-unsupported"' in bodies and "Not supported by the documents" in bodies
    assert "chat model answer" in _texts(app)
    app.radio[0].set_value("extractive").run()
    assert _ask(app, QUESTION).mode == "extractive"


def test_an_answer_with_nothing_verified_shows_the_extractive_one_and_the_models_text_apart(settings, monkeypatch):
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    import assistant.chat_models
    from assistant.llm import NOTHING_VERIFIED

    reply = f"The ministers met in Oslo in 1999 [1]. {PAYLOAD}"
    fake = GenericFakeChatModel(messages=iter([AIMessage(content=reply)]))
    monkeypatch.setattr(assistant.chat_models, "create_chat_model", lambda settings: fake)
    monkeypatch.setenv("ASSISTANT_CHAT_MODEL", "fake:model")
    app = _app()
    answer = _ask(app, QUESTION)
    assert answer.fallback == NOTHING_VERIFIED and answer.unverified == reply
    assert answer.answered and any("Prague" in c.quote for c in answer.citations), "the extractive answer"
    assert NOTHING_VERIFIED in _texts(app)
    (expander,) = app.expander
    assert expander.label == "The chat model's own answer (not verified)"
    assert [text.value for text in expander.text] == [reply], "shown as plain text, never as markup"
    assert not any(PAYLOAD in body for body in _html(app))


def test_a_failed_replacement_keeps_the_previous_upload(settings, tmp_path):
    from ui.documents import index_uploads

    assistant = _assistant(settings)
    folder = tmp_path / "kept"
    (added,) = index_uploads(assistant, [("lake.md", b"The lake freezes every January.")], folder)
    assert added.status == "added" and added.ok
    binary = b"\x00\x01\x02\x03\xff\xfe binary" * 10
    failed, duplicate = index_uploads(assistant, [("lake.md", binary), ("lake.md", b"again")], folder)
    assert failed.status == "failed" and "binary" in failed.reason
    assert duplicate.status == "failed" and "same name" in duplicate.reason
    assert (folder / "lake.md").read_bytes() == b"The lake freezes every January."
    assert sorted(path.name for path in folder.iterdir()) == ["lake.md"]
    assert "The lake freezes" in assistant.document_text(next(d.id for d in assistant.sources() if "lake" in d.source))


def test_ask_within_chosen_documents(settings, tmp_path):
    from ui.within import WITHIN

    ferry = tmp_path / "ferry.txt"
    ferry.write_text("The ferry to Vela leaves at seven in the morning from the old harbour.\n", encoding="utf-8")
    _assistant(settings).index_paths([ferry])
    ferry_source, nato_source = str(ferry.resolve()), str(NATO)
    app = _app()
    within = app.multiselect(key=WITHIN)
    assert within.label == "Ask within" and within.options == ["ferry.txt", "nato-stoltenberg-prague.txt"]
    assert within.value == [] and app.chat_input(key="question").placeholder == "Ask about your documents"
    within.set_value([ferry_source]).run()
    assert app.chat_input(key="question").placeholder == "Ask within ferry.txt"
    declined = _ask(app, QUESTION)  # its answer is only in the NATO document
    assert not declined.answered and declined.within == (ferry_source,)
    assert {passage.source for passage in declined.passages} == {ferry_source}
    answered = _ask(app, "When does the ferry to Vela leave?")  # the choice stays for the conversation
    assert answered.answered and {citation.source for citation in answered.citations} == {ferry_source}
    app.multiselect(key=WITHIN).set_value([nato_source]).run()
    answer = _ask(app, QUESTION)
    assert answer.answered and {citation.source for citation in answer.citations} == {nato_source}
    captions = [_unescape(str(element.value)) for element in app.caption]
    assert (
        captions.count("Asked within: ferry.txt") == 2
        and captions.count("Asked within: nato-stoltenberg-prague.txt") == 1
    )
    app.multiselect(key=WITHIN).set_value([]).run()
    assert _ask(app, "When does the ferry to Vela leave?").within == ()
    app.multiselect(key=WITHIN).set_value([ferry_source, nato_source]).run()
    removed = next(doc for doc in _assistant(settings).sources() if doc.source == ferry_source)
    app.button(key=f"remove-{removed.id}").click().run()  # a removed document leaves the choice
    assert app.multiselect(key=WITHIN).options == ["nato-stoltenberg-prague.txt"]
    assert app.multiselect(key=WITHIN).value == [nato_source]
