"""`Assistant.as_chain()`: the verified answer as a LangChain Runnable (invoke, batch, stream, async, callbacks),
and the README's LangChain examples, run as written."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import json
import operator
import re

import pytest
from helpers import ROOT, SEEDS
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel, ParrotFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable

from assistant.langchain_chain import AnswerChunk, conversation
from assistant.models import Answer, Turn
from index.identity import make_document

FERRY = (
    "The ferry to Vela leaves the harbour at seven every morning. "
    "Tickets cost four euros at the harbour office, and bicycles travel free."
)
LIGHTHOUSE = "The lighthouse on the north cape was built in 1874 by the engineer Maria Lund."
DOCUMENTS = [
    make_document("/notes/ferry.txt", "ferry", FERRY),
    make_document("/notes/lighthouse.txt", "lighthouse", LIGHTHOUSE),
]
FERRY_QUESTION = "When does the ferry to Vela leave?"
# A chat model's draft: one sentence supported, a marker that points at no passage, one sentence nothing supports.
DRAFT = "The ferry leaves at seven in the morning [1]. Tickets cost four euros [9]. The captain keeps a parrot [1]."


@pytest.fixture
def assistant(make_assistant, minilm):
    built = make_assistant(minilm)
    built.index_documents(DOCUMENTS)
    return built


@pytest.fixture
def chatty(make_assistant, minilm):
    """An assistant whose chat model writes DRAFT to every question."""
    built = make_assistant(minilm, chat=GenericFakeChatModel(messages=iter([DRAFT] * 20)))
    built.index_documents(DOCUMENTS)
    return built


class Events(BaseCallbackHandler):
    """The runs callbacks see: (kind, name, run id, parent run id), and what the retriever and chat model got."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, str, object, object]] = []
        self.queries: list[str] = []
        self.passages: list[list[str]] = []
        self.prompts: list[str] = []
        self.chain_outputs: list[object] = []

    def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, **kwargs):
        self.runs.append(("chain", kwargs.get("name", ""), run_id, parent_run_id))

    def on_chain_end(self, outputs, *, run_id, parent_run_id=None, **kwargs):
        self.chain_outputs.append(outputs)

    def on_retriever_start(self, serialized, query, *, run_id, parent_run_id=None, **kwargs):
        self.runs.append(("retriever", kwargs.get("name", ""), run_id, parent_run_id))
        self.queries.append(query)

    def on_retriever_end(self, documents, *, run_id, parent_run_id=None, **kwargs):
        self.passages.append([document.id for document in documents])

    def on_chat_model_start(self, serialized, messages, *, run_id, parent_run_id=None, **kwargs):
        self.runs.append(("chat model", "", run_id, parent_run_id))
        self.prompts.append(messages[0][-1].content)


def added(items):
    """The stream's items added up, as LangChain adds them."""
    return functools.reduce(operator.add, items)


def assert_verified(assistant, answer: Answer) -> None:
    assert answer.citations
    for citation in answer.citations:
        assert assistant.document_text(citation.document_id)[citation.start : citation.end] == citation.quote


def test_invoke_returns_what_ask_returns(assistant):
    chain = assistant.as_chain()
    assert isinstance(chain, Runnable)
    answer = chain.invoke(FERRY_QUESTION)
    assert isinstance(answer, Answer) and answer.answered and "seven" in answer.text
    assert_verified(assistant, answer)
    assert answer == assistant.ask(FERRY_QUESTION)
    assert chain.invoke({"question": FERRY_QUESTION}) == answer
    assert chain.get_output_schema().model_json_schema()["title"] == "AnswerChainOutput"
    assert "citations" in json.dumps(chain.get_output_schema().model_json_schema())


