"""The chat-model path with a real small model (Qwen2.5-Coder-0.5B-Instruct on llama.cpp's server, tests/llm_server.py),
asked through the Python API, the CLI and the app.

The model is small and its output varies with the prompt's random fence: it sometimes answers NOT IN DOCUMENTS, or a
bare marker, where the passage holds the answer. So every answer is checked for what must hold whatever the model
writes (answered with verified citations, or declined), and a question that should be answered is asked up to TRIES
times and must be answered, with the expected fact in a verified quote, at least once.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant import Assistant, Settings
from assistant.answerer import NOT_FOUND
from assistant.llm import CLOSEST_LABEL
from assistant.models import Answer, AnswerMode, Citation, Passage, Turn
from ui import state

pytestmark = [pytest.mark.llm, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
NATO = ROOT / "seeds" / "nato-stoltenberg-prague.txt"
DOCUMENTS = {
    "ferry.txt": "The Harbour Ferry\n\nThe ferry to Skerry Island leaves the north pier at 7:15 every morning. "
    "The crossing takes forty minutes in calm weather. Tickets cost twelve euros for adults and nothing for "
    "children under six. The ferry was built in 1962 by the Lund shipyard.\n",
    "garden.txt": "Community Garden\n\nThe community garden on Elm Street was founded by Ada Brennan in 2009. "
    "It has forty raised beds, and volunteers water them every Tuesday and Saturday. "
    "The garden's apple trees were planted in 2014.\n",
}
FOUNDER = "Who founded the community garden?"
FERRY = "When does the ferry to Skerry Island leave?"
TRIES = 3


@pytest.fixture(scope="module")
def library(tmp_path_factory, minilm) -> Path:
    """The small documents, and the seeds' NATO article, indexed once into a Chroma folder; returns that folder."""
    folder = tmp_path_factory.mktemp("llm-library")
    for name, text in DOCUMENTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    index = folder.parent / f"{folder.name}-index"
    report = Assistant(Settings(index_path=str(index)), embedder=minilm).index_paths([folder, NATO])
    assert not report.failures and report.count("added") == 3, report.summary()
    return index


@pytest.fixture(scope="module")
def chat_settings(llm_base_url, library) -> Settings:
    # three passages: prompts of about 400 tokens, which a CPU reads in a few seconds
    return Settings(index_path=str(library), chat_model="qwen", chat_base_url=llm_base_url, top_k=3)


@pytest.fixture(scope="module")
def real(chat_settings, minilm) -> Assistant:
    return Assistant(chat_settings, embedder=minilm)


def markers(text: str) -> set[int]:
    return {int(number) for number in re.findall(r"\[(\d+)\]", text)}


def assert_holds(assistant: Assistant, answer: Answer) -> None:
    """What the user may rely on whatever the model wrote: the answer is either answered, each marker a citation
    whose quote is the document's text at its offsets, or declined with no citation; when the model's own answer
    was not used, the extractive one stands in with a line saying why and the model's text is kept apart."""
    if answer.mode == AnswerMode.EXTRACTIVE:
        assert answer.fallback and answer.answered, "the chat-model answerer gives extractive answers only as fallback"
        model_words = _words(answer.unverified)
        assert not model_words or model_words != _words(answer.text), "the model's text is shown as the answer"
    else:
        assert answer.mode == AnswerMode.CHAT_MODEL and not answer.fallback
    if not answer.answered:
        assert answer.text == NOT_FOUND and not answer.citations
        return
    assert answer.citations, "an answer without a verified citation is shown as answered"
    assert markers(answer.text) == {citation.n for citation in answer.citations}
    for citation in answer.citations:
        assert assistant.document_text(citation.document_id)[citation.start : citation.end] == citation.quote
    for sentence in answer.unsupported:
        assert not re.search(re.escape(sentence) + r"\s*\[\d+\]", answer.text), f"{sentence!r} carries a marker"
    if answer.closest:
        closing = answer.text.rpartition(CLOSEST_LABEL)[2]
        assert closing != answer.text and markers(closing) == {answer.closest}, "the closest sentence is marked"


def _words(text: str) -> list[str]:
    return re.sub(r"\[\d+\]", " ", text).split()


def show(answer: Answer) -> None:
    """What the model did, in the test's captured output (pytest -rP shows it)."""
    print(f"{answer.question!r} (query {answer.query!r}) -> {answer.mode}: {answer.text!r}")
    if answer.unverified:
        print(f"    the model's own text, not shown: {answer.unverified!r}")


def answered_within(ask: Callable[[], Answer], assistant: Assistant, fact: str, *, own: bool = False) -> list[Answer]:
    """Ask up to TRIES times until the answer quotes `fact` (`own`: in the model's own answer, not the extractive
    fallback); every answer on the way must hold. Returns them all."""
    answers = []
    for _ in range(TRIES):
        answer = ask()
        show(answer)
        assert_holds(assistant, answer)
        answers.append(answer)
        quoted = answer.answered and any(fact in citation.quote for citation in answer.citations)
        if quoted and (answer.mode == AnswerMode.CHAT_MODEL or not own):
            return answers
    seen = [(str(answer.mode), answer.text, answer.unverified) for answer in answers]
    pytest.fail(f"no verified answer quoting {fact!r} in {TRIES} tries (mode, text, model's text): {seen}")


