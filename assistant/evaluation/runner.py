"""Run an evaluation: index an evaluation set into a throw-away Chroma folder, ask every question, score the answers.

One runner for every format: the loaders (`loading.py`) give documents and questions, the set's kind chooses
how a quote is matched against the gold (`results.score_question`)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assistant.evaluation.joining import join_documents
from assistant.evaluation.loading import load_eval_set
from assistant.evaluation.questions import EvalKind, EvalQuestion, EvalSet, sample_questions
from assistant.evaluation.results import QuestionResult, score_question

if TYPE_CHECKING:
    from assistant import Assistant, Settings
    from index.embedding import Embedder
    from index.models import IndexReport

RETRIEVE_K = 10
EVAL_COLLECTION = "eval"


class EvalProgress(Protocol):
    """Receives progress events while the questions are asked."""

    def started(self, questions: int) -> None: ...
    def question_done(self, result: QuestionResult) -> None: ...


@dataclass(frozen=True)
class SkippedDocument:
    """A document the assistant could not index; its questions were not asked."""

    source: str
    reason: str
    questions: int


@dataclass
class EvalRun:
    """The outcome of one evaluation run."""

    name: str
    system: str
    file: str
    documents: int
    chunks: int
    indexing_seconds: float
    decline_threshold: float | None
    config: dict[str, Any]
    results: list[QuestionResult]
    kind: EvalKind = "squad"
    skipped: list[SkippedDocument] = field(default_factory=list)
    variant: str = ""  # how the set's documents were changed (`EvalSet.variant`); empty: as in the files


def eval_settings(settings: Settings, index_path: str) -> Settings:
    """The settings with the store pointed at a private folder and collection, never the user's index."""
    return settings.with_changes(index_path=index_path, collection=EVAL_COLLECTION, chroma_host="")


def run_eval(
    paths: str | Path | Sequence[str | Path],
    settings: Settings | None = None,
    *,
    limit: int | None = None,
    seed: int = 0,
    join_chars: int | None = None,
    embedder: Embedder | None = None,
    progress: EvalProgress | None = None,
    index_progress: Any = None,
    on_skip: Callable[[SkippedDocument], None] | None = None,
) -> EvalRun:
    """Evaluate the assistant on SQuAD or ClapNQ files; the index lives in a temporary folder removed afterwards.

    `join_chars`: join the documents into documents of at least that many characters and ask each question within
    its own (`joining.py`). A document that cannot be indexed is reported to `on_skip` and kept in
    `EvalRun.skipped`; its questions are left out and the run goes on."""
    from assistant import Assistant, Settings

    data = load_eval_set(paths)
    if join_chars is not None:
        data = join_documents(data, join_chars)
    questions = sample_questions(data.questions, limit, seed)
    base = settings if settings is not None else Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="assistant-eval-", ignore_cleanup_errors=True) as folder:
        assistant = Assistant(eval_settings(base, str(Path(folder) / "chroma")), embedder=embedder)
        assistant.warm_up()
        started = time.perf_counter()
        report = assistant.index_documents(list(data.documents), progress=index_progress)
        indexing_seconds = time.perf_counter() - started
        skipped = skipped_documents(data, report, questions)
        if on_skip is not None:
            for document in skipped:
                on_skip(document)
        failed = {outcome.source for outcome in report.failures}
        indexed = {document.id for document in data.documents if document.source not in failed}
        questions = [question for question in questions if question.document_id in indexed]
        texts = {document.id: document.text for document in data.documents}
        if progress is not None:
            progress.started(len(questions))
        results = []
        for question in questions:
            results.append(ask_one(assistant, question, texts, data.kind, within_document=data.ask_within_document))
            if progress is not None:
                progress.question_done(results[-1])
        return EvalRun(
            name=data.name,
            system=f"assistant ({assistant.mode})",
            file=" ".join(str(path) for path in ([paths] if isinstance(paths, (str, Path)) else paths)),
            documents=len(data.documents) - len(skipped),
            chunks=report.chunks_written,
            indexing_seconds=indexing_seconds,
            decline_threshold=float(assistant.decline_threshold),
            config=_config(assistant.settings),
            results=results,
            kind=data.kind,
            skipped=skipped,
            variant=data.variant,
        )


def skipped_documents(data: EvalSet, report: IndexReport, questions: Sequence[EvalQuestion]) -> list[SkippedDocument]:
    """The documents the indexing run failed on, each with the reason and how many of `questions` it had."""
    by_source = {document.source: document.id for document in data.documents}
    skipped = []
    for outcome in report.failures:
        document_id = by_source.get(outcome.source)
        asked = sum(1 for question in questions if question.document_id == document_id)
        skipped.append(SkippedDocument(outcome.source, outcome.reason or "indexing failed", asked))
    return skipped


def ask_one(
    assistant: Assistant,
    question: EvalQuestion,
    texts: dict[str, str],
    kind: EvalKind = "squad",
    *,
    within_document: bool = False,
) -> QuestionResult:
    """Retrieve (for the ranking metrics), then ask (timed), then score against the file's text; both within the
    question's own document alone when `within_document`."""
    sources = [question.document_id] if within_document else None
    passages = assistant.retrieve(question.question, k=RETRIEVE_K, sources=sources)
    started = time.perf_counter()
    answer = assistant.ask(question.question, sources=sources)
    latency = time.perf_counter() - started
    return score_question(
        question,
        answer_text=answer.text,
        answered=answer.answered,
        evidence=float(answer.evidence),
        support=answer.support,
        fallback=answer.fallback,
        unsupported=len(answer.unsupported),
        closest=answer.closest,
        citations=[(c.n, c.document_id, c.start, c.end, c.quote) for c in answer.citations],
        retrieved=[(p.document_id, p.start, p.end) for p in passages],
        latency_s=latency,
        source_text=texts,
        kind=kind,
    )


def _config(settings: Settings) -> dict[str, Any]:
    names = (
        "embedding_model",
        "chunk_size",
        "chunk_overlap",
        "top_k",
        "sentence_bonus",
        "chat_model",
        "decline_threshold",
    )
    return {name: getattr(settings, name) for name in names}
