"""Asking within chosen documents: only they are searched (dense and lexical) and cited, and they are named the
way `assistant remove` names a document, or by a folder."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import NotFound
from assistant.evidence import Evidence
from assistant.extractive import ExtractiveAnswerer
from assistant.lexical import LexicalIndex
from assistant.models import Answer, AnswerMode, Turn
from assistant.retrieval import HybridSearch, RetrievalSettings
from index.identity import make_document

FILES = {
    "travel/ferry.txt": "The ferry to Vela leaves at seven in the morning from the old harbour. Tickets cost four "
    "euros.",
    "travel/train.txt": "The night train to Split departs at ten from platform two. It has a dining car.",
    "home/cats.txt": "The lighthouse keeper feeds three cats every evening, after the lamp is lit.",
    "home/garden.txt": "The garden club meets on Tuesdays to plant tulips along the harbour wall.",
}
FERRY_QUESTION = "When does the ferry to Vela leave?"


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "library"
    for name, text in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def assistant(make_assistant, minilm, library):
    assistant = make_assistant(minilm)
    assert assistant.index_paths([library]).count("failed") == 0
    return assistant


def _source(library: Path, name: str) -> str:
    return str((library / name).resolve())


def test_an_answer_comes_only_from_the_chosen_documents(assistant, library):
    chosen = ["ferry.txt", str(library / "home")]  # a file name and a folder
    answer = assistant.ask(FERRY_QUESTION, sources=chosen)
    expected = tuple(
        sorted(_source(library, name) for name in ("travel/ferry.txt", "home/cats.txt", "home/garden.txt"))
    )
    assert answer.within == expected
    assert answer.answered and "seven in the morning" in answer.text
    assert {passage.source for passage in answer.passages} <= set(expected)
    assert {citation.source for citation in answer.citations} == {_source(library, "travel/ferry.txt")}
    for citation in answer.citations:
        assert assistant.document_text(citation.document_id)[citation.start : citation.end] == citation.quote
    assert json.loads(json.dumps(answer.to_dict()))["within"] == list(expected)


def test_a_question_answered_only_in_another_document_is_declined(assistant, library):
    everywhere = assistant.ask(FERRY_QUESTION)
    assert everywhere.answered and everywhere.within == ()
    within_cats = assistant.ask(FERRY_QUESTION, sources=["cats.txt"])
    assert not within_cats.answered and within_cats.citations == []
    assert within_cats.passages, "the closest passages of the chosen document are still shown"
    assert {passage.source for passage in within_cats.passages} == {_source(library, "home/cats.txt")}
    assert within_cats.within == (_source(library, "home/cats.txt"),)


def test_stream_takes_the_same_sources(assistant, library):
    items = list(assistant.stream(FERRY_QUESTION, sources=[str(library / "travel")]))
    answer = items[-1]
    assert isinstance(answer, Answer) and all(isinstance(item, str) for item in items[:-1])
    assert answer.within == (_source(library, "travel/ferry.txt"), _source(library, "travel/train.txt"))
    assert answer.citations and answer.citations[0].source == _source(library, "travel/ferry.txt")


def test_sources_are_named_as_remove_names_a_document(assistant, library, monkeypatch):
    ferry = assistant.find_document("ferry.txt")
    as_remove_finds_it = ("ferry.txt", ferry.id, ferry.source, str(library / "travel" / ".." / "travel" / "ferry.txt"))
    for name in as_remove_finds_it:
        assert assistant.resolve_sources([name]).sources == (ferry.source,), name
    monkeypatch.chdir(library)
    assert assistant.resolve_sources(["travel/ferry.txt"]).sources == (ferry.source,), "a relative path"
    home = assistant.resolve_sources(["home"])  # a relative folder: every document under it
    assert home.sources == (_source(library, "home/cats.txt"), _source(library, "home/garden.txt"))
    assert assistant.resolve_sources([str(library)]).document_ids == frozenset(d.id for d in assistant.sources())
    assert assistant.resolve_sources(["ferry.txt", ferry.id, "travel"]).sources == (
        ferry.source,
        _source(library, "travel/train.txt"),
    ), "a document named twice counts once"


def test_an_unknown_or_ambiguous_source_is_a_clear_error(make_assistant, fake_embedder):
    assistant = make_assistant(fake_embedder)
    assistant.index_documents(
        [
            make_document("/notes/2023/plan.txt", "plan", "The plan for 2023 was to repaint the boathouse."),
            make_document("/notes/2024/plan.txt", "plan", "The plan for 2024 is to rebuild the jetty."),
        ]
    )
    with pytest.raises(NotFound, match="no indexed document matches 'budget.txt'"):
        assistant.ask("What is the plan?", sources=["/notes/2023/plan.txt", "budget.txt"])
    with pytest.raises(NotFound, match="2 indexed documents are named 'plan.txt'"):
        assistant.ask("What is the plan?", sources=["plan.txt"])
    with pytest.raises(NotFound, match="'/elsewhere'"):
        assistant.ask("What is the plan?", sources=["/elsewhere"])
    with pytest.raises(ValueError, match="no document was named"):
        assistant.ask("What is the plan?", sources=[])
    answer = assistant.ask("What is the plan for 2024?", sources=["/notes/2024"])  # a folder that is not on disk
    assert answer.within == ("/notes/2024/plan.txt",)
    assert {passage.source for passage in answer.passages} == {"/notes/2024/plan.txt"}


class SpyAnswerer(ExtractiveAnswerer):
    """The extractive answerer, noting each question it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.questions: list[str] = []

    def standalone_query(self, question: str, history: Sequence[Turn]) -> str:
        self.questions.append(question)
        return super().standalone_query(question, history)

    def stream(self, evidence: Evidence) -> Iterator[str | Answer]:
        assert evidence.within is not None and evidence.within.sources
        yield from super().stream(evidence)


