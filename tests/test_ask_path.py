"""The path of one question: one index snapshot per ask, at most two Chroma calls when warm, the answerer
protocol, and every stage of an answer agreeing on one version of the index."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from helpers import SEEDS

from assistant.answerer import answered, declined
from assistant.evidence import Evidence
from assistant.models import Answer, AnswerMode, Turn
from index.identity import make_document

QUESTION = "Where did the NATO foreign ministers meet?"


def test_a_warm_ask_makes_at_most_two_chroma_calls(make_assistant, minilm, chroma_calls):
    assistant = make_assistant(minilm)
    assistant.index_paths([SEEDS])
    assert assistant.ask(QUESTION).answered  # warms the model, the collections and the lexical index
    chroma_calls.clear()
    answer = assistant.ask(QUESTION)
    assert answer.answered and answer.citations
    assert sum(chroma_calls.values()) <= 2, dict(chroma_calls)
    assert chroma_calls["Collection.query"] == 1, "the vector search"


def test_a_warm_ask_within_chosen_documents_makes_at_most_two_chroma_calls(make_assistant, minilm, chroma_calls):
    assistant = make_assistant(minilm)
    assistant.index_paths([SEEDS])
    assistant.index_documents([make_document("/notes/ferry.txt", "ferry", "The ferry to Vela leaves at seven.")])
    within = ["nato-stoltenberg-prague.txt"]
    assert assistant.ask(QUESTION, sources=within).answered  # warm
    chroma_calls.clear()
    answer = assistant.ask(QUESTION, sources=within)
    assert answer.answered and {citation.source for citation in answer.citations} == {str(SEEDS / within[0])}
    assert sum(chroma_calls.values()) <= 2, dict(chroma_calls)
    chroma_calls.clear()
    assert not assistant.ask("When does the ferry to Vela leave?", sources=within).answered
    assert sum(chroma_calls.values()) <= 2, dict(chroma_calls)


def test_one_snapshot_per_ask(make_assistant, fake_embedder, monkeypatch):
    assistant = make_assistant(fake_embedder)
    assistant.index_paths([SEEDS])
    store = assistant.store
    reads = []
    real_state = store.state

    def state():
        reads.append(1)
        return real_state()

    monkeypatch.setattr(store, "state", state)
    assistant.ask(QUESTION)
    assistant.ask("And who said it?", history=[Turn(QUESTION, "In Prague.")])
    assert len(reads) == 2, "the generation and manifest are read once per question"


def test_a_change_between_questions_is_seen_by_the_next_one(make_assistant, fake_embedder, tmp_path):
    reader = make_assistant(fake_embedder)
    writer = make_assistant(fake_embedder)  # the same folder, as another part of the program would
    writer.index_documents([make_document("/notes/ferry.txt", "ferry", "The ferry to Vela leaves at seven.")])
    assert "seven" in reader.ask("When does the ferry to Vela leave?").text
    changed = make_document("/notes/ferry.txt", "ferry", "The ferry to Vela now leaves at nine.")
    writer.index_documents([changed])
    answer = reader.ask("When does the ferry to Vela leave?")
    assert "nine" in answer.text and "seven" not in answer.text
    assert all(reader.document_text(c.document_id)[c.start : c.end] == c.quote for c in answer.citations)


class FirstSentenceAnswerer:
    """A third answerer, as a user could add one: the best-scoring sentence, verbatim, or decline."""

    mode = AnswerMode.EXTRACTIVE

    def standalone_query(self, question: str, history: Sequence[Turn]) -> str:
        return question

    def stream(self, evidence: Evidence) -> Iterator[str | Answer]:
        builder = evidence.citation_builder()
        best = evidence.sentences[0]
        citation = builder.cite(best.passage, best.start, best.end, best.score)
        if citation is None:
            answer = declined(evidence, self.mode)
        else:
            answer = answered(evidence, self.mode, f"{citation.quote} [{citation.n}]", builder.citations)
        yield answer.text
        yield answer


def test_an_answerer_only_receives_evidence(make_assistant, minilm, tmp_path):
    from assistant.core import Assistant

    assistant = Assistant(make_assistant(minilm).settings, embedder=minilm, answerer=FirstSentenceAnswerer())
    assistant.index_paths([SEEDS])
    answer = assistant.ask(QUESTION)
    assert answer.answered and "Prague" in answer.text
    (citation,) = answer.citations
    assert assistant.document_text(citation.document_id)[citation.start : citation.end] == citation.quote
    silent = assistant.ask("What is the boiling point of liquid nitrogen in kelvin?")
    assert not silent.answered and silent.evidence < assistant.decline_threshold, "weak evidence declines first"
