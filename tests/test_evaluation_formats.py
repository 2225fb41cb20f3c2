"""`assistant eval` beyond clean SQuAD: messy SQuAD files, ClapNQ JSONL files and folders, the word-overlap hit rule,
and documents that cannot be indexed (reported and skipped)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import PASSAGES, QUESTIONS, HashingEmbedder, require_eval_data

from assistant.evaluation import metrics
from assistant.evaluation.clapnq import load_clapnq
from assistant.evaluation.loading import load_eval_set
from assistant.evaluation.report import format_table, to_json
from assistant.evaluation.results import score_question, summarize
from assistant.evaluation.runner import EvalRun, SkippedDocument, run_eval
from assistant.evaluation.squad import load_squad, parse_squad
from assistant.settings import Settings

NILE = "The Nile is the longest river in Africa . It flows north into the Mediterranean Sea . "
ETNA = "Mount Etna is an active volcano on the island of Sicily . It last erupted in 2023 . "
AMAZON = "The Amazon carries more water than any other river . Its basin covers much of Brazil . "


def clapnq_record(qid: str, question: str, title: str, text: str, *selections: list[str]) -> dict:
    """One ClapNQ line: one output per annotator's selection; no selection makes an unanswerable question."""
    outputs = [{"answer": " ".join(chosen), "selected_sentences": chosen} for chosen in selections]
    passage = {"title": title, "text": text, "sentences": [s + " ." for s in text.split(" . ") if s.strip()]}
    return {"id": qid, "input": question, "passages": [passage], "output": outputs or [{"answer": ""}]}


NILE_GOLD = "The Nile is the longest river in Africa ."
ETNA_GOLD = "Mount Etna is an active volcano on the island of Sicily ."
ANSWERABLE = [
    clapnq_record("a1", "which river is the longest in africa", "Nile", NILE, [NILE_GOLD]),
    clapnq_record("a2", "where is mount etna", "Mount Etna", ETNA, [], [ETNA_GOLD]),  # the second annotator's
]
UNANSWERABLE = [
    clapnq_record("u1", "how many tourists visit mount etna each year", "Mount Etna", ETNA),
    clapnq_record("u2", "who found the source of the amazon", "Amazon", AMAZON, []),
]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


@pytest.fixture
def clapnq_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "clapnq"
    folder.mkdir()
    write_jsonl(folder / "clapnq_answerable.jsonl", ANSWERABLE)
    write_jsonl(folder / "clapnq_unanswerable.jsonl", UNANSWERABLE)
    return folder


# --- reading ---------------------------------------------------------------------------------------------------


def test_messy_squad_contexts_stay_exact_and_their_answers_are_found() -> None:
    padded = "  \r\n\tMount\u00a0Etna is on Sicily.\r\nIt erupts.  \r\n"
    golds = {"off": ("Sicily", padded.index("Sicily") + 2), "nbsp": ("Mount Etna", 4)}
    golds |= {"crlf": ("Sicily. It erupts", "20"), "gone": ("Vesuvius", 0)}
    qas = [{"id": k, "question": "?", "answers": [{"text": t, "answer_start": at}]} for k, (t, at) in golds.items()]
    paragraphs = [{"context": padded, "qas": qas}, {"context": " x "}]
    data = parse_squad({"data": [{"title": "Etna", "paragraphs": paragraphs}]}, "messy")
    (document,) = data.documents
    assert document.text == padded + "\n\n" + " x "  # never stripped or normalised
    spans = {q.id: [(g.start, g.end, g.text) for g in q.answers] for q in data.questions}
    sicily = padded.index("Sicily")
    assert spans["off"] == [(sicily, sicily + 6, "Sicily")]  # answer_start two off: the nearest occurrence
    assert spans["nbsp"] == [(5, 15, "Mount\u00a0Etna")]  # typed with a plain space
    assert spans["crlf"] == [(sicily, sicily + 18, "Sicily.\r\nIt erupts")]
    assert spans["gone"] == [] and [q.is_impossible for q in data.questions] == [False, False, False, True]
    assert all(document.text[g.start : g.end] == g.text for q in data.questions for g in q.answers)