def test_an_unknown_source_fails_before_the_answerer_runs(make_assistant, fake_embedder, library):
    from assistant.core import Assistant

    spy = SpyAnswerer()
    assistant = Assistant(make_assistant(fake_embedder).settings, embedder=fake_embedder, answerer=spy)
    assistant.index_paths([library])
    with pytest.raises(NotFound, match="nowhere.txt"):
        list(assistant.stream(FERRY_QUESTION, sources=["nowhere.txt"]))
    assert spy.questions == []
    answer = assistant.ask(FERRY_QUESTION, sources=["ferry.txt"])
    assert spy.questions == [FERRY_QUESTION] and answer.within == (_source(library, "travel/ferry.txt"),)


def test_the_exact_and_the_filtered_vector_search_agree(make_assistant, fake_embedder, chroma_calls):
    assistant = make_assistant(fake_embedder)
    documents = [
        make_document(f"/corpus/{n:02d}.txt", f"doc {n}", f"Note {n}. The ferry number {n} sails at {n} o'clock. " * 3)
        for n in range(12)
    ]
    assistant.index_documents(documents)
    chosen = {documents[2].id, documents[5].id, documents[7].id}
    snapshot = assistant.snapshot()
    query = "Which ferry sails at 5 o'clock?"
    vector = fake_embedder.embed_query(query)
    exact = HybridSearch(assistant.store, RetrievalSettings(exact_search_chunks=10_000))
    filtered = HybridSearch(assistant.store, RetrievalSettings(exact_search_chunks=0))
    chroma_calls.clear()
    by_exact = exact.search(query, vector, 5, snapshot, chosen)
    assert chroma_calls["Collection.get"] == 1 and chroma_calls["Collection.query"] == 0, dict(chroma_calls)
    chroma_calls.clear()
    by_filter = filtered.search(query, vector, 5, snapshot, chosen)
    assert chroma_calls["Collection.query"] == 1 and chroma_calls["Collection.get"] == 0, dict(chroma_calls)
    assert [p.chunk_id for p in by_exact] == [p.chunk_id for p in by_filter]
    assert {p.document_id for p in by_exact} <= chosen and by_exact[0].document_id == documents[5].id
    for ours, theirs in zip(by_exact, by_filter, strict=True):
        assert ours.dense_score == pytest.approx(theirs.dense_score, abs=1e-5)


def test_the_lexical_search_within_keeps_the_collection_scores(fake_embedder, make_assistant):
    assistant = make_assistant(fake_embedder)
    assistant.index_documents(
        [make_document(f"/bm25/{n}.txt", str(n), f"Harbour notes {n}: the ferry leaves at {n}.") for n in range(6)]
    )
    chunks = [stored for document in assistant.sources() for stored in assistant.store.iter_chunks(document.id)]
    index = LexicalIndex.build(chunks)
    chosen = {chunks[1].chunk.document_id, chunks[4].chunk.document_id}
    everything = index.search("ferry leaves at 4", 10)
    within = index.search("ferry leaves at 4", 10, within=chosen)
    assert [(s.chunk.id, score) for s, score in within] == [
        (s.chunk.id, score) for s, score in everything if s.chunk.document_id in chosen
    ]
    assert len(within) == 2 and within[0][0].chunk.text.endswith("at 4.")
    assert index.search("ferry", 10, within=set()) == []
    assert {s.chunk.id for s in index.chunks_of(chosen)} == {s.chunk.id for s, _ in within}


