"""A chat model's answer checked as real models write it: framing and paraphrase pass, a changed number, date or
name does not, a sentence without a marker finds its source, and a right answer is never thrown away."""

from __future__ import annotations

import argparse
import io

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from assistant.claims import Claim, missing_facts, split_claims
from assistant.cli_commands import run_ask
from assistant.draft import CHECKING, DRAFT_LABEL, DraftDisplay
from assistant.llm import CLOSEST_LABEL, MODEL_DECLINED, NOTHING_VERIFIED, rewrite_question
from assistant.models import Turn
from assistant.render import render_answer

WAR = (
    "The minister spoke to reporters in Prague on Friday. "
    "He said that Europe has given more aid since this war started back in 2022. "
    "The ferry to Vela leaves at seven in the morning from the old harbour.\n\n"
    "The lighthouse on the north cape was built in 1874 by the engineer Maria Lund."
)


def ask_with_reply(make_assistant, minilm, tmp_path, reply: str, question: str):
    folder = tmp_path / "docs"
    folder.mkdir(exist_ok=True)
    (folder / "notes.txt").write_text(WAR, encoding="utf-8")
    assistant = make_assistant(minilm, chat=GenericFakeChatModel(messages=iter([AIMessage(content=reply)])))
    assistant.index_paths([folder])
    answer = assistant.ask(question)
    for citation in answer.citations:
        assert assistant.document_text(citation.document_id)[citation.start : citation.end] == citation.quote
    return answer


@pytest.mark.parametrize(
    ("sentence", "core"),
    [
        ("According to the passage, the war started back in 2022.", "The war started back in 2022."),
        ("Based on the provided documents, the ferry leaves at 7.", "The ferry leaves at 7."),
        ("The passage states that the lighthouse is old.", "The lighthouse is old."),
        ("In passage 2, Maria Lund built it.", "Maria Lund built it."),
        ("The ferry leaves from the harbour.", "The ferry leaves from the harbour."),
    ],
)
def test_a_claim_is_read_without_the_models_framing(sentence, core):
    assert Claim(sentence, ()).core == core


def test_claims_keep_their_markers():
    claims = split_claims("It was built in 1874 [1]. Maria Lund built it [2, 3]. No marker here.")
    assert [(c.text, c.markers) for c in claims] == [
        ("It was built in 1874.", (1,)),
        ("Maria Lund built it.", (2, 3)),
        ("No marker here.", ()),
    ]


def test_changed_numbers_and_names_are_missing_from_the_source():
    source = "The lighthouse was built in 1874 by Maria Lund; the ferry leaves at seven, 1,200 people ride it."
    assert missing_facts("It was built in 1874 by Maria Lund.", source) == []
    assert missing_facts("The ferry leaves at 7 and carries 1200 people.", source) == []
    assert missing_facts("It was built in 1875.", source) == ["1875"]
    assert missing_facts("It was built by Anna Lund.", source) == ["Anna"]


def test_paraphrase_with_framing_and_no_marker_is_supported(make_assistant, minilm, tmp_path):
    answer = ask_with_reply(
        make_assistant,
        minilm,
        tmp_path,
        "According to the passage, the war started back in 2022.",
        "When did the war start?",
    )
    assert answer.answered and not answer.fallback
    assert answer.unsupported == []
    assert len(answer.citations) == 1 and "started back in 2022" in answer.citations[0].quote
    assert answer.text.endswith("[1]"), "the sentence without a marker is tied to its source"


@pytest.mark.parametrize(
    ("reply", "changed"),
    [
        ("According to the passage, the war started back in 2021 [1].", "2021"),
        ("The lighthouse was built in 1874 by the engineer Anna Berg [1].", "Anna Berg"),
    ],
)
def test_a_changed_number_date_or_name_is_not_supported(make_assistant, minilm, tmp_path, reply, changed):
    answer = ask_with_reply(make_assistant, minilm, tmp_path, reply, "When did the war start and who built it?")
    assert not any(changed in citation.quote for citation in answer.citations)
    assert answer.fallback == NOTHING_VERIFIED, "nothing of the model's answer verified: the extractive answer instead"
    assert answer.unverified == reply, "the model's own text is kept, marked unverified"
    assert answer.answered and answer.citations, "the user still gets a verified answer"
    assert "not verified" in render_answer(answer)