def test_squad_files_with_a_byte_order_mark_or_crlf_read(tmp_path: Path) -> None:
    squad = {"data": [{"title": "T", "paragraphs": [{"context": ETNA, "qas": [{"question": "Q?", "answers": []}]}]}]}
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(squad, indent=1).replace("\n", "\r\n").encode())
    assert load_squad(path).documents[0].text == ETNA
    lines = tmp_path / "lines.json"
    write_jsonl(lines, ANSWERABLE)
    with pytest.raises(ValueError, match=r"lines.json is not valid JSON: .*\.jsonl"):
        load_squad(lines)


def test_clapnq_passages_become_titled_documents_once_with_gold_sentence_spans(clapnq_folder: Path) -> None:
    data = load_eval_set(clapnq_folder)
    assert (data.name, data.kind) == ("clapnq", "clapnq")
    nile, etna, amazon = data.documents  # the Etna passage of a2 and u1 is one document
    assert [d.text for d in data.documents] == [f"Nile\n{NILE}", f"Mount Etna\n{ETNA}", f"Amazon\n{AMAZON}"]
    assert [d.title for d in data.documents] == ["Nile", "Mount Etna", "Amazon"]
    by_id = {q.id: q for q in data.questions}
    assert [q.id for q in data.questions] == ["a1", "a2", "u1", "u2"]
    assert [q.is_impossible for q in data.questions] == [False, False, True, True]
    assert [q.document_id for q in data.questions] == [nile.id, etna.id, etna.id, amazon.id]
    (first,) = by_id["a1"].answers
    assert (first.document_id, first.start, first.text) == (nile.id, 5, "The Nile is the longest river in Africa .")
    (second,) = by_id["a2"].answers  # chosen by the second annotator only
    assert etna.text[second.start : second.end] == second.text == ETNA[: ETNA.index(" It")]
    assert by_id["u1"].answers == by_id["u2"].answers == ()
    assert load_eval_set([clapnq_folder / "clapnq_unanswerable.jsonl"]).answerable == 0
    both = load_eval_set(sorted(clapnq_folder.iterdir()))
    assert both.name == "clapnq_answerable+clapnq_unanswerable"
    assert (both.documents, both.questions) == (data.documents, data.questions)


