"""The Assistant: one object that indexes documents and answers questions about them with verified quotes.

A question takes one path (docs/architecture.md): the answerer makes it stand alone, one snapshot of the index is
read, evidence is gathered from it, weak evidence declines, and otherwise the answerer turns the evidence into an
answer whose every citation was checked against that snapshot.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant.answerer import Answerer, declined
from assistant.errors import AssistantError, NotFound
from assistant.evidence import DECLINE_THRESHOLD, Evidence, gather_evidence
from assistant.extractive import ExtractiveAnswerer
from assistant.models import Answer, AnswerMode, Passage, Turn
from assistant.retrieval import HybridSearch
from assistant.settings import Settings
from assistant.snapshot import IndexReader, IndexSnapshot
from index.embedding import Embedder
from index.indexer import Indexer, Progress
from index.models import Document, IndexedDocument, IndexReport
from index.store import ChunkStore


def choose_answerer(settings: Settings, embedder: Embedder, chat_model: Any = None) -> Answerer:
    """The chat-model answerer when a model is given or configured, else the extractive one."""
    if chat_model is None and not settings.chat_model:
        return ExtractiveAnswerer()
    from assistant.llm import ChatModelAnswerer

    if chat_model is not None:
        return ChatModelAnswerer(lambda: chat_model, embedder)
    from assistant.chat_models import create_chat_model

    return ChatModelAnswerer(lambda: create_chat_model(settings), embedder)


class Assistant:
    """Answers questions about the indexed documents; the model and the index load on first use.

    `embedder`: a loaded Embedder to share; `chat_model`: a LangChain chat model object to answer with (instead of
    the configured one); `answerer`: any Answerer (assistant/answerer.py), instead of choosing from the settings.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        chat_model: Any = None,
        answerer: Answerer | None = None,
    ):
        self.settings = settings or Settings.from_env()
        self.embedder = embedder or Embedder(self.settings.embedder_settings())
        self.answerer = answerer or choose_answerer(self.settings, self.embedder, chat_model)
        threshold = self.settings.decline_threshold
        self.decline_threshold = DECLINE_THRESHOLD if threshold is None else threshold
        self._lock = threading.Lock()
        self._reader: IndexReader | None = None

    @property
    def mode(self) -> AnswerMode:
        return self.answerer.mode

    # --- the index -----------------------------------------------------------------------------------

    def _index(self) -> IndexReader:
        """The index reader, opening Chroma on first use."""
        with self._lock:
            if self._reader is None:
                self._reader = IndexReader(ChunkStore(self.settings.store_settings()))
            return self._reader

    @property
    def store(self) -> ChunkStore:
        return self._index().store

    def snapshot(self) -> IndexSnapshot:
        """What is indexed now, as one question would read it."""
        return self._index().snapshot()

    def warm_up(self) -> None:
        """Load the embedding model, open the index and build (or load) the lexical index now."""
        self.embedder.warm_up()
        self.snapshot()

    # --- documents -----------------------------------------------------------------------------------

    def _indexer(self) -> Indexer:
        return Indexer(
            self.store,
            self.embedder,
            self.settings.chunking_settings(),
            self.settings.max_file_bytes,
            batch_chunks=self.settings.write_batch_chunks,
        )

    def index_paths(
        self,
        paths: Iterable[Path | str],
        *,
        prune: bool = False,
        rebuild: bool = False,
        progress: Progress | None = None,
    ) -> IndexReport:
        """Index files and folders; `prune` removes documents whose files are gone, `rebuild` empties the index
        first (to change the embedding model of a collection)."""
        return self._indexer().index_paths([Path(p) for p in paths], prune=prune, rebuild=rebuild, progress=progress)

    def index_documents(self, documents: Iterable[Document], progress: Progress | None = None) -> IndexReport:
        return self._indexer().index_documents(documents, progress=progress)

    def sources(self) -> list[IndexedDocument]:
        return sorted(self.store.state().documents.values(), key=lambda doc: doc.source)

    def find_document(self, name: str) -> IndexedDocument:
        """A document by id, exact source, resolved path, or unique file name."""
        documents = self.sources()
        resolved = str(Path(name).expanduser().resolve()) if name else ""
        for document in documents:
            if name in (document.id, document.source) or document.source == resolved:
                return document
        by_name = [doc for doc in documents if Path(doc.source).name == name]
        if len(by_name) == 1:
            return by_name[0]
        raise NotFound(f"no indexed document matches {name!r} (see `assistant sources`)")

    def remove(self, name: str) -> IndexedDocument:
        document = self.find_document(name)
        self.store.remove_document(document.id)
        return document

    def document_text(self, document_id: str) -> str:
        """The full indexed text of a document (what citations' offsets index)."""
        return self.snapshot().document_text(document_id)

    # --- answering -----------------------------------------------------------------------------------

    def _search(self) -> HybridSearch:
        return HybridSearch(self.store, self.settings.retrieval_settings())

    def retrieve(self, query: str, k: int = 10) -> list[Passage]:
        """The k best passages for `query`, best first."""
        return self._search().search(query, self.embedder.embed_query(query), k, self._searchable_snapshot())

    def evidence(self, query: str, top_k: int | None = None, *, question: str | None = None) -> Evidence:
        """What the documents offer for `query`, read from one snapshot of the index."""
        k = top_k or self.settings.top_k
        snapshot = self._searchable_snapshot()
        return gather_evidence(question or query, query, k, snapshot, self.embedder, self._search())

    def _searchable_snapshot(self) -> IndexSnapshot:
        """A snapshot whose vectors come from this assistant's embedding model (else questions cannot be compared
        with them)."""
        snapshot = self.snapshot()
        profile = snapshot.state.profile
        if snapshot.documents and profile is not None and profile.model != self.embedder.model_id:
            raise AssistantError(
                f"the index at {self.settings.store_settings().location} was built with the embedding model "
                f"{profile.model}, and questions here are embedded with {self.embedder.model_id}: the two cannot be "
                f"compared. Use --embedding-model {profile.model} (or ASSISTANT_EMBEDDING_MODEL), or index into "
                "another collection"
            )
        return snapshot

    def ask(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None) -> Answer:
        """Answer `question` from the documents, with verified citations, or decline."""
        answer = None
        for item in self.stream(question, history, top_k):
            if isinstance(item, Answer):
                answer = item
        if answer is None:
            raise RuntimeError(f"the {self.mode} answerer produced no answer")
        return answer

    def stream(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None) -> Iterator[str | Answer]:
        """Yield pieces of the answer text as they are produced, then the verified Answer."""
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        query = self.answerer.standalone_query(question, history)
        evidence = self.evidence(query, top_k, question=question)
        if evidence.score < self.decline_threshold:
            answer = declined(evidence, self.mode)
            yield answer.text
            yield answer
            return
        yield from self.answerer.stream(evidence)