def test_warnings_name_only_the_chosen_documents(make_assistant, fake_embedder):
    assistant = make_assistant(fake_embedder)
    kept = make_document("/w/kept.txt", "kept", "The kept note says the bridge opens at noon.")
    other = make_document("/w/other.txt", "other", "The other note says the museum closes at five.")
    assistant.index_documents([kept, other])
    snapshot = assistant.snapshot()
    snapshot.left_out[other.id] = "its stored chunks no longer rebuild its text"
    (line,) = snapshot.warnings()
    assert "other.txt" in line and "kept.txt" not in line
    assert snapshot.warnings(among={kept.id}) == []


def test_cli_ask_in(assistant, library, capsys):
    from assistant.cli import main

    index = assistant.settings.index_path
    status = main(["--index", index, "ask", FERRY_QUESTION, "--in", "cats.txt", "--in", "garden.txt", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert status == 0 and data["answered"] is False
    assert data["within"] == [_source(library, "home/cats.txt"), _source(library, "home/garden.txt")]
    assert {passage["source"] for passage in data["passages"]} <= set(data["within"])
    assert main(["--index", index, "ask", FERRY_QUESTION, "--in", str(library / "travel")]) == 0
    out = capsys.readouterr().out
    assert "(Asked within: ferry.txt, train.txt)" in out and "[1] ferry.txt" in out


def test_cli_unknown_source_is_one_line(assistant, capsys):
    from assistant.cli import main

    status = main(["--index", assistant.settings.index_path, "ask", FERRY_QUESTION, "--in", "nowhere.txt"])
    captured = capsys.readouterr()
    assert status == 1 and captured.out == ""
    assert captured.err.splitlines() == ["error: no indexed document matches 'nowhere.txt' (see `assistant sources`)"]


def test_cli_chat_in(assistant, library, capsys, monkeypatch):
    from assistant.cli import main

    lines = iter([FERRY_QUESTION, "How much do the tickets cost?", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    assert main(["--index", assistant.settings.index_path, "chat", "--in", "ferry.txt"]) == 0
    out = capsys.readouterr().out
    assert f"Asking within: {_source(library, 'travel/ferry.txt')}" in out
    assert out.count("(Asked within: ferry.txt)") == 2 and "four euros" in out
    monkeypatch.setattr("builtins.input", lambda prompt="": pytest.fail("the conversation should not start"))
    assert main(["--index", assistant.settings.index_path, "chat", "--in", "nowhere.txt"]) == 1
    assert "no indexed document matches 'nowhere.txt'" in capsys.readouterr().err


def test_an_answer_records_no_sources_when_asked_everywhere(make_assistant, fake_embedder):
    assistant = make_assistant(fake_embedder)
    assistant.index_documents([make_document("/x/tide.txt", "tide", "High tide is at six.")])
    answer = assistant.ask("When is high tide?", sources=None)
    assert answer.within == () and answer.to_dict()["within"] == ()
    assert answer.mode == AnswerMode.EXTRACTIVE


def test_a_chosen_document_whose_vectors_are_gone_is_still_searched_by_its_words(assistant, library, monkeypatch):
    nothing_found = ([], np.zeros(0, dtype=np.float32))  # what Chroma's get returns for ids it does not hold
    monkeypatch.setattr(assistant.store, "vectors_of", lambda chunks: nothing_found)
    answer = assistant.ask(FERRY_QUESTION, sources=["ferry.txt"])
    assert answer.within == (_source(library, "travel/ferry.txt"),)
    assert all(passage.dense_score is None for passage in answer.passages) and answer.passages
    assert {passage.source for passage in answer.passages} == {_source(library, "travel/ferry.txt")}


def test_the_documents_asked_within_are_listed_by_file_name_whatever_their_folders():
    """The answer's caption and the question box list the same names in the same order (folders sort otherwise)."""
    from assistant.render import asked_within
    from ui.within import question_placeholder

    within = ("/a/zebra/notes.txt", "/b/Alpha.txt")
    answer = Answer("q", "a", [], [], True, within=within)
    assert asked_within(answer) == "Asked within: Alpha.txt, notes.txt"
    assert question_placeholder(list(within)) == "Ask within Alpha.txt, notes.txt"