def test_a_dict_names_the_history_and_the_sources(assistant):
    chain = assistant.as_chain()
    follow_up = chain.invoke({"question": "And how much are tickets?", "history": [(FERRY_QUESTION, "At seven.")]})
    assert follow_up.query != follow_up.question, "the follow-up was made to stand alone from the history"
    assert follow_up == assistant.ask("And how much are tickets?", [Turn(FERRY_QUESTION, "At seven.")])
    within = chain.invoke({"question": FERRY_QUESTION, "sources": ["lighthouse.txt"]})
    assert within.within == ("/notes/lighthouse.txt",) and not within.answered
    chosen = assistant.as_chain(sources=["lighthouse.txt"])
    assert chosen.invoke(FERRY_QUESTION).within == ("/notes/lighthouse.txt",)
    assert chosen.invoke({"question": FERRY_QUESTION, "sources": None}).answered, "the input's sources win"
    with pytest.raises(TypeError):
        chain.invoke({"history": []})
    with pytest.raises(ValueError, match="empty"):
        chain.invoke("  ")


def test_history_in_every_form_means_the_same_turns():
    turns = [Turn("Where is the ferry?", "In the harbour."), Turn("When?", "")]
    forms = [
        turns,
        [("Where is the ferry?", "In the harbour."), ("When?", "")],
        [{"question": "Where is the ferry?", "answer": "In the harbour."}, {"question": "When?"}],
        [
            SystemMessage("Be brief."),
            HumanMessage("Where is the ferry?"),
            AIMessage("In the harbour."),
            HumanMessage("When?"),
        ],
    ]
    for form in forms:
        assert conversation(form) == turns
    with pytest.raises(TypeError):
        conversation([42])


def test_the_stream_adds_up_to_what_invoke_returns(assistant):
    chain = assistant.as_chain()
    items = list(chain.stream(FERRY_QUESTION))
    *chunks, last = items
    assert chunks and all(isinstance(chunk, AnswerChunk) for chunk in chunks)
    assert isinstance(last, Answer)
    assert added(items) == chain.invoke(FERRY_QUESTION)
    assert added(chunks) == AnswerChunk("".join(chunk.text for chunk in chunks))


def test_a_chat_models_draft_streams_but_only_the_verified_answer_is_the_answer(chatty):
    chain = chatty.as_chain()
    *chunks, answer = list(chain.stream(FERRY_QUESTION))
    assert len(chunks) > 3, "the draft streams in pieces"
    assert not any(isinstance(chunk, Answer) for chunk in chunks), "no draft chunk passes for an Answer"
    assert "".join(chunk.text for chunk in chunks) == DRAFT
    assert isinstance(answer, Answer) and answer.mode == "llm" and answer.answered
    assert "[9]" not in answer.text and answer.unsupported == ["The captain keeps a parrot."]
    assert_verified(chatty, answer)
    total = added([*chunks, answer])
    assert total is answer, "the chunks add up to the verified answer, not to the draft"
    assert chain.invoke(FERRY_QUESTION).to_dict() == answer.to_dict()


def test_batch_answers_each_question(assistant):
    questions = [FERRY_QUESTION, "Who built the lighthouse?", "What is the boiling point of nitrogen in kelvin?"]
    answers = assistant.as_chain().batch(questions)
    assert answers == [assistant.ask(question) for question in questions]
    assert [answer.answered for answer in answers] == [True, True, False]


def test_async_gives_what_sync_gives(assistant):
    chain = assistant.as_chain()

    async def run():
        streamed = [item async for item in chain.astream(FERRY_QUESTION)]
        return streamed, await chain.ainvoke(FERRY_QUESTION), await chain.abatch([FERRY_QUESTION, "Who built it?"])

    streamed, answer, batch = asyncio.run(run())
    expected = chain.invoke(FERRY_QUESTION)
    assert answer == expected and added(streamed) == expected
    assert batch == [expected, chain.invoke("Who built it?")]


