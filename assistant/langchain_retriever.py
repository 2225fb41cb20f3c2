"""The assistant's hybrid retrieval (dense + BM25, fused) as a LangChain retriever: `Assistant.as_retriever()`.

Only `Assistant.as_retriever` and the answer chain (assistant/langchain_chain.py) import this module, when asked
for one: LangChain's modules then load, never for the CLI or the app.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict, Field

from assistant.models import Passage

RETRIEVER_NAME = "HybridRetriever"


@runtime_checkable
class PassageSearch(Protocol):
    """What the retriever needs of an Assistant (this module cannot import assistant/core.py, which imports it)."""

    def retrieve(self, query: str, k: int = 10, *, sources: Sequence[str] | None = None) -> list[Passage]: ...


def passage_document(passage: Passage) -> Document:
    """A retrieved passage as a LangChain Document: the chunk text, where it lies in its document, its scores."""
    metadata: dict[str, Any] = {
        "source": passage.source,
        "title": passage.title,
        "document_id": passage.document_id,
        "chunk_id": passage.chunk_id,
        "start": passage.start,
        "end": passage.end,
        "page": passage.page,
        "rank": passage.rank,
        "fused_score": passage.fused_score,
        "dense_score": passage.dense_score,
        "lexical_score": passage.lexical_score,
        "sentence_score": passage.sentence_score,
    }
    return Document(id=passage.chunk_id, page_content=passage.text, metadata=metadata)


class HybridRetriever(BaseRetriever):
    """The k best passages for a query, best first, as `Document`s (`passage_document`).

    `sources` names the documents to search (ids, paths, file names or folders, as `Assistant.ask` takes them),
    resolved at every call, so documents indexed later are found; None: all of them. A name that means no
    indexed document raises `assistant.errors.NotFound`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: PassageSearch = Field(exclude=True)
    k: int = Field(default=5, gt=0)
    sources: Sequence[str] | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        passages = self.assistant.retrieve(query, self.k, sources=self.sources)
        return [passage_document(passage) for passage in passages]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        # The search is CPU work (embedding, BM25) and blocking Chroma calls: a worker thread keeps the loop free.
        return await run_in_executor(None, self._get_relevant_documents, query, run_manager=run_manager.get_sync())
