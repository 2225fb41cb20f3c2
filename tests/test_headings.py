"""Headings are read as the context of the sentences under them and never quoted alone: a clause's number and title,
a page's title line, a heading on a line of its own."""

from __future__ import annotations

import pytest

from assistant.headings import is_heading, read_under_headings
from assistant.models import Passage
from assistant.sentences import passage_sentences
from index.sentences import sentence_spans


@pytest.mark.parametrize(
    "piece",
    [
        "15.",
        "(b)",
        "IV.",
        "Article 4",
        "Section 2.1:",
        "Late delivery.",
        "Limitation of liability.",
        "Warranty",
        "## Warranty",
        "**Term**",
    ],
)
def test_enumerators_and_short_titles_are_headings(piece: str) -> None:
    assert is_heading(piece)


@pytest.mark.parametrize(
    "piece",
    [
        "It failed.",  # a pronoun and a verb: a sentence
        "The minister spoke to reporters in Prague.",  # six words and a full stop: a sentence
        "Prices are fixed.",
        "Who pays for shipping?",  # a question
        "Rent, deposit and fees.",  # a list is no title
        "The Supplier shall deliver the Products to the Delivery Address on the stated delivery date.",  # too long
        "warranty",  # no capital
        "",
    ],
)
def test_sentences_questions_and_long_lines_are_not(piece: str) -> None:
    assert not is_heading(piece)


def read(text: str) -> list[tuple[str, str]]:
    return [(text[s.span.start : s.span.end], s.heading) for s in read_under_headings(text, sentence_spans(text))]


def test_a_clause_number_and_title_become_the_context_of_every_sentence_of_the_clause() -> None:
    text = "5. Late delivery. The Supplier pays 0.5% a week. Where the delay exceeds eight weeks, the order ends."
    assert read(text) == [
        ("The Supplier pays 0.5% a week.", "5. Late delivery."),
        ("Where the delay exceeds eight weeks, the order ends.", "5. Late delivery."),
    ]


def test_a_title_line_opens_only_the_paragraph_after_it() -> None:
    text = "Warranty\nThe goods are free from defects for 24 months.\n\nNotices go by email."
    assert read(text) == [
        ("The goods are free from defects for 24 months.", "Warranty"),
        ("Notices go by email.", ""),
    ]


def test_a_markdown_heading_opens_its_section() -> None:
    text = "## Warranty\n\nThe goods are free from defects for 24 months."
    assert read(text) == [("The goods are free from defects for 24 months.", "## Warranty")]


def test_a_list_of_short_lines_stays_quotable() -> None:
    text = "Board members\nAnna Berg\nJohn Smith\nMaria Lund\nThe board meets in March."
    assert read(text) == [
        ("Board members", ""),
        ("Anna Berg", ""),
        ("John Smith", ""),
        ("Maria Lund", ""),
        ("The board meets in March.", ""),
    ]


def test_a_heading_with_nothing_after_it_and_table_rows_stay_sentences() -> None:
    assert read("The end") == [("The end", "")]
    table = "Item | Unit price\nGadget | 12 EUR"
    assert read(table) == [("Item | Unit price", ""), ("Gadget | 12 EUR", "")]


def test_sentences_of_passages_carry_their_heading() -> None:
    text = "15. Assignment. Neither party may assign this Agreement."
    passage = Passage("c1", "doc", "contract.txt", "contract", 40, 40 + len(text), text, None, 1, 1.0)
    (sentence,) = passage_sentences([passage])
    assert sentence.text == "Neither party may assign this Agreement."
    assert sentence.heading == "15. Assignment." and sentence.start == 40 + len("15. Assignment. ")