def test_callbacks_see_the_retrieval_and_the_chat_model_under_the_chain(chatty):
    events = Events()
    answer = chatty.as_chain().invoke(FERRY_QUESTION, {"callbacks": [events]})
    (chain_run, retriever_run, chat_run) = events.runs
    assert chain_run[:2] == ("chain", "AnswerChain") and chain_run[3] is None
    assert retriever_run[:2] == ("retriever", "HybridRetriever") and retriever_run[3] == chain_run[2]
    assert chat_run[0] == "chat model" and chat_run[3] == chain_run[2]
    assert events.queries == [FERRY_QUESTION]
    assert events.passages == [[passage.chunk_id for passage in answer.passages]]
    assert FERRY_QUESTION in events.prompts[0] and FERRY in events.prompts[0], "the prompt holds the passages"
    assert events.chain_outputs == [answer]


def test_async_streaming_reports_the_same_runs(chatty):
    events = Events()
    chain = chatty.as_chain().with_config(run_name="notes", callbacks=[events])

    async def run():
        return [item async for item in chain.astream(FERRY_QUESTION)]

    items = asyncio.run(run())
    kinds = [(kind, name) for kind, name, _, _ in events.runs]
    assert kinds == [("chain", "notes"), ("retriever", "HybridRetriever"), ("chat model", "")]
    assert {parent for _, _, _, parent in events.runs[1:]} == {events.runs[0][2]}
    assert events.chain_outputs == [items[-1]], "the run's output is what the chunks add up to"


def test_a_follow_up_rewrite_by_the_chat_model_is_reported_too(make_assistant, minilm):
    rewriter = GenericFakeChatModel(messages=iter(["When does the ferry to Vela leave?", DRAFT]))
    assistant = make_assistant(minilm, chat=rewriter)
    assistant.index_documents(DOCUMENTS)
    events = Events()
    question = {"question": "And when does it leave?", "history": [("Where does the ferry go?", "To Vela.")]}
    answer = assistant.as_chain().invoke(question, {"callbacks": [events]})
    assert [kind for kind, *_ in events.runs] == ["chain", "chat model", "retriever", "chat model"]
    assert events.queries == [FERRY_QUESTION] and answer.query == FERRY_QUESTION


def test_dict_output_is_json_ready(assistant):
    chain = assistant.as_chain().with_dict_output()
    data = chain.invoke(FERRY_QUESTION)
    assert json.loads(json.dumps(data)) == json.loads(json.dumps(assistant.ask(FERRY_QUESTION).to_dict()))
    assert data["mode"] == "extractive" and data["citations"][0]["quote"].startswith("The ferry to Vela")
    assert list(chain.stream(FERRY_QUESTION)) == [data], "the chunks were added up to the Answer first"


def test_a_warm_chain_question_makes_at_most_two_chroma_calls(assistant, chroma_calls):
    chain = assistant.as_chain()
    assert chain.invoke(FERRY_QUESTION).answered  # warm
    chroma_calls.clear()
    assert list(chain.stream(FERRY_QUESTION))[-1].answered
    assert sum(chroma_calls.values()) <= 2, dict(chroma_calls)


def _readme_blocks(heading: str) -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(f"\n{heading}\n", 1)[1]
    section = re.split(r"\n#{2,3} ", section, maxsplit=1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_readme_langchain_examples_run(make_assistant, minilm):
    blocks = _readme_blocks("### LangChain objects")
    assert len(blocks) == 3, "the LCEL chain, the verified chain, the LangGraph node"
    assistant = make_assistant(minilm)
    assistant.index_paths([SEEDS])
    namespace = {"assistant": assistant, "chat_model": ParrotFakeChatModel()}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in blocks:
            exec(compile(block, "README.md", "exec", dont_inherit=True), namespace)  # as a script runs it
    answer = assistant.ask("Where did the NATO foreign ministers meet?")
    assert "Prague" in answer.text
    assert namespace["answer"] == answer, "the streamed loop kept the verified Answer"
    assert namespace["data"] == answer.to_dict()
    assert namespace["result"]["answer"] == answer.to_dict()
    output = printed.getvalue()
    # the parrot repeats its prompt, so the retrieved passage is printed first
    assert "Answer from these passages only:" in output and "Prague" in output.split("Question:", 1)[0]
    assert output.rstrip().endswith(answer.citations[0].quote)
