"""`Assistant.as_retriever()`: the hybrid search as a LangChain retriever, in LCEL chains and as an agent's tool."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest
from helpers import ROOT
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import ParrotFakeChatModel
from langchain_core.messages import ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnablePassthrough
from langchain_core.tools import create_retriever_tool

from assistant.errors import NotFound
from index.identity import make_document

FERRY = (
    "The ferry to Vela leaves the harbour at seven every morning. "
    "Tickets cost four euros at the harbour office, and bicycles travel free."
)
LIGHTHOUSE = "The lighthouse on the north cape was built in 1874 by the engineer Maria Lund."
ORCHARD = "The orchard behind the school grows twelve kinds of apple, picked by the pupils in October."
METADATA = {
    "source",
    "title",
    "document_id",
    "chunk_id",
    "start",
    "end",
    "page",
    "rank",
    "fused_score",
    "dense_score",
    "lexical_score",
    "sentence_score",
}


@pytest.fixture
def assistant(make_assistant, minilm):
    built = make_assistant(minilm)
    built.index_documents(
        [
            make_document("/notes/ferry.txt", "ferry", FERRY),
            make_document("/notes/lighthouse.txt", "lighthouse", LIGHTHOUSE),
            make_document("/notes/orchard.txt", "orchard", ORCHARD),
        ]
    )
    return built


class RetrieverEvents(BaseCallbackHandler):
    def __init__(self) -> None:
        self.queries: list[str] = []
        self.found: list[list[str]] = []

    def on_retriever_start(self, serialized, query, **kwargs):
        self.queries.append(query)

    def on_retriever_end(self, documents, **kwargs):
        self.found.append([document.page_content for document in documents])


def test_documents_are_the_passages_with_their_offsets_and_scores(assistant):
    retriever = assistant.as_retriever(k=2)
    assert isinstance(retriever, BaseRetriever)
    documents = retriever.invoke("When does the ferry leave?")
    passages = assistant.retrieve("When does the ferry leave?", 2)
    assert [document.id for document in documents] == [passage.chunk_id for passage in passages]
    first = documents[0]
    assert first.page_content == FERRY and first.metadata["source"] == "/notes/ferry.txt"
    assert set(first.metadata) == METADATA
    for document in documents:
        meta = document.metadata
        assert assistant.document_text(meta["document_id"])[meta["start"] : meta["end"]] == document.page_content
    assert [document.metadata["rank"] for document in documents] == [1, 2]
    assert documents[0].metadata["fused_score"] >= documents[1].metadata["fused_score"]
    assert first.metadata["fused_score"] == passages[0].fused_score
    assert first.metadata["dense_score"] == pytest.approx(passages[0].dense_score)
    assert first.metadata["lexical_score"] > 0, "the question's words are in the passage"
    json.dumps([document.metadata for document in documents])  # plain data, for any tracer or store


def test_k_and_sources_limit_what_is_found(assistant):
    assert len(assistant.as_retriever(k=1).invoke("ferry tickets")) == 1
    within = assistant.as_retriever(k=3, sources=["lighthouse.txt"])
    found = within.invoke("When does the ferry leave?")
    assert [document.metadata["source"] for document in found] == ["/notes/lighthouse.txt"]
    with pytest.raises(NotFound):
        assistant.as_retriever(sources=["nowhere.txt"]).invoke("ferry")
    with pytest.raises(ValueError):
        assistant.as_retriever(k=0)


def test_sources_are_resolved_when_asked_so_later_documents_are_found(assistant):
    retriever = assistant.as_retriever(k=3, sources=["/later"])
    with pytest.raises(NotFound):
        retriever.invoke("harvest")
    assistant.index_documents([make_document("/later/harvest.txt", "harvest", "The harvest festival is in May.")])
    assert [document.page_content for document in retriever.invoke("harvest")] == ["The harvest festival is in May."]


def test_async_finds_what_sync_finds(assistant):
    retriever = assistant.as_retriever(k=3)
    questions = ["When does the ferry leave?", "Who built the lighthouse?"]

    async def both():
        return await retriever.ainvoke(questions[0]), await retriever.abatch(questions)

    single, batch = asyncio.run(both())
    assert single == retriever.invoke(questions[0])
    assert batch == retriever.batch(questions)
    assert batch[1][0].page_content == LIGHTHOUSE


def test_in_an_lcel_chain_the_passages_reach_the_chat_model(assistant):
    prompt = ChatPromptTemplate.from_template("Passages:\n{context}\n\nQuestion: {question}")
    passages = assistant.as_retriever(k=1) | (lambda docs: "\n\n".join(doc.page_content for doc in docs))
    # the parrot replies with the prompt it was sent: what the retriever gave the model
    chain = (
        {"context": passages, "question": RunnablePassthrough()} | prompt | ParrotFakeChatModel() | StrOutputParser()
    )
    events = RetrieverEvents()
    reply = chain.invoke("Who built the lighthouse?", {"callbacks": [events]})
    assert reply == f"Passages:\n{LIGHTHOUSE}\n\nQuestion: Who built the lighthouse?"
    assert events.queries == ["Who built the lighthouse?"] and events.found == [[LIGHTHOUSE]]


def test_as_an_agents_tool(assistant):
    tool = create_retriever_tool(
        assistant.as_retriever(k=2),
        "search_notes",
        "Search the user's notes.",
        response_format="content_and_artifact",
    )
    call = {"type": "tool_call", "name": "search_notes", "args": {"query": "apple orchard"}, "id": "call-1"}
    message = tool.invoke(call)
    assert isinstance(message, ToolMessage) and message.tool_call_id == "call-1"
    assert message.content.startswith(ORCHARD)
    assert message.artifact[0].metadata["source"] == "/notes/orchard.txt"
    later = asyncio.run(tool.ainvoke(call))
    assert later.content == message.content
    plain = create_retriever_tool(assistant.as_retriever(k=1), "search_notes", "Search the user's notes.")
    assert plain.invoke({"query": "Who built the lighthouse?"}) == LIGHTHOUSE


def test_langchain_loads_only_when_a_langchain_object_is_made(tmp_path):
    code = f"""
import json, sys
from assistant import Assistant, Settings
assistant = Assistant(Settings(index_path={str(tmp_path / "index")!r}))
before = "langchain_core" in sys.modules
assistant.as_retriever()
print(json.dumps([before, "langchain_core" in sys.modules]))
"""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ASSISTANT_")}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-500:]
    assert json.loads(result.stdout.splitlines()[-1]) == [False, True]
