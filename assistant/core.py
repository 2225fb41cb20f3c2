"""The Assistant: one object that indexes documents and answers questions about them with verified quotes."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from assistant.citations import CitationBuilder, QuoteChecker
from assistant.errors import NotFound
from assistant.extractive import ExtractiveSettings, evidence_score, extractive_answer
from assistant.followup import expand_with_history
from assistant.lexical_cache import LexicalCache
from assistant.models import Answer, Passage, Turn
from assistant.retrieval import HybridSearch, RetrievalSettings
from assistant.sentences import ScoredSentence, score_sentences
from assistant.settings import Settings
from index.embedding import Embedder
from index.indexer import Indexer, Progress
from index.models import Document, IndexedDocument, IndexReport
from index.store import ChunkStore


class Assistant:
    """Answers questions about the indexed documents; heavy parts load on first use."""

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None, chat_model=None):
        self.settings = settings or Settings.from_env()
        self.embedder = embedder or Embedder(self.settings.embedder_settings())
        self._chat_model = chat_model
        self._lock = threading.Lock()
        self._store: ChunkStore | None = None
        self._lexical: LexicalCache | None = None
        self._checker: QuoteChecker | None = None
        defaults = ExtractiveSettings()
        self.extractive = ExtractiveSettings(decline_below=self.settings.decline_threshold or defaults.decline_below)

    # --- resources -----------------------------------------------------------------------------------

    @property
    def store(self) -> ChunkStore:
        with self._lock:
            if self._store is None:
                self._store = ChunkStore(self.settings.store_settings())
                self._lexical = LexicalCache(self._store)
                lexical = self._lexical
                self._checker = QuoteChecker(
                    self._store.document_text, fast_text=lambda doc_id: lexical.current().document_text(doc_id)
                )
            return self._store

    def warm_up(self) -> None:
        """Load the embedding model, open the index and build the lexical index now."""
        self.embedder.warm_up()
        self.store  # noqa: B018 - opens Chroma
        assert self._lexical is not None
        self._lexical.current()

    @property
    def mode(self) -> str:
        return "llm" if self.chat_model is not None else "extractive"

    @property
    def chat_model(self):
        if self._chat_model is None and self.settings.chat_model:
            from assistant.chat_models import create_chat_model

            self._chat_model = create_chat_model(self.settings)
        return self._chat_model

    @property
    def decline_threshold(self) -> float:
        return self.extractive.decline_below

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
        self, paths: Iterable[Path], *, prune: bool = False, progress: Progress | None = None
    ) -> IndexReport:
        report = self._indexer().index_paths([Path(p) for p in paths], prune=prune, progress=progress)
        self._forget_texts()
        return report

    def index_documents(self, documents: Iterable[Document], progress: Progress | None = None) -> IndexReport:
        report = self._indexer().index_documents(documents, progress=progress)
        self._forget_texts()
        return report

    def sources(self) -> list[IndexedDocument]:
        return sorted(self.store.documents().values(), key=lambda doc: doc.source)

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
        self._forget_texts()
        return document

    def document_text(self, document_id: str) -> str:
        self.store  # noqa: B018
        assert self._checker is not None
        return self._checker.text_of(document_id)

    def _forget_texts(self) -> None:
        if self._checker is not None:
            self._checker.forget()

    # --- answering -----------------------------------------------------------------------------------

    def lexical_index(self):
        """The BM25 index of what is indexed now."""
        self.store  # noqa: B018
        assert self._lexical is not None
        return self._lexical.current()

    def retrieve(self, query: str, k: int = 10, vector: np.ndarray | None = None) -> list[Passage]:
        """The k best passages for `query`; pass its embedding when it is already known."""
        store = self.store
        assert self._lexical is not None
        settings = RetrievalSettings(sentence_weight=self.settings.sentence_bonus)
        return HybridSearch(store, self.embedder, self._lexical, settings).search(query, k, vector)

    def gather(self, query: str, k: int) -> tuple[list[Passage], list[ScoredSentence], float]:
        """Passages for the query, their sentences best first, and the evidence that they answer it."""
        vector = self.embedder.embed_query(query)
        passages = self.retrieve(query, k, vector)
        scored = score_sentences(query, passages, self.embedder, self.lexical_index())
        return passages, scored, evidence_score(vector, scored, self.embedder)

    def ask(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None) -> Answer:
        """Answer `question` from the documents, with verified citations, or decline."""
        answer = None
        for item in self.stream(question, history, top_k):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def stream(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None) -> Iterator[str | Answer]:
        """Yield pieces of the answer text as they are produced, then the verified Answer."""
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        k = top_k or self.settings.top_k
        if self.chat_model is not None:
            from assistant.llm import stream_llm_answer

            yield from stream_llm_answer(self, question, history, k)
            return
        query = expand_with_history(question, history)
        answer = self._extractive(question, query, k)
        yield answer.text
        yield answer

    def citation_builder(self) -> CitationBuilder:
        """A builder that numbers verified quotes and knows their pages."""
        assert self._checker is not None
        documents = self.store.documents()

        def page_of(document_id: str, offset: int) -> int | None:
            document = documents.get(document_id)
            return document.page_at(offset) if document else None

        return CitationBuilder(self._checker, page_of)

    def _extractive(self, question: str, query: str, k: int) -> Answer:
        passages, scored, evidence = self.gather(query, k)
        return extractive_answer(question, query, passages, scored, evidence, self.citation_builder(), self.extractive)
