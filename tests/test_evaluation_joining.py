"""`assistant eval --join-chars N`: documents joined into long ones, gold spans re-based to the joined text, each
question asked within its own joined document; and the per answer-type figures of the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import PASSAGES, QUESTIONS, HashingEmbedder, require_eval_data

from assistant.evaluation.clapnq import load_clapnq
from assistant.evaluation.joining import JOIN_SEPARATOR, join_documents
from assistant.evaluation.loading import load_eval_set
from assistant.evaluation.questions import EvalSet
from assistant.evaluation.report import format_table, to_json, write_outputs
from assistant.evaluation.results import by_answer_type, score_question
from assistant.evaluation.runner import run_eval
from assistant.evaluation.squad import parse_squad
from assistant.settings import Settings

ANSWERS = ["330 metres", "glucose and oxygen", "Queensland", "Marie Curie", "The Amazon river", "four strings",
           "8,849 metres", "yeast", "July 1969", "waggle dance", "The Rosetta Stone", "Sicilian Defence",
           "Alexander Fleming", "The Sahara", "320 km/h", "magma"]  # fmt: skip


def squad_articles(per_article: int = 2) -> dict:
    """The helpers' sixteen passages as articles of `per_article` paragraphs, each with its question and answer
    (the second answer of a question, its last word, found at a wrong answer_start; one-word answers are one)."""
    rows = list(zip(PASSAGES, QUESTIONS, ANSWERS, strict=True))
    articles = []
    for first in range(0, len(rows), per_article):
        paragraphs = []
        for number, (context, question, answer) in enumerate(rows[first : first + per_article], start=first):
            last_word = answer.split()[-1]
            answers = [
                {"text": answer, "answer_start": context.index(answer)},
                {"text": last_word, "answer_start": 0},
            ]
            paragraphs.append(
                {"context": context, "qas": [{"id": f"q{number}", "question": question, "answers": answers}]}
            )
        articles.append({"title": f"Article {first // per_article}", "paragraphs": paragraphs})
    return {"data": articles}


def assert_gold_spans_in_joined_text(joined: EvalSet) -> None:
    texts = {document.id: document.text for document in joined.documents}
    for question in joined.questions:
        assert question.document_id in texts
        for gold in question.answers:
            assert gold.document_id == question.document_id
            assert texts[gold.document_id][gold.start : gold.end] == gold.text


def hundred_character_articles(count: int) -> dict:
    """`count` one-paragraph articles of exactly 100 characters, each with a question and two answers."""
    articles = []
    for number in range(count):
        context = f"Article {number} says the river is {number + 10} km long. ".ljust(99, "x") + "."
        answers = [{"text": f"{number + 10} km", "answer_start": context.index(" km") - 2}, {"text": "river"}]
        qas = [{"id": f"q{number}", "question": "How long is the river?", "answers": answers}]
        articles.append({"title": f"Article {number}", "paragraphs": [{"context": context, "qas": qas}]})
    return {"data": articles}


def test_articles_join_in_order_until_the_length_and_every_answer_is_rebased() -> None:
    data = parse_squad(hundred_character_articles(7), "seven")
    assert {len(document.text) for document in data.documents} == {100}
    joined = join_documents(data, 250)  # three articles make 304 characters, two only 202
    first, last = joined.documents
    assert first.text == JOIN_SEPARATOR.join(document.text for document in data.documents[:3])
    assert last.text == JOIN_SEPARATOR.join(document.text for document in data.documents[3:])  # the tail folded in
    assert (len(first.text), len(last.text)) == (304, 406)
    assert first.title == "seven, part 1 of 2 (Article 0 ... Article 2)" and first.source == "joined:seven/1"
    assert first.id != last.id
    assert [q.id for q in joined.questions] == [q.id for q in data.questions]  # --limit samples the same ones
    assert [q.document_id for q in joined.questions] == [first.id] * 3 + [last.id] * 4
    assert [(gold.start, gold.text) for gold in joined.questions[4].answers] == [
        (102 + 28, "14 km"),
        (102 + 19, "river"),
    ]
    assert_gold_spans_in_joined_text(joined)
    assert joined.ask_within_document and not data.ask_within_document
    assert (
        joined.variant == "joined into 2 documents of 250+ characters (304 to 406), each question asked within its own"
    )
    assert (joined.kind, joined.name) == ("squad", "seven")


def test_the_sixteen_passages_joined_keep_every_answer_exact() -> None:
    data = parse_squad(squad_articles(), "sixteen")
    joined = join_documents(data, 400)
    assert len(joined.documents) == 2 and all(len(document.text) >= 400 for document in joined.documents)
    assert sum(len(q.answers) for q in joined.questions) == sum(len(q.answers) for q in data.questions) == 29
    assert_gold_spans_in_joined_text(joined)


def test_a_set_shorter_than_the_length_becomes_one_document() -> None:
    data = parse_squad(squad_articles(), "sixteen")
    joined = join_documents(data, 10_000_000)
    (document,) = joined.documents
    assert document.text == JOIN_SEPARATOR.join(d.text for d in data.documents)
    assert_gold_spans_in_joined_text(joined)
    assert "into 1 document of 10,000,000+ characters" in joined.variant
    with pytest.raises(ValueError, match="> 0"):
        join_documents(data, 0)


def clapnq_line(qid: str, question: str, title: str, sentences: list[str], gold: list[str]) -> str:
    passage = {"title": title, "text": " ".join(sentences), "sentences": sentences}
    return json.dumps({"id": qid, "input": question, "passages": [passage], "output": [{"selected_sentences": gold}]})


def test_clapnq_passages_join_with_their_titles_and_gold_sentences_stay_found(tmp_path: Path) -> None:
    lines = []
    for number, (passage, question) in enumerate(zip(PASSAGES, QUESTIONS, strict=True)):
        sentences = [passage, f"Passage {number} ends here ."]
        gold = [passage] if number % 3 else []  # every third question unanswerable
        lines.append(clapnq_line(f"c{number}", question.lower(), f"Title {number}", sentences, gold))
    path = tmp_path / "clapnq.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = load_clapnq(path)
    joined = join_documents(data, 300)
    assert len(joined.documents) > 2 and all(len(document.text) >= 300 for document in joined.documents)
    assert_gold_spans_in_joined_text(joined)
    texts = {document.id: document.text for document in joined.documents}
    for question, original in zip(joined.questions, data.questions, strict=True):
        assert question.is_impossible == original.is_impossible
        assert str(data.text_of(original.document_id)) in texts[question.document_id]  # title line and passage
        assert [gold.text for gold in question.answers] == [gold.text for gold in original.answers]


def test_the_real_xquad_file_joins_exactly() -> None:
    data = load_eval_set(require_eval_data() / "squad11-xquad-en" / "xquad.en.json")
    joined = join_documents(data, 100_000)
    assert len(joined.documents) == 1 and len(joined.documents[0].text) > 180_000  # 189k characters in all
    assert len(joined.questions) == 1190
    assert_gold_spans_in_joined_text(joined)


def test_a_joined_run_asks_each_question_within_its_own_document(tmp_path: Path) -> None:
    path = tmp_path / "sixteen.json"
    path.write_text(json.dumps(squad_articles()), encoding="utf-8")
    data = parse_squad(squad_articles(), "sixteen")
    target = sum(len(document.text) for document in data.documents[:3])
    run = run_eval(path, Settings(), embedder=HashingEmbedder(), join_chars=target)
    joined = join_documents(load_eval_set(path), target)
    own = {question.id: question.document_id for question in joined.questions}
    assert run.documents == 2 and run.variant == joined.variant and len(run.results) == 16
    cited = [(result.id, citation.document_id) for result in run.results for citation in result.citations]
    assert cited and all(document_id == own[qid] for qid, document_id in cited)
    assert all(citation.verbatim for result in run.results for citation in result.citations)
    assert all(result.gold_rank is not None for result in run.results)  # the spans were re-based exactly
    assert f"documents {joined.variant}" in format_table(run)
    summary = to_json(run)
    assert summary["variant"] == joined.variant
    assert set(summary["answer_types"]) == {"date", "number", "person", "place", "other"}
    records = [json.loads(line) for line in write_outputs(run, tmp_path / "out")[0].read_text("utf-8").splitlines()]
    assert all(record["support"] == "" for record in records)
    assert {record["answer_type"] for record in records} >= {"person", "number"}


# --- answer types in the results -------------------------------------------------------------------------------


def test_each_question_is_scored_for_the_kind_of_answer_it_wants() -> None:
    context = "Alexander Fleming discovered penicillin in London in 1928. It saved millions of lives."
    qas = [
        ("who", "Who discovered penicillin?", "Alexander Fleming"),
        ("when", "When did Fleming discover penicillin?", "1928"),
        ("where", "Where did Fleming discover penicillin?", "London"),
        ("many", "How many lives did it save?", "millions"),
        ("what", "What did Fleming discover?", "penicillin"),
    ]
    data = parse_squad(
        {
            "data": [
                {
                    "title": "Penicillin",
                    "paragraphs": [
                        {
                            "context": context,
                            "qas": [
                                {"id": qid, "question": q, "answers": [{"text": a, "answer_start": context.index(a)}]}
                                for qid, q, a in qas
                            ],
                        }
                    ],
                }
            ]
        },
        "penicillin",
    )
    texts = {document.id: document.text for document in data.documents}
    first = context.index(" It")
    citation = (1, data.documents[0].id, 0, first + 1, context[: first + 1])
    results = [
        score_question(question, f"{context[: first + 1]} [1]", True, 0.9, [citation], [], 0.1, texts)
        for question in data.questions
    ]
    by_id = {result.id: result for result in results}
    assert [by_id[qid].answer_type for qid, _, _ in qas] == ["person", "date", "place", "number", "other"]
    # the quote holds a person, a date and a place the questions lack, but no number (millions is in the next
    # sentence), and "other" wants nothing
    assert [by_id[qid].quote_has_answer_type for qid, _, _ in qas] == [True, True, True, False, None]
    declined = score_question(data.questions[0], "No.", False, 0.1, [], [], 0.1, texts)
    assert declined.quote_has_answer_type is False and declined.support == ""
    groups = by_answer_type([*results, declined])
    assert (groups["person"].questions, groups["person"].quote_has_answer_type) == (2, 0.5)
    assert (groups["number"].answerable, groups["number"].quote_has_answer_type) == (1, 0.0)
    assert (groups["other"].questions, groups["other"].quote_has_answer_type) == (1, None)
    assert groups["other"].quote_has_gold == 1.0