def test_a_model_that_declines_on_strong_evidence_is_overruled(make_assistant, minilm, tmp_path):
    answer = ask_with_reply(make_assistant, minilm, tmp_path, "NOT IN DOCUMENTS", "When does the ferry to Vela leave?")
    assert answer.fallback == MODEL_DECLINED
    assert answer.answered and any("seven in the morning" in c.quote for c in answer.citations)


def test_the_closest_sentence_is_quoted_beside_a_verified_answer_that_rests_on_another(
    make_assistant, minilm, tmp_path
):
    reply = "The minister spoke to reporters in Prague on Friday [1]."
    answer = ask_with_reply(make_assistant, minilm, tmp_path, reply, "When does the ferry to Vela leave?")
    assert answer.answered and not answer.fallback
    assert answer.text.startswith("The minister spoke to reporters in Prague on Friday. [1]")
    closing = f"{CLOSEST_LABEL} The ferry to Vela leaves at seven in the morning from the old harbour. [2]"
    assert answer.text.endswith("\n\n" + closing)
    assert answer.closest == 2 and answer.citations[1].n == 2
    assert "seven in the morning" in answer.citations[1].quote


def test_nothing_is_added_when_the_model_quotes_the_closest_sentence(make_assistant, minilm, tmp_path):
    reply = "The ferry to Vela leaves at seven in the morning [1]."
    answer = ask_with_reply(make_assistant, minilm, tmp_path, reply, "When does the ferry to Vela leave?")
    assert answer.answered and answer.closest == 0
    assert CLOSEST_LABEL not in answer.text and len(answer.citations) == 1


def test_a_model_that_declines_on_weak_evidence_declines(make_assistant, minilm, tmp_path):
    answer = ask_with_reply(
        make_assistant, minilm, tmp_path, "NOT IN DOCUMENTS", "What colour is the minister's favourite bicycle?"
    )
    assert not answer.answered and not answer.fallback and answer.citations == []


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_draft_shows_on_a_terminal_as_a_draft_and_elsewhere_as_one_line():
    terminal, pipe = _Terminal(), io.StringIO()
    for display in (DraftDisplay(terminal), DraftDisplay(pipe)):
        for piece in ("The ferry ", "leaves at ", "seven."):
            display.add(piece)
        display.done()
    assert terminal.getvalue() == f"{DRAFT_LABEL}The ferry leaves at seven.\n{CHECKING}\n"
    assert pipe.getvalue() == f"The chat model is writing its answer… 5 words. {CHECKING}\n"


def test_the_cli_prints_the_verified_answer_and_keeps_the_draft_on_stderr(make_assistant, minilm, tmp_path, capsys):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "notes.txt").write_text(WAR, encoding="utf-8")
    reply = "The ferry leaves at seven in the morning [1]. It is painted bright green [1]."
    assistant = make_assistant(minilm, chat=GenericFakeChatModel(messages=iter([AIMessage(content=reply)])))
    assistant.index_paths([folder])
    args = argparse.Namespace(question="When does the ferry to Vela leave?", within=None, json=False)
    assert run_ask(args, assistant) == 0
    out, err = capsys.readouterr()
    assert err.startswith("The chat model is writing its answer…") and CHECKING in err
    assert "painted bright green" not in err, "the draft's words go to a terminal only"
    assert out.startswith("The ferry leaves at seven in the morning. [1]"), "stdout: the verified answer, in full"
    assert "! It is painted bright green." in out, "its unsupported sentence flagged"


class _Replying:
    """A chat model that replies with one fixed text."""

    def __init__(self, reply: str):
        self.reply = reply

    def invoke(self, messages):
        return AIMessage(content=self.reply)


@pytest.mark.parametrize(
    ("reply", "query"),
    [
        ("When was the community garden founded?", "When was the community garden founded?"),
        ("Rewritten question: When was the community garden founded?", "When was the community garden founded?"),
        ("Ada Brennan founded it in 1930. [2]", "When was it founded? (Who founded the community garden?)"),
        ("When was it founded?", "When was it founded? (Who founded the community garden?)"),
    ],
)
def test_a_rewrite_is_used_only_when_it_is_a_new_question(reply, query):
    history = [Turn("Who founded the community garden?", "Ada Brennan founded the community garden. [1]")]
    assert rewrite_question(_Replying(reply), "When was it founded?", history) == query
