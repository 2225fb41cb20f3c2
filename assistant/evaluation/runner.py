"""Run an evaluation: index a SQuAD file into a throw-away Chroma folder, ask every question, score the answers."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assistant.evaluation.results import QuestionResult, score_question
from assistant.evaluation.squad import EvalQuestion, load_squad, sample_questions

if TYPE_CHECKING:
    from assistant import Assistant, Settings
    from index.embedding import Embedder

RETRIEVE_K = 10
EVAL_COLLECTION = "eval"


class EvalProgress(Protocol):
    """Receives progress events while the questions are asked."""

    def started(self, questions: int) -> None: ...
    def question_done(self, result: QuestionResult) -> None: ...


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


def eval_settings(settings: Settings, index_path: str) -> Settings:
    """The settings with the store pointed at a private folder and collection, never the user's index."""
    return settings.with_changes(index_path=index_path, collection=EVAL_COLLECTION, chroma_host="")


def run_eval(
    path: str | Path,
    settings: Settings | None = None,
    *,
    limit: int | None = None,
    seed: int = 0,
    embedder: Embedder | None = None,
    progress: EvalProgress | None = None,
    index_progress: Any = None,
) -> EvalRun:
    """Evaluate the assistant on a SQuAD file; the index lives in a temporary folder removed afterwards."""
    from assistant import Assistant, Settings

    data = load_squad(path)
    questions = sample_questions(data.questions, limit, seed)
    base = settings if settings is not None else Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="assistant-eval-", ignore_cleanup_errors=True) as folder:
        assistant = Assistant(eval_settings(base, str(Path(folder) / "chroma")), embedder=embedder)
        assistant.warm_up()
        started = time.perf_counter()
        report = assistant.index_documents(list(data.documents), progress=index_progress)
        indexing_seconds = time.perf_counter() - started
        if report.failures:
            raise RuntimeError(f"indexing the evaluation documents failed: {report.failures[0].reason}")
        texts = {document.id: document.text for document in data.documents}
        if progress is not None:
            progress.started(len(questions))
        results = []
        for question in questions:
            results.append(ask_one(assistant, question, texts))
            if progress is not None:
                progress.question_done(results[-1])
        return EvalRun(
            name=data.name,
            system=f"assistant ({assistant.mode})",
            file=str(path),
            documents=len(data.documents),
            chunks=report.chunks_written,
            indexing_seconds=indexing_seconds,
            decline_threshold=float(assistant.decline_threshold),
            config=_config(assistant.settings),
            results=results,
        )


def ask_one(assistant: Assistant, question: EvalQuestion, texts: dict[str, str]) -> QuestionResult:
    """Retrieve (for the ranking metrics), then ask (timed), then score against the file's text."""
    passages = assistant.retrieve(question.question, k=RETRIEVE_K)
    started = time.perf_counter()
    answer = assistant.ask(question.question)
    latency = time.perf_counter() - started
    return score_question(
        question,
        answer_text=answer.text,
        answered=answer.answered,
        evidence=float(answer.evidence),
        citations=[(c.n, c.document_id, c.start, c.end, c.quote) for c in answer.citations],
        retrieved=[(p.document_id, p.start, p.end) for p in passages],
        latency_s=latency,
        source_text=texts,
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