def test_ask_answers_with_verified_quotes(real):
    answers = answered_within(lambda: real.ask(FOUNDER), real, "Ada Brennan", own=True)
    assert "Ada Brennan" in answers[-1].text
    assert all(citation.source.endswith("garden.txt") for citation in answers[-1].citations)


def test_a_question_the_documents_do_not_answer_is_declined(real):
    answer = real.ask("What is the capital of Peru?")
    assert_holds(real, answer)
    assert not answer.answered


def test_stream_yields_the_draft_then_the_verified_answer_once(real):
    def streamed() -> Answer:
        items = list(real.stream(FERRY))
        pieces, last = items[:-1], items[-1]
        assert isinstance(last, Answer) and all(isinstance(piece, str) for piece in pieces)
        assert len(pieces) > 1, "the model's text comes in pieces as it is written"
        return last

    answers = answered_within(streamed, real, "7:15", own=True)
    assert "7:15" in answers[-1].text


def test_a_follow_up_is_rewritten_by_the_model_and_answered(real):
    history = [Turn(FOUNDER, "Ada Brennan founded the community garden on Elm Street. [1]")]
    answer = real.ask("When was it founded?", history=history)
    show(answer)
    assert_holds(real, answer)
    assert answer.query != "When was it founded?", "the model rewrote the follow-up"
    assert "garden" in answer.query.lower(), "the rewrite names what 'it' refers to"
    assert any("garden.txt" in passage.source for passage in answer.passages[:2])


def test_the_query_for_a_follow_up_is_a_question_never_an_answer(real):
    """The 0.5B model sometimes answers the rewrite prompt ("Ada Brennan founded ... in 1930. [2]") instead of
    rewriting; such a reply is not used as the query (assistant.llm.usable_rewrite)."""
    history = [Turn(FOUNDER, "Ada Brennan founded the community garden on Elm Street. [1]")]
    for question in ("When was it founded?", "How many raised beds does it have?"):
        query = real.answerer.standalone_query(question, history)
        print(f"query: {query!r}")
        assert "?" in query and not markers(query), query  # the model's rewrite, or the question and the last one
        assert "garden" in query.lower(), "the query names what 'it' refers to"


def test_a_paraphrased_right_answer_is_not_thrown_away(real):
    """On the sample article the model writes "According to the passage, the war started back in 2022." (the text:
    "since this war started back in 2022"), without a marker: the user gets a verified quote holding 2022, from the
    model's answer or the extractive fallback, never "not in the documents"."""
    answered_within(lambda: real.ask("When did the war start?"), real, "2022")


def test_the_cli_answers_as_json_through_the_server(chat_settings, real):
    environment = {name: value for name, value in os.environ.items() if not name.startswith("ASSISTANT_")}
    environment.update(chat_settings.environment())
    command = [sys.executable, "-m", "assistant.cli", "ask", FOUNDER, "--json"]

    def ask() -> Answer:
        result = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=ROOT, timeout=300)
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["mode"] == "llm" and data["question"] == FOUNDER
        return _answer(data)

    answered_within(ask, real, "Ada Brennan")


def _answer(data: dict) -> Answer:
    """The Answer that `answer.to_dict()` printed."""
    return Answer(
        **{key: value for key, value in data.items() if key not in ("citations", "passages", "mode", "within")},
        citations=[Citation(**citation) for citation in data["citations"]],
        passages=[Passage(**passage) for passage in data["passages"]],
        mode=AnswerMode(data["mode"]),
        within=tuple(data["within"]),
    )


def test_the_app_shows_the_verified_answer_and_a_follow_up(app_environment, monkeypatch, chat_settings, real):
    for name, value in chat_settings.environment().items():
        monkeypatch.setenv(name, value)
    app = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=180)
    app.run()
    assert not app.exception, app.exception
    assert app.radio[0].value == "llm"

    def ask(question: str) -> Answer:
        app.chat_input(key="question").set_value(question).run()
        assert not app.exception, app.exception
        return app.session_state[state.CONVERSATION][-1].answer

    answers = answered_within(lambda: ask(FOUNDER), real, "Ada Brennan")
    bodies = "\n".join(element.proto.body for element in app.get("html"))
    for citation in answers[-1].citations:
        assert f"[{citation.n}] garden.txt" in bodies
    follow_up = ask("When was it founded?")
    show(follow_up)
    assert_holds(real, follow_up)
    assert follow_up.query != "When was it founded?"
    conversation = app.session_state[state.CONVERSATION]
    assert [exchange.question for exchange in conversation][-2:] == [FOUNDER, "When was it founded?"]
