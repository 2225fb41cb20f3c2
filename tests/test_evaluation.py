"""The evaluation feature: SQuAD parsing, every metric by hand, and one real run on a tiny SQuAD file."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.evaluation import metrics
from assistant.evaluation.report import format_table, to_json, write_outputs
from assistant.evaluation.results import score_question, summarize, tradeoff
from assistant.evaluation.runner import EvalRun
from assistant.evaluation.squad import load_squad, parse_squad, sample_questions
from index.identity import document_id

NILE = "The Nile is the longest river in Africa. It flows north into the Mediterranean Sea."
AMAZON = "The Amazon carries more water than any other river. Its basin covers much of Brazil."
ETNA = "Mount Etna is an active volcano on the island of Sicily. It last erupted in 2023."

TINY = {
    "version": "v2.0",
    "data": [
        {
            "title": "Rivers",
            "paragraphs": [
                {
                    "context": NILE,
                    "qas": [
                        {
                            "id": "q1",
                            "question": "Which river is the longest in Africa?",
                            "answers": [
                                {"text": "The Nile", "answer_start": 0},
                                {"text": "Nile", "answer_start": 4},
                                {"text": "Nile", "answer_start": 4},
                            ],
                            "is_impossible": False,
                        },
                        {
                            "id": "q5",
                            "question": "Which river is the shortest in Africa?",
                            "answers": [],
                            "plausible_answers": [{"text": "The Nile", "answer_start": 0}],
                            "is_impossible": True,
                        },
                    ],
                },
                {
                    "context": AMAZON,
                    "qas": [
                        {
                            "id": "q2",
                            "question": "Which country holds much of the Amazon basin?",
                            "answers": [{"text": "Brazil", "answer_start": AMAZON.index("Brazil")}],
                            "is_impossible": False,
                        }
                    ],
                },
            ],
        },
        {
            "title": "Volcanoes",
            "paragraphs": [
                {
                    "context": ETNA,
                    "qas": [
                        {
                            "id": "q3",
                            "question": "On which island is Mount Etna?",
                            "answers": [{"text": "Sicily", "answer_start": ETNA.index("Sicily")}],
                            "is_impossible": False,
                        },
                        {
                            "id": "q4",
                            "question": "How many tourists climb Mount Etna each year?",
                            "answers": [],
                            "is_impossible": True,
                        },
                    ],
                }
            ],
        },
    ],
}

RIVERS = document_id("squad:tiny/0:Rivers")
VOLCANOES = document_id("squad:tiny/1:Volcanoes")
BRAZIL = len(NILE) + 2 + AMAZON.index("Brazil")
SICILY = ETNA.index("Sicily")


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY), encoding="utf-8")
    return path


# --- parsing -------------------------------------------------------------------------------------------


def test_articles_become_exact_documents_with_gold_spans_in_article_offsets(tiny_file: Path) -> None:
    data = load_squad(tiny_file)
    rivers, volcanoes = data.documents
    assert (rivers.id, rivers.title, rivers.source) == (RIVERS, "Rivers", "squad:tiny/0:Rivers")
    assert rivers.text == NILE + "\n\n" + AMAZON
    assert volcanoes.text == ETNA and volcanoes.id == VOLCANOES
    by_id = {q.id: q for q in data.questions}
    assert [q.id for q in data.questions] == ["q1", "q5", "q2", "q3", "q4"]
    assert [(g.start, g.end, g.text) for g in by_id["q1"].answers] == [(0, 8, "The Nile"), (4, 8, "Nile")]
    assert [(g.document_id, g.start, g.end) for g in by_id["q2"].answers] == [(RIVERS, BRAZIL, BRAZIL + 6)]
    assert rivers.text[BRAZIL : BRAZIL + 6] == "Brazil"
    assert [(g.document_id, g.start, g.end) for g in by_id["q3"].answers] == [(VOLCANOES, SICILY, SICILY + 6)]
    assert [q.is_impossible for q in data.questions] == [False, True, False, False, True]
    assert by_id["q5"].answers == () and data.answerable == 3
    assert data.text_of(VOLCANOES) == ETNA and data.text_of("nope") is None


def test_files_without_version_or_titles_and_with_one_context_per_article_parse() -> None:
    first_qa = {"question": "Longest?", "answers": [{"text": "Nile", "answer_start": 4}]}
    second_qa = {"id": "x", "question": "Island?", "answers": [{"text": "Sicily", "answer_start": 3}]}
    articles = [{"paragraphs": [{"context": NILE, "qas": [first_qa]}]}, {"context": ETNA, "qas": [second_qa]}]
    data = parse_squad({"data": articles}, "bare")
    assert [d.title for d in data.documents] == ["article 0", "article 1"]
    assert [d.text for d in data.documents] == [NILE, ETNA]
    first, second = data.questions
    assert not first.is_impossible and (first.answers[0].start, first.answers[0].end) == (4, 8)
    assert (second.answers[0].start, second.answers[0].text) == (SICILY, "Sicily")  # misplaced start repaired


def test_bad_files_are_rejected_with_a_readable_message(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_squad(broken)
    with pytest.raises(ValueError, match="no SQuAD articles"):
        parse_squad({"version": "1.1"}, "empty")


def test_sampling_is_seeded_and_keeps_file_order(tiny_file: Path) -> None:
    questions = load_squad(tiny_file).questions
    first = sample_questions(questions, 3, seed=0)
    assert first == sample_questions(questions, 3, seed=0)
    assert len(first) == 3 and [q.id for q in first] == [q.id for q in questions if q in first]
    assert sample_questions(questions, None) == list(questions)
    assert sample_questions(questions, 99) == list(questions)


# --- pure metrics --------------------------------------------------------------------------------------


def test_squad_answer_scoring() -> None:
    assert metrics.normalize_answer("The  Nile, river!") == "nile river"
    assert metrics.strip_markers("Sicily [1] and Etna [12].") == "Sicily and Etna."
    assert metrics.exact_match("the Nile.", ["Nile"]) == 1.0
    assert metrics.exact_match("Nile river", ["Nile"]) == 0.0
    assert metrics.exact_match("", []) == 1.0 and metrics.exact_match("Nile", []) == 0.0
    assert metrics.token_f1("the Nile river", ["Nile"]) == pytest.approx(2 / 3)
    assert metrics.token_f1("Nile river", ["Amazon", "river Nile"]) == 1.0
    assert metrics.token_f1("Amazon", ["Nile"]) == 0.0
    assert metrics.token_f1("", []) == 1.0 and metrics.token_f1("Nile", []) == 0.0
    assert metrics.word_count("Sicily is an island. [1]") == 4


def test_span_ranks_and_hits() -> None:
    golds = [("d", 10, 14)]
    retrieved = [("e", 0, 100), ("d", 0, 12), ("d", 5, 20), ("d", 0, 50)]
    assert metrics.gold_rank(retrieved, golds) == 3
    assert metrics.gold_rank(retrieved[:2], golds) is None
    assert metrics.contains(("d", 10, 14), ("d", 10, 14)) and not metrics.contains(("e", 0, 99), ("d", 10, 14))
    assert [metrics.hit_at_k(3, k) for k in (1, 3, 5)] == [False, True, True]
    assert not metrics.hit_at_k(None, 10)
    assert metrics.reciprocal_rank(4) == 0.25 and metrics.reciprocal_rank(None) == 0.0


def test_quotes_and_citation_overlap() -> None:
    assert metrics.quote_contains_gold(["The Nile is the longest river."], ["Nile"])
    assert not metrics.quote_contains_gold(["The Nilesque style."], ["Nile"])
    assert not metrics.quote_contains_gold([], ["Nile"]) and not metrics.quote_contains_gold(["Nile"], [])
    assert metrics.citation_overlaps_gold(("d", 0, 11), [("d", 10, 14)])
    assert not metrics.citation_overlaps_gold(("d", 0, 10), [("d", 10, 14)])
    assert not metrics.citation_overlaps_gold(("e", 0, 20), [("d", 10, 14)])


def test_means_shares_and_percentiles() -> None:
    assert metrics.mean([1.0, 2.0, 6.0]) == 3.0 and metrics.mean([]) is None
    assert metrics.share([True, False, False, True]) == 0.5 and metrics.share([]) is None
    assert metrics.percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert metrics.percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert metrics.percentile([7.0], 95) == 7.0 and metrics.percentile([], 50) is None


def test_decline_tradeoff_curve() -> None:
    points = metrics.decline_tradeoff([0.5, 0.8], [0.3, 0.6])
    assert [(p.threshold, p.unanswerable_declined, p.answerable_kept) for p in points] == [
        (0.3, 0.0, 1.0),
        (0.5, 0.5, 1.0),
        (0.6, 0.5, 0.5),
        (0.8, 1.0, 0.5),
        (math.inf, 1.0, 0.0),
    ]


# --- aggregation and reports ---------------------------------------------------------------------------


def _scored_run(tiny_file: Path) -> EvalRun:
    """Five hand-made answers to the tiny file: right, wrongly declined, exact, declined, wrongly answered."""
    data = load_squad(tiny_file)
    texts = {d.id: d.text for d in data.documents}
    q = {question.id: question for question in data.questions}
    nile = (1, RIVERS, 0, 40, NILE[:40])
    etna_end = ETNA.index(" It")
    sicily = (1, VOLCANOES, 0, etna_end, ETNA[:etna_end])
    misquoted = (2, VOLCANOES, etna_end + 1, len(ETNA), "It last erupted in 2024.")
    amazon = (RIVERS, len(NILE) + 2, len(NILE) + 2 + len(AMAZON))
    declined = "The documents do not contain an answer to this question."
    results = [
        score_question(q["q1"], f"{NILE[:40]} [1]", True, 0.9, [nile], [(RIVERS, 0, 85)], 0.1, texts),
        score_question(q["q2"], declined, False, 0.3, [], [(VOLCANOES, 0, 10), amazon], 0.2, texts),
        score_question(q["q3"], "Sicily. [1] [2]", True, 0.6, [sicily, misquoted], [(RIVERS, 0, 40)], 0.3, texts),
        score_question(q["q4"], declined, False, 0.2, [], [(VOLCANOES, 0, 10)], 0.4, texts),
        score_question(q["q5"], f"{NILE[:40]} [1]", True, 0.7, [nile], [(RIVERS, 0, 85)], 0.5, texts),
    ]
    return EvalRun("tiny", "assistant (test)", str(tiny_file), 2, 3, 1.5, 0.35, {"top_k": 5}, results)


def test_per_question_scores(tiny_file: Path) -> None:
    q1, q2, q3, q4, q5 = _scored_run(tiny_file).results
    assert [r.gold_rank for r in (q1, q2, q3, q4, q5)] == [1, 2, None, None, None]
    assert [r.exact_match for r in (q1, q2, q3, q4, q5)] == [0.0, 0.0, 1.0, 1.0, 0.0]
    assert [r.f1 for r in (q1, q2, q3, q4, q5)] == pytest.approx([2 / 7, 0.0, 1.0, 1.0, 0.0])
    assert [r.quote_has_gold for r in (q1, q2, q3, q4, q5)] == [True, False, True, False, False]
    assert [(c.verbatim, c.overlaps_gold) for c in q3.citations] == [(True, True), (False, False)]
    assert [r.hit for r in (q1, q2, q3, q4, q5)] == [True, False, True, True, False]


def test_every_group_metric_by_hand(tiny_file: Path) -> None:
    groups = summarize(_scored_run(tiny_file).results)
    overall, answerable, unanswerable = groups["overall"], groups["answerable"], groups["unanswerable"]
    assert (overall.questions, answerable.questions, unanswerable.questions) == (5, 3, 2)
    for group in (overall, answerable):
        assert group.hit_at == pytest.approx({1: 1 / 3, 3: 2 / 3, 5: 2 / 3, 10: 2 / 3})
        assert group.mrr == pytest.approx(0.5)
        assert group.quote_has_gold == pytest.approx(2 / 3)
        assert group.citations_overlap_gold == pytest.approx(2 / 3)
        assert group.answerable_declined == pytest.approx(1 / 3)
    assert unanswerable.hit_at == {1: None, 3: None, 5: None, 10: None} and unanswerable.mrr is None
    assert (overall.exact_match, answerable.exact_match, unanswerable.exact_match) == pytest.approx(
        (2 / 5, 1 / 3, 1 / 2)
    )
    assert (overall.f1, answerable.f1, unanswerable.f1) == pytest.approx((16 / 35, 3 / 7, 1 / 2))
    assert (overall.answer_words, answerable.answer_words, unanswerable.answer_words) == pytest.approx((17 / 3, 4.5, 8))
    assert (overall.citations, answerable.citations, unanswerable.citations) == (4, 3, 1)
    assert (
        overall.citations_verbatim,
        answerable.citations_verbatim,
        unanswerable.citations_verbatim,
    ) == pytest.approx((3 / 4, 2 / 3, 1.0))
    assert unanswerable.citations_overlap_gold is None and unanswerable.quote_has_gold is None
    assert (overall.unanswerable_declined, unanswerable.unanswerable_declined) == (0.5, 0.5)
    assert answerable.unanswerable_declined is None and unanswerable.answerable_declined is None
    assert (overall.latency_p50, overall.latency_p95) == pytest.approx((0.3, 0.48))
    assert (answerable.latency_p50, answerable.latency_p95) == pytest.approx((0.2, 0.29))
    assert (unanswerable.latency_p50, unanswerable.latency_p95) == pytest.approx((0.45, 0.495))
    points = tradeoff(_scored_run(tiny_file).results)
    assert [p.threshold for p in points] == [0.2, 0.3, 0.6, 0.7, 0.9, math.inf]
    assert [p.unanswerable_declined for p in points] == [0.0, 0.5, 0.5, 0.5, 1.0, 1.0]
    assert [p.answerable_kept for p in points] == pytest.approx([1.0, 1.0, 2 / 3, 1 / 3, 1 / 3, 0.0])


def test_table_json_jsonl_and_plot(tiny_file: Path, tmp_path: Path) -> None:
    run = _scored_run(tiny_file)
    table = format_table(run)
    assert "5 questions (3 answerable, 2 unanswerable)" in table
    assert "indexed 2 documents into 3 chunks in 1.5s" in table
    lines = {line[11:41].strip(): line[41:].split() for line in table.splitlines()[4:]}
    assert lines["gold span in top-1"] == ["33.3%", "33.3%", "-"]
    assert lines["MRR@10"] == ["0.500", "0.500", "-"]
    assert lines["verbatim"] == ["75.0%", "66.7%", "100.0%"]
    assert lines["unanswerable declined"] == ["50.0%", "-", "50.0%"]
    assert lines["latency p95 (s)"] == ["0.480", "0.290", "0.495"]
    data = to_json(run)
    assert data["groups"]["overall"]["hit_at"]["3"] == pytest.approx(2 / 3)
    assert data["groups"]["unanswerable"]["citations_verbatim"] == 1.0
    assert json.loads(json.dumps(data)) == data
    paths = write_outputs(run, tmp_path / "out")
    assert [p.name for p in paths] == ["results.jsonl", "summary.json", "eval.png"]
    records = [json.loads(line) for line in paths[0].read_text(encoding="utf-8").splitlines()]
    assert [r["hit"] for r in records] == [True, False, True, True, False]
    assert [r["id"] for r in records] == ["q1", "q2", "q3", "q4", "q5"]
    assert records[2]["gold"] == ["Sicily"] and records[2]["citations"][1]["verbatim"] is False
    assert paths[2].read_bytes().startswith(b"\x89PNG")


def test_importing_the_command_stays_cheap() -> None:
    code = "import sys, assistant.evaluation.command; print(any(m in sys.modules for m in ('torch', 'chromadb')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# --- end to end with the real assistant ----------------------------------------------------------------


def _in_unit_interval(value: object) -> bool:
    return value is None or 0.0 <= value <= 1.0  # type: ignore[operator]


@pytest.mark.slow
def test_run_eval_end_to_end_never_touches_the_users_index(
    tiny_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from assistant.evaluation.runner import run_eval

    user_index = tmp_path / "user-index"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("ASSISTANT_INDEX_PATH", str(user_index))
    monkeypatch.setenv("ASSISTANT_COLLECTION", "documents")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    seen = []

    class Recorder:
        def started(self, questions: int) -> None:
            seen.append(questions)

        def question_done(self, result: object) -> None:
            seen.append(result)

    run = run_eval(tiny_file, progress=Recorder())
    assert seen[0] == 5 and len(seen) == 6
    groups = summarize(run.results)
    for group in groups.values():
        values = [*group.hit_at.values(), group.mrr, group.exact_match, group.f1, group.quote_has_gold]
        values += [group.citations_verbatim, group.citations_overlap_gold]
        values += [group.unanswerable_declined, group.answerable_declined]
        assert all(_in_unit_interval(value) for value in values)
        assert group.latency_p50 is not None and group.latency_p95 >= group.latency_p50 > 0
    assert groups["overall"].citations > 0 and groups["overall"].citations_verbatim == 1.0
    assert groups["answerable"].hit_at[10] == 1.0  # three short articles: every chunk is in the top 10
    assert run.documents == 2 and run.chunks >= 2 and run.indexing_seconds > 0
    assert run.system == "assistant (extractive)"
    assert not user_index.exists() and not (tmp_path / ".chroma").exists()
    assert not list(scratch.glob("assistant-eval-*"))  # the private index folder was removed


@pytest.mark.slow
def test_eval_command_prints_json_and_writes_the_outputs(
    tiny_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from assistant.evaluation.command import add_eval_command, run_eval_command

    monkeypatch.chdir(tmp_path)
    parser = argparse.ArgumentParser()
    add_eval_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["eval", str(tiny_file), "--limit", "3", "--json", "--out", str(tmp_path / "out")])
    assert run_eval_command(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["groups"]["overall"]["questions"] == 3 and data["config"]["top_k"] == 5
    assert len((tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()) == 3
    assert (tmp_path / "out" / "eval.png").exists() and not (tmp_path / ".chroma").exists()
