"""The Assistant: one object that indexes documents and answers questions about them with verified quotes.

A question takes one path (docs/architecture.md): the answerer makes it stand alone, one snapshot of the index is
read, evidence is gathered from it, weak evidence declines (so does a question naming a code that no passage holds,
assistant/codes.py), and otherwise the answerer turns the evidence into an answer whose every citation was checked
against that snapshot.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.answerer import Answerer, declined
from assistant.errors import AssistantError, NotFound
from assistant.evidence import DECLINE_THRESHOLD, Evidence, gather_evidence
from assistant.extractive import ExtractiveAnswerer
from assistant.models import Answer, AnswerMode, Passage, Turn
from assistant.page_view import MarkedPage, PageViews
from assistant.retrieval import HybridSearch
from assistant.selection import Selection, match_document, select_documents
from assistant.settings import Settings
from assistant.snapshot import IndexReader, IndexSnapshot
from assistant.support import WEAK, SupportModels, shipped_models, weak_support_below
from index.embedding import Embedder, EmbedderSettings
from index.indexer import Indexer, Progress
from index.models import Document, IndexedDocument, IndexReport
from index.store import ChunkStore

if TYPE_CHECKING:
    from assistant.langchain_chain import AnswerChain
    from assistant.langchain_retriever import HybridRetriever

# Given the retrieval query and the function that gathers the evidence for it, returns that evidence (the LangChain
# chain reports the retrieval to its callbacks this way).
AroundRetrieval = Callable[[str, Callable[[], Evidence]], Evidence]


def choose_answerer(settings: Settings, embedder: Embedder, chat_model: Any = None) -> Answerer:
    """The chat-model answerer when a model is given or configured, else the extractive one."""
    if chat_model is None and not settings.chat_model:
        return ExtractiveAnswerer()
    from assistant.llm import ChatModelAnswerer

    if chat_model is not None:
        return ChatModelAnswerer(lambda: chat_model, embedder)
    from assistant.chat_models import create_chat_model

    return ChatModelAnswerer(lambda: create_chat_model(settings), embedder)


def choose_support(settings: Settings) -> SupportModels | None:
    """The shipped support models, unless switched off or another embedding model is configured (their features
    include meaning matches measured with the packaged one)."""
    if not settings.support_model or settings.embedding_model != EmbedderSettings.model:
        return None
    return shipped_models()


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
        self.support = choose_support(self.settings)
        default = DECLINE_THRESHOLD if self.support is None else self.support.decline_below
        threshold = self.settings.decline_threshold
        self.decline_threshold = default if threshold is None else threshold
        # only the support models' score is a probability, whose margin above the threshold means something
        self.weak_below = weak_support_below(self.decline_threshold) if self.support else self.decline_threshold
        self._lock = threading.Lock()
        self._reader: IndexReader | None = None
        self._page_views: PageViews | None = None

    @property
    def mode(self) -> AnswerMode:
        return self.answerer.mode

    # --- the index -----------------------------------------------------------------------------------

    def _index(self) -> IndexReader:
        """The index reader, opening Chroma on first use."""
        with self._lock:
            if self._reader is None:
                store = ChunkStore(self.settings.store_settings())
                self._reader = IndexReader(store, lexical_cache=self.settings.lexical_cache)
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
            reading=self.settings.reading_settings(),
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
        return match_document(name, self.sources())

    def resolve_sources(self, sources: Sequence[str]) -> Selection:
        """The documents named (each as `find_document` finds one, or a folder: every document under it), to ask
        within; raises NotFound naming the first name that means none."""
        return select_documents(sources, self.sources())

    def remove(self, name: str) -> IndexedDocument:
        document = self.find_document(name)
        self.store.remove_document(document.id)
        return document

    def document_text(self, document_id: str) -> str:
        """The full indexed text of a document (what citations' offsets index)."""
        return self.snapshot().document_text(document_id)

    def page_with_quote(self, document_id: str, start: int, end: int, quote: str) -> MarkedPage:
        """The page of a PDF or image document holding the quote, rendered, with the quote's characters marked;
        PageUnavailable when it cannot be shown (not paginated, file changed or gone)."""
        document = self.snapshot().state.documents.get(document_id)
        if document is None:
            raise NotFound(f"no indexed document with id {document_id}")
        with self._lock:
            if self._page_views is None:
                self._page_views = PageViews(self.settings.reading_settings())
        return self._page_views.mark(document, start, end, quote)

    # --- answering -----------------------------------------------------------------------------------

    def _search(self) -> HybridSearch:
        return HybridSearch(self.store, self.settings.retrieval_settings())

    def retrieve(self, query: str, k: int = 10, *, sources: Sequence[str] | None = None) -> list[Passage]:
        """The k best passages for `query`, best first (from the documents `sources` names, when given)."""
        snapshot = self._searchable_snapshot()
        within = _selection(sources, snapshot)
        ids = None if within is None else within.document_ids
        return self._search().search(query, self.embedder.embed_query(query), k, snapshot, ids)

    def evidence(
        self, query: str, top_k: int | None = None, *, question: str | None = None, sources: Sequence[str] | None = None
    ) -> Evidence:
        """What the documents (those `sources` names, when given) offer for `query`, read from one snapshot of the
        index."""
        snapshot = self._searchable_snapshot()
        return self._gather(question or query, query, top_k, snapshot, _selection(sources, snapshot))

    def _gather(
        self, question: str, query: str, top_k: int | None, snapshot: IndexSnapshot, within: Selection | None
    ) -> Evidence:
        k = top_k or self.settings.top_k
        return gather_evidence(question, query, k, snapshot, self.embedder, self._search(), within, self.support)

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

    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        top_k: int | None = None,
        *,
        sources: Sequence[str] | None = None,
    ) -> Answer:
        """Answer `question` from the documents, with verified citations, or decline. `sources`: the documents to
        answer from (ids, paths, file names or folders, as `assistant remove` takes them); None: all of them."""
        answer = None
        for item in self.stream(question, history, top_k, sources=sources):
            if isinstance(item, Answer):
                answer = item
        if answer is None:
            raise RuntimeError(f"the {self.mode} answerer produced no answer")
        return answer

    def stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        top_k: int | None = None,
        *,
        sources: Sequence[str] | None = None,
        around_retrieval: AroundRetrieval | None = None,
    ) -> Iterator[str | Answer]:
        """Yield pieces of the answer text as they are produced, then the verified Answer. `around_retrieval`:
        called to gather the evidence (see AroundRetrieval)."""
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        snapshot = self._searchable_snapshot()
        within = _selection(sources, snapshot)  # before the answerer runs: an unknown source fails at once
        query = self.answerer.standalone_query(question, history)
        gather = partial(self._gather, question, query, top_k, snapshot, within)
        evidence = gather() if around_retrieval is None else around_retrieval(query, gather)
        if evidence.score < self.decline_threshold or evidence.missing_codes:
            answer = declined(evidence, self.mode)
            yield answer.text
            yield answer
            return
        weak = evidence.score < self.weak_below
        for item in self.answerer.stream(evidence):
            if isinstance(item, Answer) and item.answered and weak:
                item.support = WEAK
            yield item

    # --- LangChain (the modules load only when these are called) --------------------------------------

    def as_retriever(self, k: int = 5, sources: Sequence[str] | None = None) -> HybridRetriever:
        """The hybrid retrieval as a LangChain retriever of the k best passages (assistant/langchain_retriever.py)."""
        from assistant.langchain_retriever import HybridRetriever

        return HybridRetriever(assistant=self, k=k, sources=sources)

    def as_chain(self, *, top_k: int | None = None, sources: Sequence[str] | None = None) -> AnswerChain:
        """The verified answer as a LangChain Runnable (assistant/langchain_chain.py)."""
        from assistant.langchain_chain import AnswerChain

        return AnswerChain(assistant=self, top_k=top_k, sources=sources)


def _selection(sources: Sequence[str] | None, snapshot: IndexSnapshot) -> Selection | None:
    """The documents `sources` names among those visible in the snapshot; None (all of them) when not given."""
    return None if sources is None else select_documents(sources, snapshot.documents.values())