def test_unreadable_inputs_are_one_line_errors_naming_the_file(clapnq_folder: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(ANSWERABLE[0]) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken.jsonl:2: not valid JSON"):
        load_clapnq(broken)
    write_jsonl(broken, [{"input": "q", "passages": []}])
    with pytest.raises(ValueError, match=r"broken.jsonl:1: no passage text"):
        load_clapnq(broken)
    write_jsonl(broken, [{"passages": [{"title": "t", "text": "x"}]}])
    with pytest.raises(ValueError, match=r"broken.jsonl:1: no question"):
        load_clapnq(broken)
    squad = tmp_path / "squad.json"
    squad.write_text(json.dumps({"data": [{"context": ETNA, "qas": [{"question": "Q?", "answers": []}]}]}), "utf-8")
    with pytest.raises(ValueError, match="cannot evaluate clapnq and squad files in one run"):
        load_eval_set([clapnq_folder, squad])
    with pytest.raises(ValueError, match="nowhere: no such file or folder"):
        load_eval_set(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty: the folder holds no .jsonl"):
        load_eval_set(tmp_path / "empty")


# --- the ClapNQ hit rule and report ----------------------------------------------------------------------------


def test_half_of_the_shorter_texts_words_make_a_match() -> None:
    assert metrics.words("The NILE, the river!") == {"the", "nile", "river"}
    assert metrics.shares_half_words("The Nile is long.", "the nile is the longest river in africa")  # 3 of 4
    assert metrics.shares_half_words("a b c d", "a b x y z")  # 2 of 4: exactly half
    assert not metrics.shares_half_words("a b c d e", "a b x y z w")  # 2 of 5
    assert not metrics.shares_half_words("Nile river", "The Amazon carries water")
    assert not metrics.shares_half_words("", "") and not metrics.shares_half_words("...", "the nile")
    assert metrics.quote_matches_evidence(["Sicily.", "The Nile is long."], ["The Nile is the longest river ."])
    assert not metrics.quote_matches_evidence([], ["The Nile"]) and not metrics.quote_matches_evidence(["x"], [])


def _clapnq_run(clapnq_folder: Path) -> EvalRun:
    """Hand-made answers: a1 right, a2 quoting the wrong sentence, u1 declined, u2 answered."""
    data = load_eval_set(clapnq_folder)
    texts = {d.id: d.text for d in data.documents}
    nile, etna, amazon = data.documents
    q = {question.id: question for question in data.questions}

    def cite(document_id: str, quote: str) -> tuple[int, str, int, int, str]:
        start = texts[document_id].index(quote)
        return 1, document_id, start, start + len(quote), quote

    def answer(question: str, answered: bool, quotes: list, retrieved: list, seconds: float):
        text = " ".join(f"{quote[4]} [1]" for quote in quotes) or "declined"
        return score_question(q[question], text, answered, 0.5, quotes, retrieved, seconds, texts, "clapnq")

    results = [
        answer("a1", True, [cite(nile.id, "The Nile is the longest river in Africa")], [(nile.id, 0, 99)], 0.1),
        answer("a2", True, [cite(etna.id, "It last erupted in 2023")], [(amazon.id, 0, 9), (etna.id, 0, 99)], 0.2),
        answer("u1", False, [], [(etna.id, 0, 99)], 0.3),
        answer("u2", True, [cite(amazon.id, "The Amazon carries more water")], [], 0.4),
    ]
    skipped = [SkippedDocument("clapnq:untitled#0123", "no text could be extracted", 2)]
    return EvalRun("clapnq", "assistant (test)", str(clapnq_folder), 3, 3, 1.0, 0.48, {}, results, "clapnq", skipped)


def test_clapnq_answers_are_scored_by_their_quotes(clapnq_folder: Path) -> None:
    a1, a2, u1, u2 = _clapnq_run(clapnq_folder).results
    assert [r.hit for r in (a1, a2, u1, u2)] == [True, False, True, False]
    assert [r.gold_rank for r in (a1, a2, u1, u2)] == [1, 2, None, None]
    assert [c.overlaps_gold for c in (*a1.citations, *a2.citations)] == [True, False]
    assert a1.citations[0].verbatim and a2.citations[0].verbatim and u2.citations[0].verbatim
    assert (a1.exact_match, a1.f1) == (None, None)  # ClapNQ's gold is sentences, not answer strings
    groups = summarize([a1, a2, u1, u2])
    assert groups["answerable"].quote_has_gold == 0.5 and groups["answerable"].answerable_declined == 0.0
    assert groups["unanswerable"].unanswerable_declined == 0.5 and groups["overall"].exact_match is None


def test_clapnq_table_and_json(clapnq_folder: Path) -> None:
    run = _clapnq_run(clapnq_folder)
    table = format_table(run)
    assert "on clapnq: 4 questions (2 answerable, 2 unanswerable)" in table
    assert "skipped 1 document that could not be indexed (2 questions not asked)" in table
    lines = {line[11:41].strip(): line[41:].split() for line in table.splitlines() if len(line) > 41}
    assert lines["gold sentence in top-1"] == ["50.0%", "50.0%", "-"]
    assert lines["hit (quote ~ gold sentence)"] == ["50.0%", "50.0%", "-"]
    assert lines["answered"] == ["100.0%", "100.0%", "-"]
    assert lines["unanswerable declined"] == ["50.0%", "-", "50.0%"]
    assert "exact match" not in lines and "half of the words of the shorter" in table
    data = to_json(run)
    assert data["format"] == "clapnq" and data["skipped_questions"] == 2
    (skipped,) = data["skipped_documents"]
    assert skipped == {"source": "clapnq:untitled#0123", "reason": "no text could be extracted", "questions": 2}
    headline = data["headline"]
    rates = [headline[name] for name in ("answerable_hit", "answerable_answered", "unanswerable_declined")]
    assert rates == [0.5, 1.0, 0.5]
    assert json.loads(json.dumps(data)) == data


# --- runs ------------------------------------------------------------------------------------------------------


def test_run_on_a_clapnq_folder(clapnq_folder: Path) -> None:
    run = run_eval(clapnq_folder, Settings(), embedder=HashingEmbedder())
    assert (run.kind, run.name, run.documents, run.skipped) == ("clapnq", "clapnq", 3, [])
    assert [r.id for r in run.results] == ["a1", "a2", "u1", "u2"]
    groups = summarize(run.results)
    assert groups["answerable"].hit_at[10] == 1.0  # three one-chunk documents: every chunk is in the top 10
    assert groups["overall"].citations > 0 and groups["overall"].citations_verbatim == 1.0
    assert to_json(run)["headline"]["answerable_answered"] is not None


def test_a_document_that_cannot_be_indexed_is_reported_and_its_questions_skipped(tmp_path: Path) -> None:
    blank = {"title": "Blank", "paragraphs": [{"context": " \r\n\u00a0 ", "qas": [{"id": "b", "question": "?"}]}]}
    nile = {"title": "Nile", "paragraphs": [{"context": NILE, "qas": [{"id": "n", "question": "Longest?"}]}]}
    path = tmp_path / "blank.json"
    path.write_text(json.dumps({"data": [blank, nile]}), encoding="utf-8")
    reported: list[SkippedDocument] = []
    run = run_eval(path, Settings(), embedder=HashingEmbedder(), on_skip=reported.append)
    assert reported == run.skipped == [SkippedDocument("squad:blank/0:Blank", "no text could be extracted", 1)]
    assert [r.id for r in run.results] == ["n"] and run.documents == 1
    assert "skipped 1 document that could not be indexed (1 question not asked)" in format_table(run)


def _squad_of(articles: list[list[tuple[str, str, str]]], pad) -> dict:
    """Articles of (context, question, answer) paragraphs; `pad(i, context)` gives the context and its shift."""
    data, number = [], 0
    for index, paragraphs in enumerate(articles):
        written = []
        for context, question, answer in paragraphs:
            messy, shift = pad(number, context)
            start = context.index(answer) + shift + number % 3 - 1  # off by one, either way, or exact
            qa = {"id": f"q{number}", "question": question, "answers": [{"text": answer, "answer_start": start}]}
            written.append({"context": messy, "qas": [qa]})
            number += 1
        data.append({"title": f"Article {index}", "paragraphs": written})
    return {"data": data}


ANSWERS = ["330 metres", "glucose and oxygen", "Queensland", "Marie Curie", "The Amazon river", "four strings",
           "8,849 metres", "yeast", "July 1969", "waggle dance", "The Rosetta Stone", "Sicilian Defence",
           "Alexander Fleming", "The Sahara", "320 km/h", "magma"]  # fmt: skip


def test_whitespace_padded_crlf_copy_retrieves_like_the_clean_file(tmp_path: Path) -> None:
    rows = list(zip(PASSAGES, QUESTIONS, ANSWERS, strict=True))
    articles = [rows[first : first + 4] for first in range(0, len(rows), 4)]

    def messy(number: int, context: str) -> tuple[str, int]:
        lead = ["  ", "\r\n", "\u00a0\t ", ""][number % 4]
        body = context.replace(" ", "\u00a0", 1).replace(", ", ",\r\n")
        return f"{lead}{body} \r\n\t", len(lead)

    clean_path, messy_path = tmp_path / "clean.json", tmp_path / "messy.json"
    clean_path.write_text(json.dumps(_squad_of(articles, lambda n, c: (c.replace(", ", ",\n"), 0))), "utf-8")
    messy_path.write_text(json.dumps(_squad_of(articles, messy)), encoding="utf-8")
    messy_data = load_squad(messy_path)
    assert all(len(q.answers) == 1 for q in messy_data.questions)
    golds = [gold for question in messy_data.questions for gold in question.answers]
    assert all(messy_data.text_of(gold.document_id)[gold.start : gold.end] == gold.text for gold in golds)
    small_chunks = Settings(chunk_size=200, chunk_overlap=50)  # two or three chunks an article: boundaries matter
    clean = run_eval(clean_path, small_chunks, embedder=HashingEmbedder())
    dirty = run_eval(messy_path, small_chunks, embedder=HashingEmbedder())
    assert dirty.skipped == [] and dirty.documents == clean.documents == 4 and dirty.chunks == clean.chunks > 8
    assert [r.gold_rank for r in dirty.results] == [r.gold_rank for r in clean.results]
    assert {r.gold_rank for r in clean.results} != {1}  # a ranking worth comparing
    clean_groups, dirty_groups = summarize(clean.results), summarize(dirty.results)
    assert dirty_groups["answerable"].hit_at == clean_groups["answerable"].hit_at
    assert dirty_groups["answerable"].mrr == clean_groups["answerable"].mrr
    assert dirty_groups["overall"].citations_verbatim == clean_groups["overall"].citations_verbatim == 1.0


# --- the command, and the real ClapNQ files -------------------------------------------------------------------


@pytest.mark.slow
def test_eval_command_on_a_clapnq_folder_reports_a_skipped_passage(
    clapnq_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.cli import main

    monkeypatch.chdir(tmp_path)
    write_jsonl(clapnq_folder / "clapnq_blank.jsonl", [clapnq_record("b1", "anything here", "", " \n ", [])])
    assert main(["eval", str(clapnq_folder), "--json", "--out", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert (data["format"], data["skipped_questions"], data["groups"]["overall"]["questions"]) == ("clapnq", 1, 4)
    assert set(data["headline"]) >= {"answerable_hit", "answerable_answered", "unanswerable_declined"}
    (skip_line,) = [line for line in captured.err.splitlines() if line.startswith("skipping ")]
    assert skip_line.startswith("skipping clapnq:untitled#")
    assert skip_line.endswith(": no text could be extracted (1 question)")
    records = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text("utf-8").splitlines()]
    assert [r["id"] for r in records] == ["a1", "a2", "u1", "u2"] and records[0]["gold"] == [NILE_GOLD]
    assert main(["eval", str(clapnq_folder / "clapnq_blank.jsonl")]) == 1  # nothing left to ask
    assert "1 document that could not be indexed" in capsys.readouterr().out


def test_the_real_clapnq_files_parse_exactly() -> None:
    folder = require_eval_data() / "clapnq-dev"
    data = load_eval_set(folder)
    assert (len(data.questions), data.answerable, len(data.documents)) == (600, 300, 597)
    golds = [gold for question in data.questions for gold in question.answers]
    assert all(data.text_of(gold.document_id)[gold.start : gold.end] == gold.text for gold in golds)
    assert sum(1 for question in data.questions if question.answers) == 299  # one answer selected no sentence
    assert all(document.text.split("\n", 1)[0] == document.title for document in data.documents)


def test_a_handful_of_real_clapnq_questions(tmp_path: Path, minilm) -> None:
    source = require_eval_data() / "clapnq-dev"
    for name in ("clapnq_dev_answerable.jsonl", "clapnq_dev_unanswerable.jsonl"):
        lines = (source / name).read_text(encoding="utf-8").splitlines()[:4]
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = run_eval(tmp_path, Settings(), embedder=minilm)
    groups = summarize(run.results)
    assert (run.kind, run.documents, run.skipped) == ("clapnq", 8, [])
    assert (groups["answerable"].questions, groups["unanswerable"].questions) == (4, 4)
    assert groups["answerable"].hit_at[5] == 1.0  # eight passages on eight subjects
    assert groups["answerable"].quote_has_gold >= 0.75  # 4 of 4 measured; one allowed to another CPU's bf16
    assert groups["overall"].citations > 0 and groups["overall"].citations_verbatim == 1.0
